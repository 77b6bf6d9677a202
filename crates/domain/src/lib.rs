//! isms-domain
