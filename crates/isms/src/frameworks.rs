//! `isms framework ...` and `isms mapping ...`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, bail};
use isms_store::{Actor, RefLookup, RequirementRow, Store, Tenant};
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

/// The id a requirement is listed under: an Annex A control by its bare id; a ref id that
/// repeats in its framework with its parent path ("3.3 › 3").
fn shown_id(r: &RequirementRow) -> &str {
    r.control_id.as_deref().unwrap_or(&r.display_ref)
}

async fn find_requirement(
    store: &Store,
    framework: &str,
    reference: &str,
) -> anyhow::Result<Option<RequirementRow>> {
    match store
        .lookup_requirement(framework, reference, Tenant::Installation)
        .await?
    {
        RefLookup::One(r) => return Ok(Some(*r)),
        RefLookup::Ambiguous(candidates) => {
            let mut msg = format!(
                "'{reference}' names {} requirements of {framework}; give one of:",
                candidates.len()
            );
            for c in &candidates {
                let _ = write!(msg, "\n  {}\t{}", c.display_ref, c.title);
            }
            bail!(msg);
        }
        RefLookup::None => {}
    }
    // "5.15" for the Annex A control when no clause has that number.
    Ok(store
        .requirement_by_ref(framework, &format!("A.{reference}"), Tenant::Installation)
        .await?)
}

