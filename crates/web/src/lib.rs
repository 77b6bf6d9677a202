//! isms-web
