//! Resolve an arbitrary profile (JSON) against a small embedded catalog. The profile itself
//! is also loadable as `self.json`, so circular imports get explored.
#![no_main]

use isms_oscal::{MemoryLoader, catalog_nodes, resolve_profile};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const CATALOG: &str = r##"{"catalog": {
  "uuid": "00000000-0000-4000-8000-000000000001",
  "metadata": {"title": "Fuzz catalog", "last-modified": "2024-01-01T00:00:00Z", "version": "1", "oscal-version": "1.1.2"},
  "params": [{"id": "loose", "label": "loose"}],
  "groups": [
    {"id": "g1", "title": "G1", "params": [{"id": "gp", "label": "gp"}],
     "controls": [
       {"id": "a1", "title": "A1", "params": [{"id": "a1_p", "label": "x", "select": {"choice": ["{{ insert: param, gp }}", "b"]}}],
        "props": [{"name": "label", "value": "A-1"}, {"name": "k", "value": "v", "class": "c", "ns": "https://example.com/ns"}],
        "links": [{"href": "#11111111-1111-4111-8111-111111111111", "rel": "reference"}],
        "parts": [{"id": "a1_smt", "name": "statement", "prose": "Do {{ insert: param, a1_p }} {{ insert: param, loose }}",
                   "parts": [{"id": "a1_smt.a", "name": "item", "props": [{"name": "label", "value": "a."}], "prose": "x"}]}],
        "controls": [{"id": "a1.1", "title": "A1(1)", "controls": [{"id": "a1.1.1", "title": "deep"}]}]},
       {"id": "a2", "title": "A2"}
     ],
     "groups": [{"id": "g1s", "title": "Sub", "controls": [{"id": "s1", "title": "S1"}]}]},
    {"id": "g2", "title": "G2", "controls": [{"id": "b1", "title": "B1"}, {"id": "b10", "title": "B10"}]}
  ],
  "back-matter": {"resources": [{"uuid": "11111111-1111-4111-8111-111111111111", "title": "r"}]}
}}"##;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let catalog: Value = serde_json::from_str(CATALOG).expect("embedded catalog");
    let loader = MemoryLoader::new()
        .with("catalog.json", catalog)
        .with("self.json", profile.clone());
    if let Ok(r) = resolve_profile(&profile, "self.json", &loader) {
        let _ = catalog_nodes(&r.catalog);
        let _ = serde_json::to_vec(&r.catalog);
    }
});
