//! Tests of the bundle verifier.
