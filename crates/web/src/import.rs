//! Turning an uploaded or given file into a framework (and mappings): format
//! detection, OSCAL schema validation and profile resolution, and the
//! converters of isms-catalog. Pure: the caller reads the file and stores
//! the result, so the CLI and the upload form share one path.

use isms_catalog::{FrameworkTree, Mapping};
use isms_oscal::{DocumentKind, Loaded, Loader, OscalError};
use isms_store::{Actor, Store, Tenant};
use serde::Serialize;

/// Largest file accepted for import, checked before it is read.
pub const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OscalCatalog,
    OscalProfile,
    CisoAssistant,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "oscal-catalog" => Ok(Format::OscalCatalog),
            "oscal-profile" => Ok(Format::OscalProfile),
            "ciso-assistant" => Ok(Format::CisoAssistant),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format '{other}': use oscal-catalog, oscal-profile, ciso-assistant or csv"
            )),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OscalCatalog => "oscal-catalog",
            Format::OscalProfile => "oscal-profile",
            Format::CisoAssistant => "ciso-assistant",
            Format::Csv => "csv",
        }
    }
}

/// Says why a file of `size` bytes is refused, if it is.
pub fn check_size(file_name: &str, size: u64) -> Result<(), String> {
    if size > MAX_IMPORT_BYTES {
        return Err(format!(
            "{file_name} is {:.1} MB; imports are limited to {} MB",
            size as f64 / 1e6,
            MAX_IMPORT_BYTES / 1024 / 1024
        ));
    }
    if size == 0 {
        return Err(format!("{file_name} is empty"));
    }
    Ok(())
}

