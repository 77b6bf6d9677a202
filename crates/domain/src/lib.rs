//! The domain layer of isms: plain types and pure rules, no I/O.
//!
//! Storage, web and CLI build on these; nothing here touches a database,
//! a socket or the clock.

pub mod audit;
pub mod document;
pub mod document_templates;
pub mod invitation;
pub mod password;
pub mod risk;
pub mod risk_library;
pub mod role;
pub mod slug;

pub use role::{Permission, Role};
