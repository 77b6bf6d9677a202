//! The integration tests: one binary (each file in tests/ would be a separate
//! link). Every storage test runs on SQLite, and on PostgreSQL when
//! `ISMS_TEST_POSTGRES_URL` is set.

// Tests favour directness over the pedantic style rules of the product code.
#![allow(
    clippy::format_push_string,
    clippy::many_single_char_names,
    clippy::items_after_statements,
    clippy::semicolon_if_nothing_returned,
    clippy::too_many_lines
)]

mod support;

mod audit_log;
mod backup;
mod browser;
mod browser_a11y;
mod browser_controls;
mod browser_documents;
mod browser_soa;
mod browser_training;
mod cli;
mod context;
mod control_reports;
mod controls;
mod documents;
mod evidence_store;
mod exports;
mod fair;
mod frameworks;
mod gap;
mod hardening_audit;
mod hardening_web;
mod internal_audit;
mod library_import;
mod notifications;
mod readiness;
mod resilience;
mod risk;
mod route_matrix;
mod settings;
mod soa;
mod store;
mod tasks;
mod training;
mod versioned;
mod web;
