//! Risk management on the web: the JSON API (`api.rs`), what both show of
//! a risk (`views.rs`), and the exports shared with the CLI (`export.rs`).

pub(crate) mod api;
pub mod export;
pub mod import;
pub mod quantitative;
pub(crate) mod views;
