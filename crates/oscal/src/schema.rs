//! Validation against the embedded OSCAL 1.1.2 JSON schema.
//!
//! The complete ("unified") schema is embedded once. Its root is a `oneOf` over the seven
//! models, which gives useless errors ("not valid under any of the schemas") for a broken
//! catalog. So for each model we build a schema whose root only allows that model's key and
//! compile it once per process, on first use.

use std::sync::OnceLock;

use jsonschema::{Draft, PatternCache, PatternOptions, Validator};
use serde_json::Value;

use crate::error::{OscalError, SchemaViolation};

/// The OSCAL complete JSON schema, version 1.1.2 (NIST, public domain).
pub const COMPLETE_SCHEMA: &str = include_str!("../schema/oscal_complete_schema.json");

/// How many violations a report carries at most.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// The OSCAL models, by their root key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Catalog,
    Profile,
    ComponentDefinition,
    SystemSecurityPlan,
    AssessmentPlan,
    AssessmentResults,
    PlanOfActionAndMilestones,
}

impl DocumentKind {
    /// All kinds, in the order of the schema's root `oneOf`.
    pub const ALL: [DocumentKind; 7] = [
        DocumentKind::Catalog,
        DocumentKind::Profile,
        DocumentKind::ComponentDefinition,
        DocumentKind::SystemSecurityPlan,
        DocumentKind::AssessmentPlan,
        DocumentKind::AssessmentResults,
        DocumentKind::PlanOfActionAndMilestones,
    ];

    /// The root key of the JSON document, e.g. `catalog`.
    pub fn root_key(self) -> &'static str {
        match self {
            DocumentKind::Catalog => "catalog",
            DocumentKind::Profile => "profile",
            DocumentKind::ComponentDefinition => "component-definition",
            DocumentKind::SystemSecurityPlan => "system-security-plan",
            DocumentKind::AssessmentPlan => "assessment-plan",
            DocumentKind::AssessmentResults => "assessment-results",
            DocumentKind::PlanOfActionAndMilestones => "plan-of-action-and-milestones",
        }
    }

    /// The kind for a root key.
    pub fn from_root_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.root_key() == key)
    }

    /// Detect the kind of a parsed document from its root key (ignoring `$schema`).
    pub fn detect(doc: &Value) -> Result<Self, String> {
        let Some(obj) = doc.as_object() else {
            return Err("the root is not a JSON object".into());
        };
        let keys: Vec<&str> = obj
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "$schema")
            .collect();
        match keys.as_slice() {
            [key] => Self::from_root_key(key).ok_or_else(|| {
                format!(
                    "unknown root key {key:?} (expected one of: {})",
                    Self::ALL.map(Self::root_key).join(", ")
                )
            }),
            [] => Err("the root object is empty".into()),
            more => Err(format!(
                "the root object must hold exactly one model key, found {}",
                more.join(", ")
            )),
        }
    }

    fn index(self) -> usize {
        Self::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

impl std::fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.root_key())
    }
}

static VALIDATORS: [OnceLock<Validator>; 7] = [const { OnceLock::new() }; 7];

/// The models share most patterns (tokens, UUIDs, dates): compile each regex once.
static PATTERNS: OnceLock<PatternCache> = OnceLock::new();

/// The compiled validator for one model (compiled on first use, then shared).
pub fn validator(kind: DocumentKind) -> &'static Validator {
    VALIDATORS[kind.index()].get_or_init(|| compile(kind))
}

fn compile(kind: DocumentKind) -> Validator {
    let mut schema: Value =
        serde_json::from_str(COMPLETE_SCHEMA).expect("the embedded OSCAL schema is valid JSON");
    let obj = schema
        .as_object_mut()
        .expect("the embedded OSCAL schema is an object");
    let branch = obj
        .remove("oneOf")
        .and_then(|one_of| one_of.get(kind.index()).cloned())
        .expect("the embedded OSCAL schema has one root branch per model");
    if let Value::Object(branch) = branch {
        for (k, v) in branch {
            obj.insert(k, v);
        }
    }
    jsonschema::options()
        .with_draft(Draft::Draft7)
        // The `regex` engine is linear-time and supports \p{L} / \p{N}, which the OSCAL
        // patterns use; none of them needs look-around.
        .with_pattern_options(PatternOptions::regex())
        .with_pattern_cache(PATTERNS.get_or_init(PatternCache::new).clone())
        .build(&schema)
        .expect("the embedded OSCAL schema compiles")
}

/// Validate a parsed document against the model named by its root key.
///
/// Returns all violations (at most [`MAX_REPORTED_ERRORS`]) and their total count.
pub fn validate_value(doc: &Value, kind: DocumentKind) -> (usize, Vec<SchemaViolation>) {
    let validator = validator(kind);
    if validator.is_valid(doc) {
        return (0, Vec::new());
    }
    let mut total = 0;
    let mut out = Vec::new();
    for err in validator.iter_errors(doc) {
        total += 1;
        if out.len() < MAX_REPORTED_ERRORS {
            out.push(SchemaViolation {
                instance_path: err.instance_path().as_str().to_string(),
                keyword: err.kind().keyword().to_string(),
                schema_path: err.schema_path().as_str().to_string(),
                message: err.to_string(),
            });
        }
    }
    (total, out)
}

/// Validate and turn violations into [`OscalError::Invalid`].
pub fn validate(doc: &Value, kind: DocumentKind, file: &str) -> Result<(), OscalError> {
    let (total, violations) = validate_value(doc, kind);
    if total == 0 {
        Ok(())
    } else {
        Err(OscalError::Invalid {
            file: file.to_string(),
            total,
            violations,
        })
    }
}
