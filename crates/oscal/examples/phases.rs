//! Where the time of `oscal resolve` goes (for tuning): parse, schema compile, validation,
//! resolution, output validation, serialisation.
//!
//! `cargo run --release -p isms-oscal --example phases -- CATALOG PROFILE`

use std::time::Instant;

use isms_oscal::{DocumentKind, Loaded, Loader, OscalError, parse_json, resolve_profile, schema};
use serde_json::Value;

/// Hands the catalog over once (no clone, like the file loader).
struct One(std::cell::RefCell<Option<Value>>);
impl Loader for One {
    fn load(&self, _: &str, _: &str) -> Result<Loaded, OscalError> {
        Ok(Loaded {
            id: "catalog".into(),
            document: self.0.borrow_mut().take().expect("imported once"),
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let t = Instant::now();
    let lap = |what: &str, t: &mut Instant| {
        eprintln!("{what:>28}: {:6.2} ms", t.elapsed().as_secs_f64() * 1000.0);
        *t = Instant::now();
    };
    let mut t0 = t;
    let bytes = std::fs::read(&args[1]).unwrap();
    let pbytes = std::fs::read(&args[2]).unwrap();
    lap("read files", &mut t0);
    let catalog = parse_json(&bytes, "catalog").unwrap();
    lap("parse catalog JSON", &mut t0);
    let profile = parse_json(&pbytes, "profile").unwrap();
    lap("parse profile JSON", &mut t0);
    schema::validator(DocumentKind::Catalog);
    lap("compile catalog schema", &mut t0);
    schema::validator(DocumentKind::Profile);
    lap("compile profile schema", &mut t0);
    assert!(schema::validator(DocumentKind::Catalog).is_valid(&catalog));
    lap("validate catalog", &mut t0);
    assert!(schema::validator(DocumentKind::Profile).is_valid(&profile));
    lap("validate profile", &mut t0);
    let loader = One(std::cell::RefCell::new(Some(catalog)));
    let r = resolve_profile(&profile, "p", &loader).unwrap();
    lap("resolve", &mut t0);
    assert!(schema::validator(DocumentKind::Catalog).is_valid(&r.catalog));
    lap("validate output", &mut t0);
    let out = serde_json::to_vec_pretty(&r.catalog).unwrap();
    lap("serialise pretty", &mut t0);
    std::fs::write("/dev/null", &out).unwrap();
    eprintln!(
        "{:>28}: {:6.2} ms",
        "total",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
