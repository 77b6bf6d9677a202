//! OSCAL XML to the OSCAL JSON model (placeholder, filled below).

use serde_json::Value;

use crate::error::OscalError;

pub fn xml_to_json(_bytes: &[u8], file_name: &str) -> Result<Value, OscalError> {
    Err(OscalError::UnknownDocument {
        file: file_name.to_string(),
        message: "XML is not supported yet".into(),
    })
}
