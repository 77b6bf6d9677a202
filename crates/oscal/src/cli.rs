//! `isms oscal validate` and `isms oscal resolve`: the only module of the crate that reads
//! files and prints.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;

use crate::document::{self, Document, check_size};
use crate::error::OscalError;
use crate::resolve::{Loaded, Loader, ResolveOptions, resolve_profile_with};
use crate::schema::{self, DocumentKind};

/// `isms oscal validate FILE`
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// OSCAL document (JSON, or OSCAL XML) to check against the OSCAL 1.1.2 schema.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// `isms oscal resolve PROFILE --catalog CATALOG -o OUT.json`
#[derive(Debug, Clone, clap::Args)]
pub struct ResolveArgs {
    /// OSCAL profile (JSON or XML) to resolve.
    #[arg(value_name = "PROFILE")]
    pub profile: PathBuf,
    /// Catalog (or profile) to use for imports that cannot be read locally (an https URL, a
    /// missing relative path). Matched by file name, else used when it is the only one given.
    /// Repeatable. Nothing is ever fetched from the network.
    #[arg(long = "catalog", value_name = "CATALOG")]
    pub catalogs: Vec<PathBuf>,
    /// Where to write the resolved catalog (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "OUT.json")]
    pub output: Option<PathBuf>,
    /// Skip schema validation of the inputs and of the result.
    #[arg(long)]
    pub no_validate: bool,
    /// Fail on warnings (unknown control ids, set-parameters or alters that match nothing).
    #[arg(long)]
    pub strict: bool,
}

/// Read a file after checking its size (refuses files over [`crate::MAX_DOCUMENT_BYTES`]).
pub fn read_limited(path: &Path) -> Result<Vec<u8>, OscalError> {
    let name = path.display().to_string();
    let io = |e: std::io::Error| OscalError::Resolution {
        file: name.clone(),
        message: format!("cannot read: {e}"),
    };
    let meta = fs::metadata(path).map_err(io)?;
    check_size(meta.len(), &name)?;
    fs::read(path).map_err(io)
}

/// Read, parse and (optionally) validate a document from a file.
pub fn load_file(path: &Path, validate: bool) -> Result<Document, OscalError> {
    let name = path.display().to_string();
    let bytes = read_limited(path)?;
    if validate {
        document::parse_document(&bytes, &name)
    } else {
        document::parse_unvalidated(&bytes, &name)
    }
}

/// Validate one file; prints `FILE: OK ...` or the violations. `Ok(false)` when invalid.
pub fn run_validate(args: &ValidateArgs) -> anyhow::Result<bool> {
    let name = args.file.display().to_string();
    let result = load_file(&args.file, true);
    let mut out = std::io::stdout().lock();
    match result {
        Ok(doc) => {
            writeln!(
                out,
                "{name}: OK (valid OSCAL {} {})",
                crate::OSCAL_VERSION,
                doc.kind
            )?;
            Ok(true)
        }
        Err(OscalError::Invalid {
            file,
            total,
            violations,
        }) => {
            writeln!(
                out,
                "{file}: INVALID: {total} error(s) against the OSCAL {} schema",
                crate::OSCAL_VERSION
            )?;
            for v in &violations {
                writeln!(out, "  {v}")?;
            }
            if total > violations.len() {
                writeln!(out, "  ... and {} more", total - violations.len())?;
            }
            Ok(false)
        }
        Err(e @ (OscalError::Resolution { .. } | OscalError::TooLarge { .. })) => Err(e.into()),
        Err(e) => {
            writeln!(out, "{e}")?;
            Ok(false)
        }
    }
}

