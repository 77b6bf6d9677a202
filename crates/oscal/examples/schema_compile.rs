//! Compile-time of the schema variants (for tuning; reads the schemas from shared data).
//!
//! `cargo run --release -p isms-oscal --example schema_compile -- SCHEMA_DIR`

use std::time::Instant;

use jsonschema::{Draft, PatternOptions};
use serde_json::Value;

fn main() {
    let dir = std::env::args().nth(1).expect("schema dir");
    for name in [
        "oscal_catalog_schema.json",
        "oscal_profile_schema.json",
        "oscal_complete_schema.json",
    ] {
        let text = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        let mut best = f64::MAX;
        let mut best_parse = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            let mut schema: Value = serde_json::from_str(&text).unwrap();
            best_parse = best_parse.min(t.elapsed().as_secs_f64() * 1000.0);
            if let Some(one_of) = schema.as_object_mut().unwrap().remove("oneOf") {
                for (k, v) in one_of[0].as_object().unwrap() {
                    schema[k] = v.clone();
                }
            }
            let v = jsonschema::options()
                .with_draft(Draft::Draft7)
                .with_pattern_options(PatternOptions::regex())
                .build(&schema)
                .unwrap();
            best = best.min(t.elapsed().as_secs_f64() * 1000.0);
            std::hint::black_box(v);
        }
        println!("{name}: parse {best_parse:.2} ms, parse+compile {best:.2} ms");
    }
}
