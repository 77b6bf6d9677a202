//! `isms framework ...` and `isms mapping ...`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use isms_store::{Actor, RequirementRow, Store};
use isms_web::import::{self, Format};

use crate::{FrameworkCommand, MappingCommand};

fn read(path: &std::path::Path) -> anyhow::Result<(String, Vec<u8>)> {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    import::check_size(&name, meta.len()).map_err(anyhow::Error::msg)?;
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok((name, bytes))
}

/// Prints a whole listing; a closed pipe (`| head`) is not an error.
fn print_all(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// The id a requirement is listed under: an Annex A control by its bare id.
fn shown_id(r: &RequirementRow) -> &str {
    r.control_id.as_deref().unwrap_or(&r.ref_id)
}

async fn find_requirement(
    store: &Store,
    framework: &str,
    reference: &str,
) -> anyhow::Result<Option<RequirementRow>> {
    if let Some(r) = store.requirement_by_ref(framework, reference).await? {
        return Ok(Some(r));
    }
    // "5.15" for the Annex A control when no clause has that number.
    Ok(store
        .requirement_by_ref(framework, &format!("A.{reference}"))
        .await?)
}

pub async fn run(store: &Store, cmd: FrameworkCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FrameworkCommand::List => {
            for f in store.frameworks().await? {
                let origin = if f.builtin {
                    "built in".to_owned()
                } else {
                    format!("imported from {}", f.source_file)
                };
                println!(
                    "{}\t{} {}\t{} requirements\t{origin}",
                    f.slug, f.name, f.version, f.requirement_count
                );
            }
        }
        FrameworkCommand::Show { id, reference } => {
            let fw = store.framework(&id).await?.with_context(|| {
                format!("no framework '{id}': list them with `isms framework list`")
            })?;
            match reference {
                None => {
                    let mut out = String::new();
                    for r in store.requirements(fw.id, None).await? {
                        let note = match (&r.control_id, r.kind.as_str()) {
                            (Some(_), _) => format!("\t[{}]", r.ref_id),
                            (None, "group") => "\t(group)".to_owned(),
                            _ => String::new(),
                        };
                        let withdrawn = if r.withdrawn { "\t(withdrawn)" } else { "" };
                        let _ = writeln!(out, "{}\t{}{note}{withdrawn}", shown_id(&r), r.title);
                    }
                    print_all(&out)?;
                }
                Some(reference) => {
                    let r = find_requirement(store, &fw.slug, &reference)
                        .await?
                        .with_context(|| format!("{} has no requirement '{reference}'", fw.slug))?;
                    println!("{}  {}", r.ref_id, r.title);
                    println!(
                        "framework: {}   kind: {}{}",
                        fw.slug,
                        r.kind,
                        r.parent_ref_id
                            .as_ref()
                            .map(|p| format!("   parent: {p}"))
                            .unwrap_or_default()
                    );
                    if let Some(d) = &r.description {
                        println!("\n{d}");
                    }
                    if let Some(g) = r.guidance() {
                        println!("\nPurpose: {}", g.purpose);
                        println!("\nHow organisations implement it:");
                        for step in &g.implementation {
                            println!("  - {step}");
                        }
                        println!("\nEvidence an auditor asks for:");
                        for e in &g.evidence {
                            println!("  - {e}");
                        }
                    }
                    let links = store.mapped_requirements(&fw.slug, &r.ref_id).await?;
                    if !links.is_empty() {
                        println!("\nMapped to:");
                        for l in links {
                            let derived = if l.derived_path.is_some() {
                                " (derived, not official)"
                            } else {
                                ""
                            };
                            println!(
                                "  {} {}\t{}{derived}",
                                l.framework, l.ref_id, l.relationship
                            );
                        }
                    }
                }
            }
        }
        FrameworkCommand::Import {
            file,
            format,
            catalogs,
            id,
            replace,
        } => {
            let (name, bytes) = read(&file)?;
            let format = match format {
                Some(f) => Format::parse(&f).map_err(anyhow::Error::msg)?,
                None => import::detect_format(&name, &bytes).map_err(anyhow::Error::msg)?,
            };
            eprintln!("reading {name} as {}…", format.as_str());
            let loader = isms_oscal::cli::FileLoader {
                catalogs,
                validate: true,
            };
            // Relative imports of a profile are found beside it: give the loader its full path.
            let source = std::fs::canonicalize(&file)
                .unwrap_or(file.clone())
                .display()
                .to_string();
            let parsed = if format == Format::OscalProfile {
                let doc = isms_oscal::parse_document(&bytes, &name)?;
                let resolution = isms_oscal::resolve_profile(&doc.value, &source, &loader)?;
                for w in &resolution.warnings {
                    eprintln!("warning: {w}");
                }
                let tree =
                    isms_catalog::import_oscal_catalog(&name, &resolution.catalog, id.as_deref())
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                import::Parsed {
                    tree: Some(tree),
                    mappings: Vec::new(),
                    warnings: Vec::new(),
                }
            } else {
                import::parse_framework(&name, &bytes, format, &loader, id.as_deref())
                    .map_err(anyhow::Error::msg)?
            };
            for w in &parsed.warnings {
                eprintln!("warning: {w}");
            }
            let actor = Actor::cli();
            let Some(tree) = parsed.tree else {
                let n = store
                    .import_mappings(&parsed.mappings, &name, &actor, None)
                    .await?;
                println!("{name} holds no framework; imported {n} mappings");
                return Ok(ExitCode::SUCCESS);
            };
            let summary = store
                .import_framework(&tree, &name, format.as_str(), replace, &actor, None)
                .await?;
            if summary.unchanged {
                println!("{}: already installed and unchanged", summary.slug);
            } else {
                println!(
                    "{}: {} requirements ({} new, {} updated, {} removed)",
                    summary.slug,
                    tree.nodes.len(),
                    summary.inserted,
                    summary.updated,
                    summary.removed
                );
            }
            if !parsed.mappings.is_empty() {
                let n = store
                    .import_mappings(&parsed.mappings, &name, &actor, None)
                    .await?;
                println!("and {n} mappings");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_mapping(store: &Store, cmd: MappingCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MappingCommand::Import { file } => {
            let (name, bytes) = read(&file)?;
            let mappings = import::parse_mappings(&name, &bytes).map_err(anyhow::Error::msg)?;
            let n = store
                .import_mappings(&mappings, &name, &Actor::cli(), None)
                .await?;
            println!("imported {n} mappings from {name}");
        }
        MappingCommand::Show {
            framework,
            reference,
        } => {
            let r = find_requirement(store, &framework, &reference).await?;
            let ref_id = r.as_ref().map_or(reference.as_str(), |r| r.ref_id.as_str());
            let links = store.mapped_requirements(&framework, ref_id).await?;
            if links.is_empty() {
                bail!("nothing is mapped to {framework} {reference}");
            }
            for l in links {
                let derived = l
                    .derived_path
                    .as_ref()
                    .map(|p| format!("\tderived via {}", p.join(" -> ")))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{}\t{}{derived}",
                    l.framework,
                    l.ref_id,
                    l.relationship,
                    l.title.unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
