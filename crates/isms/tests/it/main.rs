//! The integration tests: one binary (each file in tests/ would be a separate
//! link). Every storage test runs on SQLite, and on PostgreSQL when
//! `ISMS_TEST_POSTGRES_URL` is set.

mod support;

mod audit_log;
mod browser;
mod cli;
mod fair;
mod frameworks;
mod soa;
mod store;
mod web;
