//! Offline verification of export bundles (see the verifier branch).
