//! [`AccessStore`] for SQLite.

use super::SqliteCatalog;
use crate::catalog::AccessStore;

impl AccessStore for SqliteCatalog {}
