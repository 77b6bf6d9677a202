//! isms-store