/// The file's extension, lower-cased ("" when it has none).
fn extension(file_name: &str) -> String {
    std::path::Path::new(file_name)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// Guesses the format from the name and the first bytes.
pub fn detect_format(file_name: &str, bytes: &[u8]) -> Result<Format, String> {
    let ext = extension(file_name);
    match ext.as_str() {
        "csv" => return Ok(Format::Csv),
        "yaml" | "yml" => return Ok(Format::CisoAssistant),
        _ => {}
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_lowercase();
    if matches!(ext.as_str(), "json" | "xml") || head.trim_start().starts_with(['{', '<']) {
        // The root element or key names the model.
        let catalog = head.find("catalog");
        let profile = head.find("profile");
        return match (catalog, profile) {
            (Some(c), Some(p)) if p < c => Ok(Format::OscalProfile),
            (Some(_), _) => Ok(Format::OscalCatalog),
            (None, Some(_)) => Ok(Format::OscalProfile),
            (None, None) => Err(format!(
                "{file_name}: not an OSCAL catalog or profile; give --format if it is another format"
            )),
        };
    }
    Err(format!(
        "{file_name}: cannot tell the format from the name; give --format oscal-catalog, oscal-profile, ciso-assistant or csv"
    ))
}

/// What a file holds.
#[derive(Debug)]
pub struct Parsed {
    pub tree: Option<FrameworkTree>,
    pub mappings: Vec<Mapping>,
    pub warnings: Vec<String>,
}

/// Parses a framework file. `loader` supplies the catalogs a profile imports;
/// `framework_id` overrides the id the file would get.
pub fn parse_framework(
    file_name: &str,
    bytes: &[u8],
    format: Format,
    loader: &dyn Loader,
    framework_id: Option<&str>,
) -> Result<Parsed, String> {
    check_size(file_name, bytes.len() as u64)?;
    let mut warnings = Vec::new();
    let tree = match format {
        Format::Csv => {
            let mut fw = isms_catalog::framework_from_file_name(file_name);
            if let Some(id) = framework_id {
                id.clone_into(&mut fw.id);
            }
            return isms_catalog::import_catalog_csv(file_name, bytes, fw)
                .map(|t| Parsed {
                    tree: Some(t),
                    mappings: Vec::new(),
                    warnings,
                })
                .map_err(|e| e.to_string());
        }
        Format::CisoAssistant => {
            let lib =
                isms_catalog::import_ciso_assistant(file_name, bytes).map_err(|e| e.to_string())?;
            let mut tree = lib.framework;
            if let (Some(t), Some(id)) = (tree.as_mut(), framework_id) {
                id.clone_into(&mut t.framework.id);
            }
            if tree.is_none() && lib.mappings.is_empty() {
                return Err(format!(
                    "{file_name}: the library holds no framework to store under an id: import it without an id, and its risk matrices, threats, reference controls, metric definitions or preset go to their modules"
                ));
            }
            return Ok(Parsed {
                tree,
                mappings: lib.mappings,
                warnings,
            });
        }
        Format::OscalCatalog => {
            let doc = isms_oscal::parse_document(bytes, file_name).map_err(|e| e.to_string())?;
            if doc.kind != DocumentKind::Catalog {
                return Err(format!(
                    "{file_name}: this is an OSCAL {}, not a catalog",
                    doc.kind
                ));
            }
            isms_catalog::import_oscal_catalog(file_name, &doc.value, framework_id)
                .map_err(|e| e.to_string())?
        }
        Format::OscalProfile => {
            let doc = isms_oscal::parse_document(bytes, file_name).map_err(|e| e.to_string())?;
            if doc.kind != DocumentKind::Profile {
                return Err(format!(
                    "{file_name}: this is an OSCAL {}, not a profile",
                    doc.kind
                ));
            }
            let resolution = isms_oscal::resolve_profile(&doc.value, file_name, loader)
                .map_err(|e| e.to_string())?;
            warnings.extend(resolution.warnings);
            isms_catalog::import_oscal_catalog(file_name, &resolution.catalog, framework_id)
                .map_err(|e| e.to_string())?
        }
    };
    Ok(Parsed {
        tree: Some(tree),
        mappings: Vec::new(),
        warnings,
    })
}

/// Parses a mapping file: the shared CSV layout or a CISO Assistant mapping library.
pub fn parse_mappings(file_name: &str, bytes: &[u8]) -> Result<Vec<Mapping>, String> {
    check_size(file_name, bytes.len() as u64)?;
    let mappings = if matches!(extension(file_name).as_str(), "yaml" | "yml") {
        isms_catalog::import_ciso_assistant(file_name, bytes)
            .map_err(|e| e.to_string())?
            .mappings
    } else {
        isms_catalog::parse_mapping_csv(file_name, bytes).map_err(|e| e.to_string())?
    };
    if mappings.is_empty() {
        return Err(format!("{file_name}: no mappings found"));
    }
    Ok(mappings)
}

/// What happened to one file of an import of several.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    /// `imported`, `updated`, `unchanged` or `refused`.
    pub outcome: &'static str,
    /// What went where, or why the file was refused.
    pub detail: String,
    /// Imported despite these.
    pub warnings: Vec<String>,
    /// Refused only because it holds objects isms does not import yet (reference controls,
    /// metric definitions, presets): not a fault of the file.
    #[serde(skip)]
    pub not_supported_yet: bool,
    /// The library URN when the file is a preset: what it bundles can be enabled in one step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
}

impl FileReport {
    fn refused(file: &str, why: String) -> Self {
        let not_supported_yet = why.contains(isms_catalog::NOTHING_IMPORTED);
        Self {
            file: file.to_owned(),
            outcome: "refused",
            detail: why,
            warnings: Vec::new(),
            not_supported_yet,
            preset: None,
        }
    }
}

/// Imports one file of any supported format (each file in its own transaction: a refused
/// file leaves nothing behind) and says what happened. CISO Assistant libraries go through
/// the library import (versions, URNs, matrices, threats); other formats as before.
pub async fn import_file(
    store: &Store,
    name: &str,
    bytes: &[u8],
    loader: &(dyn Loader + Sync),
    replace: bool,
    tenant: Tenant,
    actor: &Actor,
) -> FileReport {
    let format = match detect_format(name, bytes) {
        Ok(f) => f,
        Err(e) => return FileReport::refused(name, e),
    };
    if let Err(e) = check_size(name, bytes.len() as u64) {
        return FileReport::refused(name, e);
    }
    if format == Format::CisoAssistant {
        let lib = match isms_catalog::import_ciso_assistant(name, bytes) {
            Ok(l) => l,
            Err(e) => return FileReport::refused(name, e.to_string()),
        };
        return match store
            .import_library(&lib, name, replace, tenant, actor)
            .await
        {
            Ok(r) => FileReport {
                file: name.to_owned(),
                outcome: r.outcome,
                detail: r.detail,
                warnings: r.warnings,
                not_supported_yet: false,
                preset: lib.preset.is_some().then_some(r.library_urn),
            },
            Err(e) => FileReport::refused(name, e.to_string()),
        };
    }
    let parsed = match parse_framework(name, bytes, format, loader, None) {
        Ok(p) => p,
        Err(e) => return FileReport::refused(name, e),
    };
    let mut detail = Vec::new();
    let mut outcome = "imported";
    if let Some(tree) = &parsed.tree {
        match store
            .import_framework(tree, name, format.as_str(), replace, tenant, actor)
            .await
        {
            Ok(s) if s.unchanged => {
                outcome = "unchanged";
                detail.push(format!("framework {} unchanged", s.slug));
            }
            Ok(s) => {
                if s.updated > 0 {
                    outcome = "updated";
                }
                detail.push(format!(
                    "framework {}: {} requirements ({} new, {} updated, {} removed)",
                    s.slug,
                    tree.nodes.len(),
                    s.inserted,
                    s.updated,
                    s.removed
                ));
            }
            Err(e) => return FileReport::refused(name, e.to_string()),
        }
    }
    FileReport {
        file: name.to_owned(),
        outcome,
        detail: detail.join("; "),
        warnings: parsed.warnings,
        not_supported_yet: false,
        preset: None,
    }
}

/// The files of a folder an import takes (`.yaml`, `.yml`, `.json`, `.xml`, `.csv`), found
/// recursively, in name order.
pub fn files_in(dir: &std::path::Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                extension(&path.to_string_lossy()).as_str(),
                "yaml" | "yml" | "json" | "xml" | "csv"
            ) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Serves catalogs uploaded beside a profile: an import is matched by file
/// name, or by being the only catalog given.
pub struct UploadedCatalogs(pub Vec<(String, Vec<u8>)>);

impl Loader for UploadedCatalogs {
    fn load(&self, href: &str, base: &str) -> Result<Loaded, OscalError> {
        let wanted = href
            .split(['#', '?'])
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        let found = self
            .0
            .iter()
            .find(|(name, _)| name == wanted)
            .or_else(|| (self.0.len() == 1).then(|| &self.0[0]));
        let Some((name, bytes)) = found else {
            return Err(OscalError::BrokenImport {
                file: base.to_owned(),
                href: href.to_owned(),
                message: "upload the catalog this profile imports beside it".into(),
            });
        };
        let doc = isms_oscal::parse_document(bytes, name)?;
        Ok(Loaded {
            id: name.clone(),
            document: doc.value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_names_and_content() {
        assert_eq!(detect_format("x.csv", b"a,b"), Ok(Format::Csv));
        assert_eq!(
            detect_format("lib.yaml", b"urn: x"),
            Ok(Format::CisoAssistant)
        );
        assert_eq!(
            detect_format("c.json", br#"{"catalog": {}}"#),
            Ok(Format::OscalCatalog)
        );
        assert_eq!(
            detect_format(
                "p.json",
                br#"{"profile": {"imports": [{"href": "catalog.json"}]}}"#
            ),
            Ok(Format::OscalProfile)
        );
        assert!(detect_format("notes.txt", b"hello").is_err());
        assert!(
            Format::parse("pdf")
                .unwrap_err()
                .contains("unknown format 'pdf'")
        );
    }

    #[test]
    fn oversized_and_empty_files_are_refused_before_parsing() {
        let err = check_size("huge.json", 500 * 1000 * 1000).unwrap_err();
        assert!(err.contains("huge.json is 500.0 MB"), "{err}");
        assert!(check_size("e.csv", 0).unwrap_err().contains("empty"));
    }
}
