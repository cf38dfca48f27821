//! callvault: a privacy-compliant vault for call recordings.
//!
//! Data moves one way: formats ▸ validate ▸ redact ▸ seal ▸ store + catalog ▸ audit on
//! ingest; authenticate ▸ authorize ▸ catalog ▸ store ▸ unseal ▸ view ▸ audit on read.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod config;
/// Regulator export bundles: BagIt, deterministic pax tar, age, SSHSIG.
pub mod export;
pub mod formats;
pub mod redact;
pub mod seal;
pub mod server;
pub mod store;
pub mod vault;
