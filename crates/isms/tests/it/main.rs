//! The integration tests: one binary (each file in tests/ would be a separate
//! link). Every storage test runs on SQLite, and on PostgreSQL when
//! `ISMS_TEST_POSTGRES_URL` is set.

mod support;

mod audit_log;
mod browser;
mod browser_soa;
mod cli;
mod context;
mod fair;
mod frameworks;
mod gap;
mod readiness;
mod soa;
mod store;
mod web;
