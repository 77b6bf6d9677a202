//! Internal audits, nonconformities and management reviews: the API, and
//! the exports shared by the pages, the API and the CLI
//! (`isms report audit`, `isms report management-review`).

pub mod api;
pub mod export;
pub mod nc_api;
pub mod review_api;
