//! isms-catalog
