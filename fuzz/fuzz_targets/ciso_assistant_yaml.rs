//! The CISO Assistant library importer must never panic: any bytes give a library or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match isms_catalog::import_ciso_assistant("fuzz.yaml", data) {
        Ok(lib) => {
            if let Some(tree) = &lib.framework {
                assert!(!tree.nodes.is_empty(), "a framework without nodes was accepted");
            }
        }
        Err(e) => assert!(!e.issues.is_empty()),
    }
});
