//! Integration tests of isms-oscal against the NIST data in testdata/ (one test binary).

mod bad_input;
mod cli;
mod nist;
mod spec;

use std::path::PathBuf;

/// `testdata/` of the repository (a copy of the shared NIST data; sources in testdata/SOURCES.md).
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata")).join(rel)
}

pub fn read(rel: &str) -> Vec<u8> {
    std::fs::read(data(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}