/// Resolve a profile and write the resolved catalog (validated against the 1.1.2 schema
/// unless `--no-validate`). Warnings go to standard error. Nothing is written unless the
/// inputs and the result are valid.
///
/// One thread: compiling the schema on a second thread while parsing measured no faster on
/// the 2-CPU benchmark machine (waiting for the other thread costs what it saves).
pub fn run_resolve(args: &ResolveArgs) -> anyhow::Result<()> {
    let validate = !args.no_validate;
    let profile_name = args.profile.display().to_string();
    let profile = document::parse_unvalidated(&read_limited(&args.profile)?, &profile_name)?;
    if profile.kind != DocumentKind::Profile {
        anyhow::bail!(OscalError::WrongKind {
            file: profile_name,
            expected: "profile",
            found: profile.kind.to_string(),
        });
    }
    let loader = FileLoader {
        catalogs: args.catalogs.clone(),
        validate,
    };
    let source = canonical_id(&args.profile);
    let options = ResolveOptions {
        source_profile_href: Some(args.profile.file_name().map_or_else(
            || profile_name.clone(),
            |n| n.to_string_lossy().into_owned(),
        )),
        strict: args.strict,
    };
    if validate {
        schema::validate(&profile.value, DocumentKind::Profile, &profile_name)?;
    }
    let resolution = resolve_profile_with(&profile.value, &source, &loader, &options)?;
    let catalog = &resolution.catalog;
    if validate {
        schema::validate(catalog, DocumentKind::Catalog, "resolved catalog")
            .context("the resolved catalog does not validate (this is a bug)")?;
    }
    let mut bytes = Vec::with_capacity(2 << 20);
    write_json(&mut bytes, catalog)?;
    for w in &resolution.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(path) = &args.output {
        fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    } else {
        let mut out = std::io::stdout().lock();
        out.write_all(&bytes)?;
        out.flush()?;
    }
    Ok(())
}

fn write_json(mut w: impl Write, v: &Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, v)?;
    w.write_all(b"\n")?;
    w.flush()
}

fn canonical_id(path: &Path) -> String {
    fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Loads imports from the file system relative to the importing document; imports that are
/// not local files (URLs, missing paths) are satisfied from the `--catalog` files.
#[derive(Debug, Clone)]
pub struct FileLoader {
    pub catalogs: Vec<PathBuf>,
    pub validate: bool,
}

impl FileLoader {
    fn local_path(href: &str, base: &str) -> Option<PathBuf> {
        let href = href.split(['#', '?']).next().unwrap_or("");
        if href.is_empty() {
            return None;
        }
        let path = if let Some(p) = href.strip_prefix("file://") {
            PathBuf::from(percent_decode(p))
        } else if href.contains("://") || href.starts_with("urn:") {
            return None;
        } else {
            let rel = PathBuf::from(percent_decode(href));
            if rel.is_absolute() {
                rel
            } else {
                Path::new(base)
                    .parent()
                    .unwrap_or_else(|| Path::new("."))
                    .join(rel)
            }
        };
        path.is_file().then_some(path)
    }

    fn find_catalog(&self, href: &str, base: &str) -> Result<PathBuf, OscalError> {
        let target = href
            .split(['#', '?'])
            .next()
            .unwrap_or("")
            .rsplit('/')
            .next()
            .unwrap_or("");
        let stem = |s: &str| s.rsplit_once('.').map_or(s, |(a, _)| a).to_string();
        let name_of = |p: &PathBuf| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if let Some(p) = self.catalogs.iter().find(|p| name_of(p) == target) {
            return Ok(p.clone());
        }
        if !target.is_empty() {
            if let Some(p) = self
                .catalogs
                .iter()
                .find(|p| stem(&name_of(p)) == stem(target))
            {
                return Ok(p.clone());
            }
        }
        if let [only] = self.catalogs.as_slice() {
            return Ok(only.clone());
        }
        let message = if self.catalogs.is_empty() {
            "not a readable local file; give the catalog with --catalog FILE (nothing is fetched from the network)".to_string()
        } else {
            format!(
                "not a readable local file, and none of the --catalog files ({}) is named {target:?}",
                self.catalogs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Err(OscalError::BrokenImport {
            file: base.to_string(),
            href: href.to_string(),
            message,
        })
    }
}

impl Loader for FileLoader {
    fn load(&self, href: &str, base: &str) -> Result<Loaded, OscalError> {
        let path = match Self::local_path(href, base) {
            Some(p) => p,
            None => self.find_catalog(href, base)?,
        };
        let doc = load_file(&path, self.validate)?;
        Ok(Loaded {
            id: canonical_id(&path),
            document: doc.value,
        })
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
