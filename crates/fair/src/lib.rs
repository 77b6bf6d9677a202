//! isms-fair