pub async fn run(store: &Store, cmd: FrameworkCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        FrameworkCommand::List => {
            for f in store.frameworks(Tenant::Installation).await? {
                let origin = match (f.builtin, f.org_id) {
                    (true, _) => "built in".to_owned(),
                    (false, None) => format!("imported from {}", f.source_file),
                    (false, Some(org)) => format!(
                        "imported from {} by organisation {org} (private to it)",
                        f.source_file
                    ),
                };
                println!(
                    "{}\t{} {}\t{} requirements\t{origin}",
                    f.slug, f.name, f.version, f.requirement_count
                );
            }
        }
        FrameworkCommand::Show { id, reference } => {
            let fw = store
                .framework(&id, Tenant::Installation)
                .await?
                .with_context(|| {
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
                        let retired = if r.retired {
                            "\t(retired: not in the current version)"
                        } else {
                            ""
                        };
                        let _ = writeln!(
                            out,
                            "{}\t{}{note}{withdrawn}{retired}",
                            shown_id(&r),
                            r.title
                        );
                    }
                    print_all(&out)?;
                }
                Some(reference) => {
                    let r = find_requirement(store, &fw.slug, &reference)
                        .await?
                        .with_context(|| format!("{} has no requirement '{reference}'", fw.slug))?;
                    println!("{}  {}", r.display_ref, r.title);
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
                    if r.node_key != r.ref_id {
                        println!("urn: {}", r.node_key);
                    }
                    if let Some(t) = r.translations() {
                        println!("translations: {t}");
                    }
                    let links = store
                        .mapped_requirements(&fw.slug, &r.node_key, Tenant::Installation)
                        .await?;
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
            files,
            format,
            catalogs,
            id,
            replace,
            enable_for,
        } => {
            let mut paths = Vec::new();
            for f in &files {
                if f.is_dir() {
                    paths.extend(
                        import::files_in(f)
                            .with_context(|| format!("cannot read {}", f.display()))?,
                    );
                } else {
                    paths.push(f.clone());
                }
            }
            // A library named as such without an id goes through the library import (versions,
            // matrices, threats, reference controls, metrics, presets).
            let library_format = format
                .as_deref()
                .is_some_and(|f| Format::parse(f) == Ok(Format::CisoAssistant));
            if paths.len() == 1 && id.is_none() && library_format {
                let org = match &enable_for {
                    Some(slug) => Some(store.require_org(slug).await?),
                    None => None,
                };
                return import_many(store, &paths, catalogs, replace, org.as_ref()).await;
            }
            if paths.len() == 1 && (format.is_some() || id.is_some()) {
                return import_one(store, &paths[0], format, catalogs, id, replace).await;
            }
            if format.is_some() || id.is_some() {
                bail!("--format and --id apply to one file; several were given");
            }
            let org = match &enable_for {
                Some(slug) => Some(store.require_org(slug).await?),
                None => None,
            };
            return import_many(store, &paths, catalogs, replace, org.as_ref()).await;
        }
        FrameworkCommand::Libraries => {
            for l in store.installed_libraries(Tenant::Installation).await? {
                let owner = l
                    .org_id
                    .map(|o| format!("\torganisation {o}"))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\tversion {}\t{}\tupdated {}\t{}{owner}",
                    l.urn,
                    l.name,
                    l.version.map_or_else(|| "-".to_owned(), |v| v.to_string()),
                    if l.provider.is_empty() {
                        "-"
                    } else {
                        &l.provider
                    },
                    l.updated_at,
                    l.content()
                );
            }
        }
        FrameworkCommand::EnablePreset { urn, org } => {
            let org = store.require_org(&org).await?;
            return enable_preset(store, &urn, &org).await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Imports files one by one, each in its own transaction, with a progress bar (on a
/// terminal) and one report line per file. Fails when a file was refused for a fault of its
/// own; a library holding only objects isms does not import yet (reference controls,
/// metrics) is reported as refused, naming the module, without failing a folder import.
async fn import_many(
    store: &Store,
    paths: &[std::path::PathBuf],
    catalogs: Vec<std::path::PathBuf>,
    replace: bool,
    enable_for: Option<&isms_store::Org>,
) -> anyhow::Result<ExitCode> {
    let mut presets = Vec::new();
    let loader = isms_oscal::cli::FileLoader {
        catalogs,
        validate: true,
    };
    let actor = Actor::cli();
    let bar = indicatif::ProgressBar::new(paths.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (mut counts, mut failed) = (std::collections::BTreeMap::<&str, usize>::new(), 0);
    for path in paths {
        let report = match read(path) {
            Ok((name, bytes)) => {
                bar.set_message(name.clone());
                import::import_file(
                    store,
                    &name,
                    &bytes,
                    &loader,
                    replace,
                    Tenant::Installation,
                    &actor,
                )
                .await
            }
            Err(e) => import::FileReport {
                file: path.display().to_string(),
                outcome: "refused",
                detail: format!("{e:#}"),
                warnings: Vec::new(),
                not_supported_yet: false,
                preset: None,
            },
        };
        if let Some(p) = &report.preset {
            presets.push(p.clone());
        }
        *counts.entry(report.outcome).or_default() += 1;
        if report.outcome == "refused" && (paths.len() == 1 || !report.not_supported_yet) {
            failed += 1;
        }
        bar.suspend(|| {
            let line = format!(
                "{}\t{}\t{}",
                report.file,
                report.outcome,
                report.detail.replace('\n', " | ")
            );
            if report.outcome == "refused" {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            for w in &report.warnings {
                println!("{}\twarning\t{w}", report.file);
            }
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
    println!("{} files: {}", paths.len(), summary.join(", "));
    for urn in &presets {
        match enable_for {
            Some(org) => {
                if enable_preset(store, urn, org).await? != ExitCode::SUCCESS {
                    failed += 1;
                }
            }
            None => println!(
                "{urn}\tpreset\tenable what it bundles with `isms framework enable-preset {urn} --org ORG` (or import with --enable-for ORG)"
            ),
        }
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// One file with an explicit format or id (OSCAL profiles resolved with their catalogs).
async fn import_one(
    store: &Store,
    file: &std::path::Path,
    format: Option<String>,
    catalogs: Vec<std::path::PathBuf>,
    id: Option<String>,
    replace: bool,
) -> anyhow::Result<ExitCode> {
    let (name, bytes) = read(file)?;
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
    let source = std::fs::canonicalize(file)
        .unwrap_or(file.to_path_buf())
        .display()
        .to_string();
    let parsed = if format == Format::OscalProfile {
        let doc = isms_oscal::parse_document(&bytes, &name)?;
        let resolution = isms_oscal::resolve_profile(&doc.value, &source, &loader)?;
        for w in &resolution.warnings {
            eprintln!("warning: {w}");
        }
        let tree = isms_catalog::import_oscal_catalog(&name, &resolution.catalog, id.as_deref())
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
            .import_mappings(&parsed.mappings, &name, Tenant::Installation, &actor)
            .await?;
        println!("{name} holds no framework; imported {n} mappings");
        return Ok(ExitCode::SUCCESS);
    };
    let summary = store
        .import_framework(
            &tree,
            &name,
            format.as_str(),
            replace,
            Tenant::Installation,
            &actor,
        )
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
            .import_mappings(&parsed.mappings, &name, Tenant::Installation, &actor)
            .await?;
        println!("and {n} mappings");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_mapping(store: &Store, cmd: MappingCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MappingCommand::Import { file } => {
            let (name, bytes) = read(&file)?;
            let mappings = import::parse_mappings(&name, &bytes).map_err(anyhow::Error::msg)?;
            let n = store
                .import_mappings(&mappings, &name, Tenant::Installation, &Actor::cli())
                .await?;
            println!("imported {n} mappings from {name}");
        }
        MappingCommand::Show {
            framework,
            reference,
        } => {
            let r = find_requirement(store, &framework, &reference).await?;
            let ref_id = r
                .as_ref()
                .map_or(reference.as_str(), |r| r.node_key.as_str());
            let links = store
                .mapped_requirements(&framework, ref_id, Tenant::Installation)
                .await?;
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

/// Enables a preset for an organisation and prints one line per item.
async fn enable_preset(
    store: &Store,
    urn: &str,
    org: &isms_store::Org,
) -> anyhow::Result<ExitCode> {
    let items = store.enable_preset(org.id, urn, &Actor::cli()).await?;
    let mut missing = 0;
    for i in &items {
        missing += usize::from(i.outcome == "missing");
        println!("{urn}\t{}\t{}\t{}", i.item, i.outcome, i.detail);
    }
    println!(
        "preset {urn} enabled for {}: {} items, {missing} missing",
        org.slug,
        items.len()
    );
    Ok(if missing > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
