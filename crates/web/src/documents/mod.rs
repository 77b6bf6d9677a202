//! Documented information on the web: the JSON API (`api.rs`), the safe
//! Markdown renderer (`markdown.rs`) and the exports shared with the CLI
//! (`export.rs`).

pub(crate) mod api;
pub mod export;
pub mod markdown;
pub mod remind;
