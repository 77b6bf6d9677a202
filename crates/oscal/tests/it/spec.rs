//! NIST's profile-resolution specification tests (XML): each profile is resolved (imports
//! read from the XML files beside it) and compared with the expected output on structure:
//! groups, control ids and nesting, order, parameter ids, part ids, back-matter uuids.

use isms_oscal::cli::FileLoader;
use isms_oscal::xml::xml_to_json;
use isms_oscal::{OscalError, resolve_profile};
use serde_json::Value;

use crate::{data, read};

const DIR: &str = "oscal/profile-resolution-spec-tests";

fn shape(cat: &Value) -> Vec<String> {
    fn ids(v: &Value, key: &str, field: &str) -> String {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| {
                x[field]
                    .as_str()
                    .or(x["name"].as_str())
                    .unwrap_or("")
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(",")
    }
    fn control(c: &Value, depth: usize, out: &mut Vec<String>) {
        out.push(format!(
            "{}control {} params[{}] parts[{}]",
            "  ".repeat(depth),
            c["id"].as_str().unwrap_or(""),
            ids(c, "params", "id"),
            ids(c, "parts", "id")
        ));
        for x in c["controls"].as_array().into_iter().flatten() {
            control(x, depth + 1, out);
        }
    }
    fn group(g: &Value, depth: usize, out: &mut Vec<String>) {
        let name = g["id"].as_str().or(g["title"].as_str()).unwrap_or("");
        out.push(format!("{}group {name}", "  ".repeat(depth)));
        for x in g["controls"].as_array().into_iter().flatten() {
            control(x, depth + 1, out);
        }
        for x in g["groups"].as_array().into_iter().flatten() {
            group(x, depth + 1, out);
        }
    }
    let mut out = vec![format!("params[{}]", ids(cat, "params", "id"))];
    for x in cat["controls"].as_array().into_iter().flatten() {
        control(x, 0, &mut out);
    }
    for x in cat["groups"].as_array().into_iter().flatten() {
        group(x, 0, &mut out);
    }
    let bm = cat
        .pointer("/back-matter/resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| r["uuid"].as_str().unwrap_or("").to_string())
        .collect::<Vec<_>>();
    out.push(format!("back-matter[{}]", bm.join(",")));
    out
}

fn resolve_case(dir: &str, name: &str) -> Result<Value, OscalError> {
    let rel = format!("{DIR}/{dir}/{name}.xml");
    let profile = xml_to_json(&read(&rel), &rel)?;
    let loader = FileLoader {
        catalogs: Vec::new(),
        validate: false,
    };
    let source = data(&rel).display().to_string();
    resolve_profile(&profile, &source, &loader).map(|r| r.catalog)
}

fn check(dir: &str, name: &str) {
    let ours = resolve_case(dir, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let rel = format!("{DIR}/{dir}/output-expected/{name}_RESOLVED.xml");
    let expected = xml_to_json(&read(&rel), &rel).unwrap();
    assert_eq!(
        shape(&ours["catalog"]),
        shape(&expected["catalog"]),
        "{dir}/{name}"
    );
}

/// The cases whose expected output is consistent with the OSCAL 1.1 specification.
#[test]
fn requirement_tests() {
    for name in [
        "req-include-all-asis",
        "req-include-all-flat",
        "req-include-by-id",
        "req-include-by-match",
        "req-include-by-match-empty",
        "req-include-exclude1",
        "req-include-exclude2",
        "req-include-exclude3",
        "req-include-exclude4",
        "req-include-exclude5",
        "req-with-child-controls-no",
        "req-with-child-controls-none",
        "req-loose-params1",
        "req-loose-params2",
        "req-merge-usefirst2",
        "req-modify-alter-remove-match1",
        "req-modify-alter-remove-match2",
        "req-chained-all-asis",
        "req-import-by-resource",
        "keep-everything-twice",
    ] {
        check("requirement-tests", name);
    }
}

#[test]
fn profile_resolution_examples() {
    for name in [
        "base2-test_profile",
        "import-twice_profile",
        "include-match-test_profile",
        "merge-implicit-keep_profile",
        "merge-keep_profile",
        "modify-adds_profile",
    ] {
        check("profile-resolution-examples", name);
    }
}

#[test]
fn circular_imports_fail_with_the_chain() {
    for (dir, name) in [
        ("requirement-tests", "req-circular_import"),
        ("profile-resolution-examples", "circular_profile"),
        ("profile-resolution-examples", "home_profile"),
    ] {
        match resolve_case(dir, name) {
            Err(OscalError::CircularImport { chain }) => {
                assert_eq!(chain.first(), chain.last(), "{chain:?}");
                assert!(chain.len() >= 3, "{chain:?}");
            }
            other => panic!("{name}: expected a circular import error, got {other:?}"),
        }
    }
}

#[test]
fn broken_imports_fail_naming_the_href() {
    for (dir, name, href) in [
        (
            "profile-resolution-examples",
            "broken_profile",
            "missing_profile.xml",
        ),
        (
            "requirement-tests",
            "req-broken-import",
            "catalogs/missing-catalog.xml",
        ),
        (
            "requirement-tests",
            "req-missing-resource",
            "#449ce77c-24d3-4740-b0bd-1b37239437f0",
        ),
    ] {
        let err = resolve_case(dir, name).unwrap_err();
        assert!(
            matches!(err, OscalError::BrokenImport { .. }),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(href), "{name}: {err}");
    }
}

#[test]
fn xml_entities_are_not_expanded() {
    // The spoofing test declares an external entity; we refuse it instead of reading files.
    let err = resolve_case("requirement-tests", "req-spoofing-resource").unwrap_err();
    assert!(matches!(err, OscalError::Syntax { .. }), "{err}");
    assert!(err.to_string().contains("&spoof;"), "{err}");
}

#[test]
fn modify_adds_example_content() {
    // Beyond structure: the added parts, props and the replaced title are where the
    // expected output has them.
    let ours = resolve_case("profile-resolution-examples", "modify-adds_profile").unwrap();
    let rel = format!(
        "{DIR}/profile-resolution-examples/output-expected/modify-adds_profile_RESOLVED.xml"
    );
    let expected = xml_to_json(&read(&rel), &rel).unwrap();
    let strip = |v: &Value| {
        let mut c = v["catalog"].clone();
        c.as_object_mut()
            .unwrap()
            .retain(|k, _| k == "controls" || k == "groups");
        c
    };
    assert_eq!(strip(&ours), strip(&expected));
}
