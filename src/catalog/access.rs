//! Access requests, grants and the customer blind index.

use async_trait::async_trait;

/// Storage of access requests, grants and the blind index.
#[async_trait]
pub trait AccessStore: Send + Sync {}
