//! Converting any JSON document into a framework tree must never panic (schema validation is
//! done elsewhere; this target feeds the converter documents that are not valid OSCAL).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(tree) = isms_catalog::import_oscal_catalog("fuzz.json", &doc, None) {
        assert!(!tree.nodes.is_empty());
        assert_eq!(tree.depths().len(), tree.nodes.len());
    }
});
