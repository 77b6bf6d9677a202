//! Parse (JSON or OSCAL XML), detect the model and validate against the OSCAL 1.1.2 schema;
//! on success also flatten it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(doc) = isms_oscal::parse_document(data, "fuzz-input") {
        let _ = isms_oscal::catalog_nodes(&doc.value);
    }
});
