//! The mapping CSV parser must never panic: any bytes give mappings or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match isms_catalog::parse_mapping_csv("fuzz.csv", data) {
        Ok(mappings) => {
            assert!(!mappings.is_empty());
            let set = isms_catalog::MappingSet::new(mappings);
            let first = &set.all()[0];
            assert!(!set.targets_of(&first.source_framework, &first.source_ref, None).is_empty());
            let _ = set.links_of(&first.target_framework, &first.target_ref, None);
        }
        Err(e) => assert!(!e.issues.is_empty()),
    }
});
