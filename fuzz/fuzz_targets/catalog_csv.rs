//! The customer CSV importer must never panic: any bytes give a tree or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fw = isms_catalog::framework_from_file_name("fuzz.csv");
    match isms_catalog::import_catalog_csv("fuzz.csv", data, fw) {
        Ok(tree) => {
            // A tree that passed validation is in pre-order with known parents.
            let mut seen = std::collections::HashSet::new();
            for n in &tree.nodes {
                if let Some(p) = &n.parent_ref_id {
                    assert!(seen.contains(p.as_str()), "parent after child");
                }
                assert!(seen.insert(n.ref_id.as_str()), "duplicate ref id accepted");
            }
        }
        Err(e) => assert!(!e.issues.is_empty()),
    }
});
