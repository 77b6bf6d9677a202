//! isms-catalog: the framework model and the built-in content of isms.
//!
//! - [`model`]: a framework is a tree of requirement nodes; validation of node lists.
//! - [`iso27001`]: ISO/IEC 27001:2022 built in (clauses, 93 Annex A controls with our own
//!   guidance, 2013 correspondence) and a 2013 skeleton.
//! - [`mapping`]: cross-framework mappings, the built-in NIST mappings, derived mappings and
//!   queries in both directions.
//! - Importers (pure: bytes or parsed JSON in, a tree or an [`ImportError`] naming file and
//!   place out): [`import_catalog_csv`], [`import_ciso_assistant`], [`import_oscal_catalog`],
//!   [`parse_mapping_csv`].
//!
//! No I/O: all content is embedded with `include_str!`.

mod ciso;
mod csvread;
mod error;
mod import_csv;
pub mod iso27001;
pub mod mapping;
pub mod model;
mod oscal;

pub use ciso::{
    CisoLibrary, MatrixStep, MetricDef, NOTHING_IMPORTED, PresetDef, ReferenceControl,
    RiskMatrixDef, ThreatDef, Unsupported, framework_id_from_urn, import_ciso_assistant,
};
pub use error::{ImportError, Issue, MAX_IMPORT_BYTES, MAX_ISSUES, MAX_ITEMS, Place};
pub use import_csv::{framework_from_file_name, import_catalog_csv};
pub use iso27001::{
    AnnexAControl, ChangeFrom2013, ISO27001_2013, ISO27001_2022, Theme, annex_a_2013_ids,
    annex_a_control, annex_a_controls, builtin_frameworks, compare_ref_ids, controls_2022_for_2013,
    iso27001_2013, iso27001_2022,
};
pub use mapping::{
    BUILTIN_MAPPING_FILES, BuiltinMappingFile, KnownFramework, Link, Mapping, MappingSet,
    Relationship, builtin_mappings, compose, correspondence_2013_to_2022,
    derive_800_53_to_iso27001_2022, framework_id, known_frameworks, parse_mapping_csv,
};
pub use model::{
    Framework, FrameworkTree, Guidance, MADE_UP_TITLE_CHARS, NodeKind, PATH_SEPARATOR,
    RequirementNode, TreeProblem, slugify, title_from_description, validate_nodes,
};
pub use oscal::{framework_id_for_title, import_oscal_catalog};
