//! Risk management on the web: the JSON API (`api.rs`), the pages
//! (`pages.rs`) and what both show of a risk (`views.rs`).

pub(crate) mod api;
pub(crate) mod views;
