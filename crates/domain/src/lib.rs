//! The domain layer of isms: plain types and pure rules, no I/O.
//!
//! Storage, web and CLI build on these; nothing here touches a database,
//! a socket or the clock.

pub mod audit;
pub mod document;
pub mod document_templates;
pub mod internal_audit;
pub mod invitation;
pub mod management_review;
pub mod nonconformity;
pub mod password;
#[macro_use]
pub mod risk;
pub mod risk_library;
pub mod role;
pub mod slug;
pub mod tasks;
pub mod training;

// After `risk`, whose enum macro it uses.
pub mod controls;

pub use role::{Permission, Role};
