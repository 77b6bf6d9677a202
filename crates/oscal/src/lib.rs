//! isms-oscal
