//! OSCAL profile resolution, after the NIST specification
//! (<https://pages.nist.gov/OSCAL/concepts/processing/profile-resolution/>).
//!
//! The engine works on `serde_json::Value` so that every field of a kept control survives,
//! known to us or not. It does no I/O: documents named by imports come from a [`Loader`].
//!
//! Decisions where the specification leaves room (all documented in the report of
//! [`Resolution::warnings`]):
//! - a `with-ids` entry, `set-parameters` or `alter` naming a control/parameter the imported
//!   catalog lacks is a **warning** (the specification asks processors to carry on); with
//!   [`ResolveOptions::strict`] it is an error;
//! - an import with neither `include-all` nor `include-controls` includes everything;
//! - `combine` defaults to `keep`; `merge` is treated like `use-first` (the specification
//!   leaves it undefined);
//! - no `merge` structuring directive means `flat` (controls without groups; child controls
//!   stay inside an included parent);
//! - the output keeps the order of the imported catalog, whatever the order of `with-ids`.

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::error::OscalError;
use crate::schema::DocumentKind;

/// A document fetched for an import.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// A stable identity of the document (e.g. a canonical path). Used to detect circular
    /// imports, to merge two imports of the same catalog, and as `base` for its own imports.
    pub id: String,
    /// The whole document (root key `catalog` or `profile`).
    pub document: Value,
}

/// Where imported documents come from. The engine never touches the file system or network.
pub trait Loader {
    /// Load the document that `href` names, as written in the document identified by `base`.
    fn load(&self, href: &str, base: &str) -> Result<Loaded, OscalError>;
}

/// A loader over documents held in memory, keyed by exact href (tests, fuzzing, embedding).
#[derive(Debug, Default, Clone)]
pub struct MemoryLoader {
    pub documents: HashMap<String, Value>,
}

impl MemoryLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a document under an href.
    #[must_use]
    pub fn with(mut self, href: &str, document: Value) -> Self {
        self.documents.insert(href.to_string(), document);
        self
    }
}

impl Loader for MemoryLoader {
    fn load(&self, href: &str, base: &str) -> Result<Loaded, OscalError> {
        self.documents
            .get(href)
            .map(|d| Loaded {
                id: href.to_string(),
                document: d.clone(),
            })
            .ok_or_else(|| OscalError::BrokenImport {
                file: base.to_string(),
                href: href.to_string(),
                message: "no such document".into(),
            })
    }
}

/// Options of [`resolve_profile_with`].
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// The `href` of the `source-profile` link in the output (default: the `source` argument).
    pub source_profile_href: Option<String>,
    /// Turn warnings into errors.
    pub strict: bool,
}

/// The outcome of a resolution.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The resolved catalog, a whole document: `{"catalog": {...}}`.
    pub catalog: Value,
    /// Things the specification tolerates but a user wants to know (unknown control ids ...).
    pub warnings: Vec<String>,
}

/// The name of this tool in the `resolution-tool` property of resolved catalogs.
pub const RESOLUTION_TOOL: &str = concat!("isms-oscal ", env!("CARGO_PKG_VERSION"));

/// Resolve a profile (the whole document, `{"profile": {...}}`) into a catalog.
///
/// `source` identifies the profile for the loader (relative imports are resolved against
/// it) and names it in the output's `source-profile` link.
pub fn resolve_profile(
    profile: &Value,
    source: &str,
    loader: &dyn Loader,
) -> Result<Resolution, OscalError> {
    resolve_profile_with(profile, source, loader, &ResolveOptions::default())
}

/// [`resolve_profile`] with options.
pub fn resolve_profile_with(
    profile: &Value,
    source: &str,
    loader: &dyn Loader,
    options: &ResolveOptions,
) -> Result<Resolution, OscalError> {
    let body = profile
        .get("profile")
        .and_then(Value::as_object)
        .ok_or_else(|| OscalError::WrongKind {
            file: source.to_string(),
            expected: "profile",
            found: DocumentKind::detect(profile).map_or_else(|e| e, |k| k.to_string()),
        })?;
    let mut resolver = Resolver {
        loader,
        stack: vec![source.to_string()],
        warnings: Vec::new(),
        strict: options.strict,
    };
    let mut catalog = resolver.resolve(body, source)?;
    // Fresh metadata for the top-level result.
    let href = options.source_profile_href.as_deref().unwrap_or(source);
    catalog.insert("metadata".into(), output_metadata(body, href));
    let catalog = reorder_catalog(catalog);
    Ok(Resolution {
        catalog: json!({ "catalog": catalog }),
        warnings: resolver.warnings,
    })
}

struct Resolver<'a> {
    loader: &'a dyn Loader,
    stack: Vec<String>,
    warnings: Vec<String>,
    strict: bool,
}

/// One imported catalog with the union of the selections of all imports of it.
struct Source {
    id: String,
    catalog: Map<String, Value>,
    selected: HashSet<String>,
    /// Controls an `exclude-controls` named (as-is does not bring them back as ancestors).
    excluded: HashSet<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Combine {
    UseFirst,
    Keep,
}

enum Structure {
    AsIs,
    Flat,
    Custom(Value),
}

impl Resolver<'_> {
    fn warn(&mut self, message: String) -> Result<(), OscalError> {
        if self.strict {
            return Err(OscalError::Strict(message));
        }
        self.warnings.push(message);
        Ok(())
    }

    /// Resolve one profile body into a catalog body (metadata: a placeholder).
    fn resolve(
        &mut self,
        profile: &Map<String, Value>,
        id: &str,
    ) -> Result<Map<String, Value>, OscalError> {
        let imports = profile
            .get("imports")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| OscalError::Resolution {
                file: id.to_string(),
                message: "the profile has no imports".into(),
            })?;

        let merge = profile.get("merge");
        let combine = match merge
            .and_then(|m| m.get("combine"))
            .and_then(|c| c.get("method"))
            .and_then(Value::as_str)
        {
            Some("use-first" | "merge") => Combine::UseFirst,
            _ => Combine::Keep,
        };
        let mut sources: Vec<Source> = Vec::new();
        for (n, import) in imports.iter().enumerate() {
            let Some(import) = import.as_object() else {
                return Err(OscalError::Resolution {
                    file: id.to_string(),
                    message: format!("/profile/imports/{n} is not an object"),
                });
            };
            let href = import.get("href").and_then(Value::as_str).ok_or_else(|| {
                OscalError::Resolution {
                    file: id.to_string(),
                    message: format!("/profile/imports/{n} has no href"),
                }
            })?;
            let (src_id, catalog) = self.load_import(href, profile, id)?;
            let (selected, excluded) = self.select(&catalog, import, href, id)?;
            // Two imports of one catalog are one selection (their union, so the catalog's
            // order and nesting hold) with use-first, and with keep when they do not overlap;
            // overlapping imports under keep each contribute their own copy (the
            // specification's "keep everything twice").
            let same = sources.iter_mut().find(|s| {
                s.id == src_id
                    && (combine == Combine::UseFirst || s.selected.is_disjoint(&selected))
            });
            if let Some(existing) = same {
                existing.selected.extend(selected);
                existing.excluded.extend(excluded);
            } else {
                sources.push(Source {
                    id: src_id,
                    catalog,
                    selected,
                    excluded,
                });
            }
        }

        let structure = if let Some(custom) = merge.and_then(|m| m.get("custom")) {
            Structure::Custom(custom.clone())
        } else if merge
            .and_then(|m| m.get("as-is"))
            .is_some_and(|v| v.as_bool() == Some(true) || v.as_str() == Some("true"))
        {
            Structure::AsIs
        } else {
            Structure::Flat
        };

        let mut out = Output::default();
        let mut emitted: HashSet<String> = HashSet::new();
        for mut source in sources {
            if combine == Combine::UseFirst {
                source.selected.retain(|c| !emitted.contains(c));
            } else {
                let dups: Vec<&String> = source
                    .selected
                    .iter()
                    .filter(|c| emitted.contains(*c))
                    .collect();
                if !dups.is_empty() {
                    let mut dups: Vec<String> = dups.into_iter().cloned().collect();
                    dups.sort();
                    self.warn(format!(
                        "{id}: combine method \"keep\" keeps duplicate controls {} (imported again from {})",
                        dups.join(", "),
                        source.id
                    ))?;
                }
            }
            emitted.extend(source.selected.iter().cloned());
            out.add_source(source, matches!(structure, Structure::AsIs));
        }

        if let Structure::Custom(custom) = &structure {
            out = custom_structure(out, custom);
        }

        let mut catalog = Map::new();
        catalog.insert("uuid".into(), Value::String(new_uuid()));
        catalog.insert(
            "metadata".into(),
            profile
                .get("metadata")
                .cloned()
                .unwrap_or_else(|| json!({})),
        );
        if !out.controls.is_empty() {
            catalog.insert("controls".into(), Value::Array(out.controls));
        }
        if !out.groups.is_empty() {
            catalog.insert("groups".into(), Value::Array(out.groups));
        }
        // Alters first (they may add references to loose parameters), then the loose
        // parameters, then parameter settings (which may target loose parameters).
        let no_modify = Value::Null;
        let modify = profile.get("modify").unwrap_or(&no_modify);
        self.modify(&mut catalog, modify, id, Phase::Alters)?;
        add_loose_params(&mut catalog, out.loose_params);
        self.modify(&mut catalog, modify, id, Phase::SetParameters)?;
        let mut resources = out.resources;
        if let Some(own) = profile
            .get("back-matter")
            .and_then(|b| b.get("resources"))
            .and_then(Value::as_array)
        {
            resources.extend(own.iter().cloned());
        }
        add_back_matter(&mut catalog, resources);
        Ok(catalog)
    }

    /// Fetch an import target; profiles are resolved recursively.
    fn load_import(
        &mut self,
        href: &str,
        profile: &Map<String, Value>,
        id: &str,
    ) -> Result<(String, Map<String, Value>), OscalError> {
        let broken = |message: String| OscalError::BrokenImport {
            file: id.to_string(),
            href: href.to_string(),
            message,
        };
        let loaded = if let Some(uuid) = href.strip_prefix('#') {
            let resource = profile
                .get("back-matter")
                .and_then(|b| b.get("resources"))
                .and_then(Value::as_array)
                .and_then(|rs| {
                    rs.iter()
                        .find(|r| r.get("uuid").and_then(Value::as_str) == Some(uuid))
                })
                .ok_or_else(|| broken(format!("no back-matter resource with uuid {uuid}")))?;
            self.load_resource(resource, id).map_err(|e| match e {
                // Found but bad (syntax, schema, size): report as it is.
                OscalError::Syntax { .. }
                | OscalError::Invalid { .. }
                | OscalError::TooLarge { .. }
                | OscalError::UnknownDocument { .. } => e,
                OscalError::Resolution { message, .. } => broken(message),
                other => broken(other.to_string()),
            })?
        } else {
            self.loader.load(href, id)?
        };
        let kind = DocumentKind::detect(&loaded.document).map_err(|m| {
            broken(format!(
                "{} is not an OSCAL catalog or profile: {m}",
                loaded.id
            ))
        })?;
        let Loaded {
            id: src_id,
            document,
        } = loaded;
        let Value::Object(mut root) = document else {
            unreachable!("detect() accepts objects only")
        };
        let body = root.remove(kind.root_key());
        let Some(Value::Object(body)) = body else {
            return Err(broken(format!("{src_id}: the {kind} is not an object")));
        };
        match kind {
            DocumentKind::Catalog => Ok((src_id, body)),
            DocumentKind::Profile => {
                if let Some(pos) = self.stack.iter().position(|s| *s == src_id) {
                    let mut chain = self.stack[pos..].to_vec();
                    chain.push(src_id);
                    return Err(OscalError::CircularImport { chain });
                }
                if self.stack.len() > 64 {
                    return Err(broken("imports nested more than 64 deep".into()));
                }
                self.stack.push(src_id.clone());
                let resolved = self.resolve(&body, &src_id);
                self.stack.pop();
                Ok((src_id, resolved?))
            }
            other => Err(broken(format!(
                "{src_id} is an OSCAL {other}, not a catalog or profile"
            ))),
        }
    }

    /// A back-matter resource as import target: its rlinks (JSON first), else its base64.
    fn load_resource(&self, resource: &Value, id: &str) -> Result<Loaded, OscalError> {
        let mut rlinks: Vec<&Value> = resource
            .get("rlinks")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        // Prefer the JSON rendition; keep the given order otherwise.
        rlinks.sort_by_key(|r| {
            let media = r.get("media-type").and_then(Value::as_str).unwrap_or("");
            let href = r.get("href").and_then(Value::as_str).unwrap_or("");
            u8::from(!(media.contains("json") || href.to_ascii_lowercase().ends_with(".json")))
        });
        let mut failures = Vec::new();
        for rlink in rlinks {
            let Some(href) = rlink.get("href").and_then(Value::as_str) else {
                continue;
            };
            match self.loader.load(href, id) {
                Ok(l) => return Ok(l),
                Err(OscalError::BrokenImport { message, .. }) => {
                    failures.push((href.to_string(), message));
                }
                // The document is there but unusable: no point trying the other renditions.
                Err(e) => return Err(e),
            }
        }
        if let Some(b64) = resource.get("base64") {
            let value = b64.get("value").and_then(Value::as_str).unwrap_or("");
            let name = b64
                .get("filename")
                .and_then(Value::as_str)
                .unwrap_or("base64 resource");
            let cleaned: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(cleaned.as_bytes())
                .map_err(|e| OscalError::Resolution {
                    file: id.to_string(),
                    message: format!("base64 of back-matter resource: {e}"),
                })?;
            let doc = crate::document::parse_unvalidated(&bytes, name)?;
            return Ok(Loaded {
                id: format!(
                    "{id}#{}",
                    resource.get("uuid").and_then(Value::as_str).unwrap_or("")
                ),
                document: doc.value,
            });
        }
        let message = match failures.as_slice() {
            [] => "the resource has neither rlinks nor base64".to_string(),
            [(href, why)] => format!("{href}: {why}"),
            [(_, why), ..] => format!(
                "none of its rlinks can be read ({}): {why}",
                failures
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        Err(OscalError::Resolution {
            file: id.to_string(),
            message,
        })
    }

    /// The ids of the controls an import selects (include minus exclude).
    fn select(
        &mut self,
        catalog: &Map<String, Value>,
        import: &Map<String, Value>,
        href: &str,
        id: &str,
    ) -> Result<(HashSet<String>, HashSet<String>), OscalError> {
        let include_all =
            import.contains_key("include-all") || !import.contains_key("include-controls");
        let include = Selectors::parse(import.get("include-controls"));
        let exclude = Selectors::parse(import.get("exclude-controls"));
        let mut known = HashSet::new();
        let mut selected = HashSet::new();
        walk_controls(catalog, &mut |control, _| {
            if let Some(cid) = control.get("id").and_then(Value::as_str) {
                known.insert(cid.to_string());
            }
        });
        let mut excluded = HashSet::new();
        let mut state = SelectState {
            include_all,
            include: &include,
            exclude: &exclude,
            selected: &mut selected,
            excluded: &mut excluded,
        };
        for groups_or_controls in ["groups", "controls"] {
            for item in arr(catalog, groups_or_controls) {
                state.visit(item, groups_or_controls == "groups", false, false);
            }
        }
        let mut missing: Vec<&str> = include
            .iter()
            .chain(exclude.iter())
            .flat_map(|s| s.ids.iter())
            .filter(|i| !known.contains(*i))
            .map(String::as_str)
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for m in missing {
            self.warn(format!(
                "{id}: import {href:?} names control {m:?}, which the imported catalog lacks"
            ))?;
        }
        Ok((selected, excluded))
    }
}

/// `include-controls` / `exclude-controls` entries.
struct Selectors(Vec<Selector>);

struct Selector {
    ids: HashSet<String>,
    patterns: Vec<String>,
    with_children: bool,
}

impl Selectors {
    fn parse(v: Option<&Value>) -> Self {
        let list = v.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        Selectors(
            list.iter()
                .map(|s| Selector {
                    ids: s
                        .get("with-ids")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    patterns: s
                        .get("matching")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|m| m.get("pattern").and_then(Value::as_str))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    with_children: s.get("with-child-controls").and_then(Value::as_str)
                        == Some("yes"),
                })
                .collect(),
        )
    }

    fn iter(&self) -> std::slice::Iter<'_, Selector> {
        self.0.iter()
    }

    /// (matched, matched by a selector that takes child controls along)
    fn matches(&self, id: &str) -> (bool, bool) {
        let mut hit = false;
        let mut children = false;
        for s in &self.0 {
            if s.ids.contains(id) || s.patterns.iter().any(|p| glob_match(p, id)) {
                hit = true;
                children |= s.with_children;
            }
        }
        (hit, children)
    }
}

struct SelectState<'a> {
    include_all: bool,
    include: &'a Selectors,
    exclude: &'a Selectors,
    selected: &'a mut HashSet<String>,
    excluded: &'a mut HashSet<String>,
}

impl SelectState<'_> {
    fn visit(&mut self, item: &Value, is_group: bool, inc_inherited: bool, exc_inherited: bool) {
        if is_group {
            for g in arr_v(item, "groups") {
                self.visit(g, true, inc_inherited, exc_inherited);
            }
            for c in arr_v(item, "controls") {
                self.visit(c, false, inc_inherited, exc_inherited);
            }
            return;
        }
        let id = item.get("id").and_then(Value::as_str).unwrap_or("");
        let (inc, inc_children) = self.include.matches(id);
        let (exc, exc_children) = self.exclude.matches(id);
        let included = self.include_all || inc_inherited || inc;
        let excluded = exc_inherited || exc;
        if included && !excluded && !id.is_empty() {
            self.selected.insert(id.to_string());
        }
        if excluded && !id.is_empty() {
            self.excluded.insert(id.to_string());
        }
        for c in arr_v(item, "controls") {
            self.visit(
                c,
                false,
                inc_inherited || inc_children,
                exc_inherited || exc_children,
            );
        }
    }
}

/// Glob match of a control id: `*` any run of characters, `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The resolved content being assembled.
#[derive(Default)]
struct Output {
    groups: Vec<Value>,
    controls: Vec<Value>,
    /// Parameters outside the kept controls (catalog level, dropped groups, dropped
    /// controls): kept at catalog level when the output refers to them.
    loose_params: Vec<Value>,
    resources: Vec<Value>,
}

impl Output {
    fn add_source(&mut self, source: Source, as_is: bool) {
        let Source {
            mut catalog,
            mut selected,
            excluded,
            ..
        } = source;
        if as_is {
            // As-is keeps the structure: the ancestor controls of a selected control come
            // along (NIST's resolver does the same, e.g. AC-3 for AC-3(14) in PRIVACY),
            // unless the profile excluded them.
            let mut path: Vec<String> = Vec::new();
            let mut ancestors: Vec<String> = Vec::new();
            walk_controls(&catalog, &mut |control, depth| {
                path.truncate(depth);
                let id = control.get("id").and_then(Value::as_str).unwrap_or("");
                if selected.contains(id) {
                    ancestors.extend(path.iter().filter(|a| !excluded.contains(*a)).cloned());
                }
                path.push(id.to_string());
            });
            selected.extend(ancestors);
        }
        if let Some(Value::Array(params)) = catalog.remove("params") {
            self.loose_params.extend(params);
        }
        if let Some(Value::Array(res)) = catalog
            .remove("back-matter")
            .and_then(|mut b| b.get_mut("resources").map(Value::take))
        {
            self.resources.extend(res);
        }
        let groups = take_arr(&mut catalog, "groups");
        let controls = take_arr(&mut catalog, "controls");
        if as_is {
            for c in controls {
                filter_control(c, &selected, &mut self.controls, &mut self.loose_params);
            }
            for g in groups {
                if let Some(g) = filter_group(g, &selected, &mut self.loose_params) {
                    merge_group(&mut self.groups, g);
                }
            }
        } else {
            for c in controls {
                filter_control(c, &selected, &mut self.controls, &mut self.loose_params);
            }
            for g in groups {
                flatten_group(g, &selected, &mut self.controls, &mut self.loose_params);
            }
        }
    }
}

/// Keep a control if selected (with its selected descendants nested); otherwise promote its
/// selected descendants to `out` in its place.
fn filter_control(
    control: Value,
    selected: &HashSet<String>,
    out: &mut Vec<Value>,
    loose: &mut Vec<Value>,
) {
    let Value::Object(mut control) = control else {
        return;
    };
    let children = take_arr(&mut control, "controls");
    let keep = control
        .get("id")
        .and_then(Value::as_str)
        .is_some_and(|id| selected.contains(id));
    if keep {
        let mut kept = Vec::new();
        for c in children {
            filter_control(c, selected, &mut kept, loose);
        }
        if !kept.is_empty() {
            control.insert("controls".into(), Value::Array(kept));
        }
        out.push(Value::Object(control));
    } else {
        if let Some(Value::Array(params)) = control.remove("params") {
            loose.extend(params);
        }
        for c in children {
            filter_control(c, selected, out, loose);
        }
    }
}

fn filter_group(group: Value, selected: &HashSet<String>, loose: &mut Vec<Value>) -> Option<Value> {
    let Value::Object(mut group) = group else {
        return None;
    };
    let sub_groups = take_arr(&mut group, "groups");
    let controls = take_arr(&mut group, "controls");
    let mut kept_controls = Vec::new();
    for c in controls {
        filter_control(c, selected, &mut kept_controls, loose);
    }
    let mut kept_groups = Vec::new();
    for g in sub_groups {
        if let Some(g) = filter_group(g, selected, loose) {
            kept_groups.push(g);
        }
    }
    if kept_controls.is_empty() && kept_groups.is_empty() {
        if let Some(Value::Array(params)) = group.remove("params") {
            loose.extend(params);
        }
        return None;
    }
    // Keep the schema's member order: ... parts, groups, controls.
    if !kept_groups.is_empty() {
        group.insert("groups".into(), Value::Array(kept_groups));
    }
    if !kept_controls.is_empty() {
        group.insert("controls".into(), Value::Array(kept_controls));
    }
    Some(Value::Object(group))
}

fn flatten_group(
    group: Value,
    selected: &HashSet<String>,
    out: &mut Vec<Value>,
    loose: &mut Vec<Value>,
) {
    let Value::Object(mut group) = group else {
        return;
    };
    if let Some(Value::Array(params)) = group.remove("params") {
        loose.extend(params);
    }
    // JSON keeps a group's controls and sub-groups in two arrays, so their relative order is
    // not recorded; controls come first everywhere in this crate (walks, nodes, output).
    for c in take_arr(&mut group, "controls") {
        filter_control(c, selected, out, loose);
    }
    for g in take_arr(&mut group, "groups") {
        flatten_group(g, selected, out, loose);
    }
}

/// Add a group to a list, merging it into an earlier group with the same (non-empty) id.
fn merge_group(groups: &mut Vec<Value>, group: Value) {
    let gid = group.get("id").and_then(Value::as_str).map(str::to_string);
    if let Some(gid) = gid {
        if let Some(existing) = groups
            .iter_mut()
            .find(|g| g.get("id").and_then(Value::as_str) == Some(gid.as_str()))
        {
            if let (Value::Object(existing), Value::Object(mut new)) = (existing, group) {
                for key in ["groups", "controls"] {
                    let items = take_arr(&mut new, key);
                    if items.is_empty() {
                        continue;
                    }
                    let target = existing
                        .entry(key)
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(target) = target {
                        if key == "groups" {
                            let mut list = std::mem::take(target);
                            for g in items {
                                merge_group(&mut list, g);
                            }
                            *target = list;
                        } else {
                            target.extend(items);
                        }
                    }
                }
            }
            return;
        }
    }
    groups.push(group);
}

/// `merge.custom`: build groups from `insert-controls` directives; controls not placed
/// anywhere are dropped.
fn custom_structure(out: Output, custom: &Value) -> Output {
    // Pool: every resolved control, un-nested, in catalog order, with its parent id.
    type Pool = Vec<(Map<String, Value>, Option<String>)>;
    fn flatten_control(item: Value, parent: Option<&str>, pool: &mut Pool) {
        let Value::Object(mut m) = item else { return };
        let children = take_arr(&mut m, "controls");
        let my_id = m.get("id").and_then(Value::as_str).map(str::to_string);
        pool.push((m, parent.map(str::to_string)));
        for c in children {
            flatten_control(c, my_id.as_deref(), pool);
        }
    }
    fn flatten_groups(item: Value, pool: &mut Pool) {
        let Value::Object(mut m) = item else { return };
        for c in take_arr(&mut m, "controls") {
            flatten_control(c, None, pool);
        }
        for g in take_arr(&mut m, "groups") {
            flatten_groups(g, pool);
        }
    }
    let mut pool: Pool = Vec::new();
    for c in out.controls {
        flatten_control(c, None, &mut pool);
    }
    for g in out.groups {
        flatten_groups(g, &mut pool);
    }
    let mut placed: HashSet<String> = HashSet::new();
    let mut result = Output {
        loose_params: out.loose_params,
        resources: out.resources,
        ..Output::default()
    };
    if let Some(groups) = custom.get("groups").and_then(Value::as_array) {
        for g in groups {
            if let Some(g) = custom_group(g, &pool, &mut placed) {
                result.groups.push(g);
            }
        }
    }
    if let Some(ins) = custom.get("insert-controls").and_then(Value::as_array) {
        result.controls = insert_controls(ins, &pool, &mut placed);
    }
    result
}

/// One group of `merge.custom`, with its sub-groups and the controls it inserts.
fn custom_group(
    spec: &Value,
    pool: &[(Map<String, Value>, Option<String>)],
    placed: &mut HashSet<String>,
) -> Option<Value> {
    let Value::Object(spec) = spec else {
        return None;
    };
    let mut group = Map::new();
    for (k, v) in spec {
        if k != "groups" && k != "insert-controls" {
            group.insert(k.clone(), v.clone());
        }
    }
    let mut subs = Vec::new();
    for g in arr(spec, "groups") {
        if let Some(g) = custom_group(g, pool, placed) {
            subs.push(g);
        }
    }
    let controls = insert_controls(arr(spec, "insert-controls"), pool, placed);
    if !subs.is_empty() {
        group.insert("groups".into(), Value::Array(subs));
    }
    if !controls.is_empty() {
        group.insert("controls".into(), Value::Array(controls));
    }
    Some(Value::Object(group))
}

fn insert_controls(
    directives: &[Value],
    pool: &[(Map<String, Value>, Option<String>)],
    placed: &mut HashSet<String>,
) -> Vec<Value> {
    let mut result = Vec::new();
    for d in directives {
        let include_all = d.get("include-all").is_some() || d.get("include-controls").is_none();
        let include = Selectors::parse(d.get("include-controls"));
        let exclude = Selectors::parse(d.get("exclude-controls"));
        // Which pool entries this directive takes (with child controls when asked).
        let mut take: HashSet<&str> = HashSet::new();
        let mut inc_children: HashSet<&str> = HashSet::new();
        let mut exc: HashSet<&str> = HashSet::new();
        let mut exc_children: HashSet<&str> = HashSet::new();
        for (c, parent) in pool {
            let cid = c.get("id").and_then(Value::as_str).unwrap_or("");
            let parent = parent.as_deref().unwrap_or("");
            let (i, ic) = include.matches(cid);
            let (e, ec) = exclude.matches(cid);
            let inherited_inc = inc_children.contains(parent);
            let inherited_exc = exc_children.contains(parent);
            if ic || inherited_inc {
                inc_children.insert(cid);
            }
            if ec || inherited_exc {
                exc_children.insert(cid);
            }
            if e || inherited_exc {
                exc.insert(cid);
            }
            if (include_all || i || inherited_inc) && !exc.contains(cid) && !placed.contains(cid) {
                take.insert(cid);
            }
        }
        let mut chosen: Vec<&(Map<String, Value>, Option<String>)> = pool
            .iter()
            .filter(|(c, _)| take.contains(c.get("id").and_then(Value::as_str).unwrap_or("")))
            .collect();
        let order = d.get("order").and_then(Value::as_str).unwrap_or("keep");
        match order {
            "ascending" | "descending" => {
                // Flat, sorted by id.
                chosen.sort_by(|a, b| {
                    let ka = a.0.get("id").and_then(Value::as_str).unwrap_or("");
                    let kb = b.0.get("id").and_then(Value::as_str).unwrap_or("");
                    ka.cmp(kb)
                });
                if order == "descending" {
                    chosen.reverse();
                }
                for (c, _) in chosen {
                    placed.insert(
                        c.get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    );
                    result.push(Value::Object(c.clone()));
                }
            }
            _ => {
                // Keep: nest under a chosen parent, else top level of this group.
                let ids: HashSet<&str> = take.clone();
                let mut nodes: Vec<(String, Option<String>, Map<String, Value>)> = chosen
                    .iter()
                    .map(|(c, p)| {
                        (
                            c.get("id")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                            p.clone().filter(|p| ids.contains(p.as_str())),
                            c.clone(),
                        )
                    })
                    .collect();
                for (cid, _, _) in &nodes {
                    placed.insert(cid.clone());
                }
                // Children come after their parents in catalog order: attach bottom-up.
                while let Some(pos) = nodes.iter().rposition(|n| n.1.is_some()) {
                    let (_, parent, node) = nodes.remove(pos);
                    let parent = parent.unwrap_or_default();
                    if let Some(p) = nodes.iter_mut().find(|n| n.0 == parent) {
                        let list =
                            p.2.entry("controls")
                                .or_insert_with(|| Value::Array(Vec::new()));
                        if let Value::Array(list) = list {
                            list.insert(0, Value::Object(node));
                        }
                    }
                }
                result.extend(nodes.into_iter().map(|n| Value::Object(n.2)));
            }
        }
    }
    result
}

// ---------------------------------------------------------------- modify

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Alters,
    SetParameters,
}

impl Resolver<'_> {
    fn modify(
        &mut self,
        catalog: &mut Map<String, Value>,
        modify: &Value,
        id: &str,
        phase: Phase,
    ) -> Result<(), OscalError> {
        let set_params = modify
            .get("set-parameters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let alters = modify
            .get("alters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);

        let (set_params, alters) = match phase {
            Phase::Alters => (&[][..], alters),
            Phase::SetParameters => (set_params, &[][..]),
        };
        let mut by_param: HashMap<&str, Vec<&Value>> = HashMap::new();
        for sp in set_params {
            if let Some(pid) = sp.get("param-id").and_then(Value::as_str) {
                by_param.entry(pid).or_default().push(sp);
            }
        }
        let mut by_control: HashMap<&str, Vec<&Value>> = HashMap::new();
        for a in alters {
            if let Some(cid) = a.get("control-id").and_then(Value::as_str) {
                by_control.entry(cid).or_default().push(a);
            }
        }

        // Alters first (they may add parameters), then parameter settings.
        let mut seen_controls: HashSet<String> = HashSet::new();
        let mut missing_targets: Vec<String> = Vec::new();
        for_each_control_mut(catalog, &mut |control| {
            let Some(cid) = control
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
            else {
                return;
            };
            if let Some(list) = by_control.get(cid.as_str()) {
                seen_controls.insert(cid.clone());
                for alter in list {
                    apply_alter(control, alter, &cid, &mut missing_targets);
                }
            }
        });
        let mut seen_params: HashSet<String> = HashSet::new();
        for_each_param_mut(catalog, &mut |param| {
            let Some(pid) = param.get("id").and_then(Value::as_str).map(str::to_string) else {
                return;
            };
            if let Some(list) = by_param.get(pid.as_str()) {
                seen_params.insert(pid);
                for sp in list {
                    apply_set_param(param, sp);
                }
            }
        });

        let mut unknown: Vec<&str> = by_control
            .keys()
            .filter(|c| !seen_controls.contains(**c))
            .copied()
            .collect();
        unknown.sort_unstable();
        for c in unknown {
            self.warn(format!(
                "{id}: alter targets control {c:?}, which is not in the resolved catalog"
            ))?;
        }
        let mut unknown: Vec<&str> = by_param
            .keys()
            .filter(|p| !seen_params.contains(**p))
            .copied()
            .collect();
        unknown.sort_unstable();
        for p in unknown {
            self.warn(format!(
                "{id}: set-parameters targets parameter {p:?}, which is not in the resolved catalog"
            ))?;
        }
        for m in missing_targets {
            self.warn(format!("{id}: {m}"))?;
        }
        Ok(())
    }
}

/// Set-parameter: these members replace the parameter's own; the rest are appended.
fn apply_set_param(param: &mut Map<String, Value>, set: &Value) {
    const REPLACE: [&str; 6] = ["class", "depends-on", "label", "usage", "values", "select"];
    const APPEND: [&str; 4] = ["props", "links", "constraints", "guidelines"];
    let Some(set) = set.as_object() else { return };
    for key in REPLACE {
        if let Some(v) = set.get(key) {
            param.insert(key.to_string(), v.clone());
            // A value list and a choice exclude each other.
            if key == "values" {
                param.remove("select");
            } else if key == "select" {
                param.remove("values");
            }
        }
    }
    for key in APPEND {
        if let Some(Value::Array(add)) = set.get(key) {
            append(param, key, add.iter().cloned());
        }
    }
    if let Some(r) = set.get("remarks") {
        param.insert("remarks".into(), r.clone());
    }
}

fn append(target: &mut Map<String, Value>, key: &str, items: impl IntoIterator<Item = Value>) {
    let entry = target
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.extend(items);
    }
}

fn prepend(target: &mut Map<String, Value>, key: &str, items: Vec<Value>) {
    let entry = target
        .entry(key)
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        list.splice(0..0, items);
    }
}

fn apply_alter(
    control: &mut Map<String, Value>,
    alter: &Value,
    cid: &str,
    missing: &mut Vec<String>,
) {
    for remove in arr_v(alter, "removes") {
        remove_matching(control, remove);
    }
    for add in arr_v(alter, "adds") {
        let position = add
            .get("position")
            .and_then(Value::as_str)
            .unwrap_or("ending");
        match add.get("by-id").and_then(Value::as_str) {
            None => add_to(
                control,
                add,
                position == "before" || position == "starting",
                true,
            ),
            Some(target) if target == cid => {
                add_to(
                    control,
                    add,
                    position == "before" || position == "starting",
                    true,
                );
            }
            Some(target) => {
                if !add_by_id(control, add, target, position) {
                    missing.push(format!(
                        "alter of control {cid:?}: adds by-id {target:?} matches nothing in the control"
                    ));
                }
            }
        }
    }
}

/// Add title/params/props/links/parts of an `adds` into `target`.
fn add_to(target: &mut Map<String, Value>, add: &Value, at_start: bool, is_control: bool) {
    if let Some(title) = add.get("title") {
        target.insert("title".into(), title.clone());
    }
    for key in ["params", "props", "links", "parts"] {
        if key == "params" && !is_control {
            continue;
        }
        if let Some(Value::Array(items)) = add.get(key) {
            if at_start {
                prepend(target, key, items.clone());
            } else {
                append(target, key, items.iter().cloned());
            }
        }
    }
}

/// Add relative to a part (or parameter) with id `target` inside the control.
fn add_by_id(control: &mut Map<String, Value>, add: &Value, target: &str, position: &str) -> bool {
    match position {
        "starting" | "ending" => {
            let at_start = position == "starting";
            // Params of an `adds` always go to the control itself.
            if let Some(Value::Array(params)) = add.get("params") {
                if at_start {
                    prepend(control, "params", params.clone());
                } else {
                    append(control, "params", params.iter().cloned());
                }
            }
            if let Some(part) = find_part_mut(control, target) {
                add_to(part, add, at_start, false);
                return true;
            }
            if let Some(param) = arr_mut(control, "params")
                .iter_mut()
                .find(|p| p.get("id").and_then(Value::as_str) == Some(target))
            {
                if let Value::Object(param) = param {
                    for key in ["props", "links"] {
                        if let Some(Value::Array(items)) = add.get(key) {
                            if at_start {
                                prepend(param, key, items.clone());
                            } else {
                                append(param, key, items.iter().cloned());
                            }
                        }
                    }
                }
                return true;
            }
            false
        }
        _ => {
            let after = position == "after";
            // A parameter target: insert params beside it.
            if let Some(Value::Array(params)) = control.get_mut("params")
                && let Some(pos) = params
                    .iter()
                    .position(|p| p.get("id").and_then(Value::as_str) == Some(target))
            {
                let at = if after { pos + 1 } else { pos };
                if let Some(Value::Array(items)) = add.get("params") {
                    params.splice(at..at, items.iter().cloned());
                }
                return true;
            }
            if let Some(Value::Array(params)) = add.get("params") {
                append(control, "params", params.iter().cloned());
            }
            insert_beside_part(control, add, target, after)
        }
    }
}

/// Insert parts beside the part `target` (searching nested parts); props and links go to the
/// part's parent.
fn insert_beside_part(
    parent: &mut Map<String, Value>,
    add: &Value,
    target: &str,
    after: bool,
) -> bool {
    if let Some(Value::Array(parts)) = parent.get_mut("parts")
        && let Some(pos) = parts
            .iter()
            .position(|p| p.get("id").and_then(Value::as_str) == Some(target))
    {
        let at = if after { pos + 1 } else { pos };
        if let Some(Value::Array(items)) = add.get("parts") {
            parts.splice(at..at, items.iter().cloned());
        }
        for key in ["props", "links"] {
            if let Some(Value::Array(items)) = add.get(key) {
                if after {
                    append(parent, key, items.iter().cloned());
                } else {
                    prepend(parent, key, items.clone());
                }
            }
        }
        return true;
    }
    for p in arr_mut(parent, "parts") {
        if let Value::Object(p) = p {
            if insert_beside_part(p, add, target, after) {
                return true;
            }
        }
    }
    false
}

fn find_part_mut<'a>(
    m: &'a mut Map<String, Value>,
    target: &str,
) -> Option<&'a mut Map<String, Value>> {
    for p in arr_mut(m, "parts") {
        if let Value::Object(p) = p {
            if p.get("id").and_then(Value::as_str) == Some(target) {
                return Some(p);
            }
            if let Some(found) = find_part_mut(p, target) {
                return Some(found);
            }
        }
    }
    None
}

/// The criteria of one `removes` entry (all given ones must match).
#[derive(Clone, Copy)]
struct RemoveCriteria<'a> {
    name: Option<&'a str>,
    class: Option<&'a str>,
    id: Option<&'a str>,
    ns: Option<&'a str>,
    item: Option<&'a str>,
}

impl RemoveCriteria<'_> {
    fn matches(self, v: &Value, item_name: &str) -> bool {
        let field = |k: &str| v.get(k).and_then(Value::as_str);
        self.item.is_none_or(|i| i == item_name)
            && self.name.is_none_or(|n| field("name") == Some(n))
            && self.class.is_none_or(|c| field("class") == Some(c))
            && self
                .id
                .is_none_or(|i| field("id") == Some(i) || field("uuid") == Some(i))
            && self.ns.is_none_or(|n| field("ns") == Some(n))
    }

    /// Remove matching items from `m` and, recursively, from its parts.
    fn apply(self, m: &mut Map<String, Value>) {
        for (key, item_name) in [
            ("params", "param"),
            ("props", "prop"),
            ("links", "link"),
            ("parts", "part"),
        ] {
            let mut now_empty = false;
            if let Some(Value::Array(list)) = m.get_mut(key) {
                list.retain(|v| !self.matches(v, item_name));
                now_empty = list.is_empty();
            }
            if now_empty {
                m.remove(key);
            }
        }
        for p in arr_mut(m, "parts") {
            if let Value::Object(p) = p {
                self.apply(p);
            }
        }
    }
}

/// Remove every param/prop/link/part of the control (at any depth of parts, not in child
/// controls) that matches all the criteria of `remove`.
fn remove_matching(control: &mut Map<String, Value>, remove: &Value) {
    let crit = |key: &str| remove.get(key).and_then(Value::as_str);
    let criteria = RemoveCriteria {
        name: crit("by-name"),
        class: crit("by-class"),
        id: crit("by-id"),
        ns: crit("by-ns"),
        item: crit("by-item-name"),
    };
    if criteria.name.is_none()
        && criteria.class.is_none()
        && criteria.id.is_none()
        && criteria.ns.is_none()
        && criteria.item.is_none()
    {
        return;
    }
    criteria.apply(control);
}

// ---------------------------------------------------------------- loose params, back-matter

fn add_loose_params(catalog: &mut Map<String, Value>, loose: Vec<Value>) {
    if loose.is_empty() {
        return;
    }
    let mut defined: HashSet<String> = HashSet::new();
    for_each_param(catalog, &mut |p| {
        if let Some(id) = p.get("id").and_then(Value::as_str) {
            defined.insert(id.to_string());
        }
    });
    let mut referenced: HashSet<String> = HashSet::new();
    catalog
        .values()
        .for_each(|v| collect_param_refs(v, &mut referenced));
    // A kept loose parameter may refer to another one: iterate to a fixpoint.
    let mut kept: Vec<Value> = Vec::new();
    let mut kept_ids: HashSet<String> = HashSet::new();
    loop {
        let mut changed = false;
        for p in &loose {
            let Some(pid) = p.get("id").and_then(Value::as_str) else {
                continue;
            };
            if referenced.contains(pid) && !defined.contains(pid) && !kept_ids.contains(pid) {
                kept_ids.insert(pid.to_string());
                collect_param_refs(p, &mut referenced);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    for p in loose {
        if let Some(pid) = p.get("id").and_then(Value::as_str) {
            if kept_ids.remove(pid) {
                kept.push(p);
            }
        }
    }
    if !kept.is_empty() {
        prepend(catalog, "params", kept);
    }
}

/// Parameter ids named by `{{ insert: param, ID }}` and by `depends-on`.
fn collect_param_refs(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) => scan_inserts(s, out),
        Value::Array(a) => a.iter().for_each(|x| collect_param_refs(x, out)),
        Value::Object(m) => {
            for (k, x) in m {
                if k == "depends-on" || k == "param-id" {
                    if let Some(s) = x.as_str() {
                        out.insert(s.to_string());
                    }
                }
                collect_param_refs(x, out);
            }
        }
        _ => {}
    }
}

/// Parse `{{ insert: param, ID }}` occurrences.
pub(crate) fn scan_inserts(s: &str, out: &mut HashSet<String>) {
    for_each_insert(s, |kind, id| {
        if kind == "param" {
            out.insert(id.to_string());
        }
    });
}

/// Call `f(type, id)` for each `{{ insert: TYPE, ID }}` in `s`.
pub(crate) fn for_each_insert(s: &str, mut f: impl FnMut(&str, &str)) {
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if let Some(spec) = inner.strip_prefix("insert:") {
            let mut it = spec.splitn(2, ',');
            if let (Some(kind), Some(id)) = (it.next(), it.next()) {
                f(kind.trim(), id.trim());
            }
        }
        rest = &after[end + 2..];
    }
}

/// Keep the back-matter resources the catalog refers to (`#uuid` in any string), transitively,
/// first occurrence of each uuid, in source order.
fn add_back_matter(catalog: &mut Map<String, Value>, resources: Vec<Value>) {
    if resources.is_empty() {
        return;
    }
    let mut refs: HashSet<String> = HashSet::new();
    catalog
        .values()
        .for_each(|v| collect_uuid_refs(v, &mut refs));
    let mut keep: HashSet<String> = HashSet::new();
    loop {
        let mut changed = false;
        for r in &resources {
            let Some(u) = r.get("uuid").and_then(Value::as_str) else {
                continue;
            };
            let lu = u.to_ascii_lowercase();
            if refs.contains(&lu) && keep.insert(lu) {
                collect_uuid_refs(r, &mut refs);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let mut out = Vec::new();
    for r in resources {
        if let Some(u) = r.get("uuid").and_then(Value::as_str) {
            if keep.remove(&u.to_ascii_lowercase()) {
                out.push(r);
            }
        }
    }
    if !out.is_empty() {
        catalog.insert("back-matter".into(), json!({ "resources": out }));
    }
}

fn collect_uuid_refs(v: &Value, out: &mut HashSet<String>) {
    match v {
        Value::String(s) => {
            for (i, _) in s.match_indices('#') {
                if let Some(u) = s.get(i + 1..i + 37) {
                    if is_uuid(u) {
                        out.insert(u.to_ascii_lowercase());
                    }
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_uuid_refs(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_uuid_refs(x, out)),
        _ => {}
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                b == b'-'
            } else {
                b.is_ascii_hexdigit()
            }
        })
}

// ---------------------------------------------------------------- metadata

fn output_metadata(profile: &Map<String, Value>, source_href: &str) -> Value {
    let src = profile
        .get("metadata")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let mut m = Map::new();
    m.insert(
        "title".into(),
        src.get("title")
            .cloned()
            .unwrap_or_else(|| Value::String("Resolved profile".into())),
    );
    if let Some(p) = src.get("published") {
        m.insert("published".into(), p.clone());
    }
    m.insert("last-modified".into(), Value::String(now));
    m.insert(
        "version".into(),
        src.get("version")
            .cloned()
            .unwrap_or_else(|| Value::String("1.0".into())),
    );
    m.insert(
        "oscal-version".into(),
        Value::String(crate::OSCAL_VERSION.into()),
    );
    for key in ["revisions", "document-ids"] {
        if let Some(v) = src.get(key) {
            m.insert(key.into(), v.clone());
        }
    }
    let mut props: Vec<Value> = src
        .get("props")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    props.push(json!({ "name": "resolution-tool", "value": RESOLUTION_TOOL }));
    m.insert("props".into(), Value::Array(props));
    let mut links: Vec<Value> = src
        .get("links")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let href = if source_href.is_empty() {
        "profile.json"
    } else {
        source_href
    };
    links.push(json!({ "href": href, "rel": "source-profile" }));
    m.insert("links".into(), Value::Array(links));
    for (k, v) in src {
        if !m.contains_key(&k) && k != "last-modified" && k != "oscal-version" {
            m.insert(k, v);
        }
    }
    Value::Object(m)
}

/// Put the members of the catalog in schema order (uuid, metadata, params, controls, groups,
/// back-matter).
fn reorder_catalog(mut catalog: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for key in [
        "uuid",
        "metadata",
        "params",
        "controls",
        "groups",
        "back-matter",
    ] {
        if let Some(v) = catalog.remove(key) {
            out.insert(key.into(), v);
        }
    }
    out.extend(catalog);
    out
}

/// A random (version 4) UUID.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

// ---------------------------------------------------------------- tree helpers

fn arr<'a>(m: &'a Map<String, Value>, key: &str) -> &'a [Value] {
    m.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn arr_v<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

fn arr_mut<'a>(m: &'a mut Map<String, Value>, key: &str) -> &'a mut [Value] {
    match m.get_mut(key) {
        Some(Value::Array(a)) => a.as_mut_slice(),
        _ => &mut [],
    }
}

fn take_arr(m: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match m.remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

/// Visit every control of a catalog body (groups and nested controls), in document order.
/// The second argument is the depth of control nesting (0 for a top-level control).
pub(crate) fn walk_controls(catalog: &Map<String, Value>, f: &mut dyn FnMut(&Value, usize)) {
    fn control(c: &Value, depth: usize, f: &mut dyn FnMut(&Value, usize)) {
        f(c, depth);
        for child in arr_v(c, "controls") {
            control(child, depth + 1, f);
        }
    }
    fn group(g: &Value, f: &mut dyn FnMut(&Value, usize)) {
        for c in arr_v(g, "controls") {
            control(c, 0, f);
        }
        for sub in arr_v(g, "groups") {
            group(sub, f);
        }
    }
    for c in arr(catalog, "controls") {
        control(c, 0, f);
    }
    for g in arr(catalog, "groups") {
        group(g, f);
    }
}

fn for_each_control_mut(
    catalog: &mut Map<String, Value>,
    f: &mut dyn FnMut(&mut Map<String, Value>),
) {
    fn control(c: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Value::Object(m) = c {
            f(m);
            for child in arr_mut(m, "controls") {
                control(child, f);
            }
        }
    }
    fn group(g: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Value::Object(m) = g {
            for c in arr_mut(m, "controls") {
                control(c, f);
            }
            for sub in arr_mut(m, "groups") {
                group(sub, f);
            }
        }
    }
    for c in arr_mut(catalog, "controls") {
        control(c, f);
    }
    for g in arr_mut(catalog, "groups") {
        group(g, f);
    }
}

/// Every parameter: catalog level, group level, control level.
fn for_each_param_mut(
    catalog: &mut Map<String, Value>,
    f: &mut dyn FnMut(&mut Map<String, Value>),
) {
    fn params(m: &mut Map<String, Value>, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        for p in arr_mut(m, "params") {
            if let Value::Object(p) = p {
                f(p);
            }
        }
    }
    fn node(n: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
        if let Value::Object(m) = n {
            params(m, f);
            for c in arr_mut(m, "controls") {
                node(c, f);
            }
            for g in arr_mut(m, "groups") {
                node(g, f);
            }
        }
    }
    params(catalog, f);
    for c in arr_mut(catalog, "controls") {
        node(c, f);
    }
    for g in arr_mut(catalog, "groups") {
        node(g, f);
    }
}

fn for_each_param(catalog: &Map<String, Value>, f: &mut dyn FnMut(&Value)) {
    fn node(n: &Value, f: &mut dyn FnMut(&Value)) {
        arr_v(n, "params").iter().for_each(&mut *f);
        for c in arr_v(n, "controls") {
            node(c, f);
        }
        for g in arr_v(n, "groups") {
            node(g, f);
        }
    }
    arr(catalog, "params").iter().for_each(&mut *f);
    for c in arr(catalog, "controls") {
        node(c, f);
    }
    for g in arr(catalog, "groups") {
        node(g, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{DocumentKind, validate_value};

    const U1: &str = "11111111-1111-4111-8111-111111111111";
    const U2: &str = "22222222-2222-4222-8222-222222222222";

    fn catalog() -> Value {
        json!({"catalog": {
            "uuid": "00000000-0000-4000-8000-000000000001",
            "metadata": {"title": "Test catalog", "last-modified": "2024-01-01T00:00:00Z",
                         "version": "1", "oscal-version": "1.1.2"},
            "params": [{"id": "loose1", "label": "loose one"},
                       {"id": "loose2", "label": "never referenced"}],
            "groups": [
                {"id": "g1", "title": "Group one",
                 "params": [{"id": "gp1", "label": "group param"}],
                 "controls": [
                    {"id": "a1", "title": "A1", "class": "keep-me",
                     "params": [{"id": "a1_p", "label": "a1 label",
                                 "props": [{"name": "p0", "value": "v"}]}],
                     "props": [{"name": "label", "value": "A-1"},
                               {"name": "status", "value": "x", "class": "drop", "ns": "https://example.com/ns"}],
                     "links": [{"href": format!("#{U1}"), "rel": "reference"}],
                     "parts": [{"id": "a1_smt", "name": "statement",
                                "prose": "Do {{ insert: param, a1_p }} and {{ insert: param, gp1 }}.",
                                "parts": [{"id": "a1_smt.a", "name": "item", "prose": "first"}]},
                               {"id": "a1_gdn", "name": "guidance", "prose": "Guidance."}],
                     "x-unknown-field": {"kept": true}},
                    {"id": "a2", "title": "A2",
                     "parts": [{"id": "a2_smt", "name": "statement", "prose": "A2 text."}],
                     "controls": [
                        {"id": "a2.1", "title": "A2(1)", "params": [{"id": "a2.1_p"}]},
                        {"id": "a2.2", "title": "A2(2)",
                         "controls": [{"id": "a2.2.x", "title": "deep"}]}
                     ]}
                 ]},
                {"id": "g2", "title": "Group two",
                 "controls": [
                    {"id": "b1", "title": "B1",
                     "parts": [{"id": "b1_smt", "name": "statement",
                                "prose": "Uses {{ insert: param, loose1 }} and [a cite](#22222222-2222-4222-8222-222222222222)."}]},
                    {"id": "b2", "title": "B2", "params": [{"id": "b2_p", "label": "b2"}]},
                    {"id": "b10", "title": "B10"}
                 ]}
            ],
            "back-matter": {"resources": [
                {"uuid": U1, "title": "one"},
                {"uuid": U2, "title": "two"},
                {"uuid": "33333333-3333-4333-8333-333333333333", "title": "unreferenced"}
            ]}
        }})
    }

    #[allow(clippy::needless_pass_by_value)] // json!(...) at every call site
    fn profile(body: Value) -> Value {
        let mut p = json!({
            "uuid": "00000000-0000-4000-8000-0000000000aa",
            "metadata": {"title": "Test profile", "last-modified": "2024-01-01T00:00:00Z",
                         "version": "7", "oscal-version": "1.1.2"},
        });
        for (k, v) in body.as_object().unwrap() {
            p[k] = v.clone();
        }
        json!({ "profile": p })
    }

    fn loader() -> MemoryLoader {
        MemoryLoader::new().with("cat.json", catalog())
    }

    fn resolve(body: Value) -> Resolution {
        resolve_profile(&profile(body), "profile.json", &loader()).expect("resolves")
    }

    /// Control ids in document order, nested ones in brackets after their parent.
    fn shape(r: &Resolution) -> String {
        fn ctrl(c: &Value, out: &mut Vec<String>) {
            let mut s = c["id"].as_str().unwrap().to_string();
            let kids = arr_v(c, "controls");
            if !kids.is_empty() {
                let mut inner = Vec::new();
                for k in kids {
                    ctrl(k, &mut inner);
                }
                s = format!("{s}[{}]", inner.join(" "));
            }
            out.push(s);
        }
        fn grp(g: &Value, out: &mut Vec<String>) {
            let mut inner = Vec::new();
            for c in arr_v(g, "controls") {
                ctrl(c, &mut inner);
            }
            for s in arr_v(g, "groups") {
                grp(s, &mut inner);
            }
            out.push(format!(
                "{}{{{}}}",
                g["id"].as_str().unwrap_or("?"),
                inner.join(" ")
            ));
        }
        let cat = &r.catalog["catalog"];
        let mut out = Vec::new();
        for c in arr_v(cat, "controls") {
            ctrl(c, &mut out);
        }
        for g in arr_v(cat, "groups") {
            grp(g, &mut out);
        }
        out.join(" ")
    }

    fn control<'a>(r: &'a Resolution, id: &str) -> &'a Value {
        fn find<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
            for key in ["controls", "groups"] {
                for c in arr_v(v, key) {
                    if key == "controls" && c["id"] == id {
                        return Some(c);
                    }
                    if let Some(f) = find(c, id) {
                        return Some(f);
                    }
                }
            }
            None
        }
        find(&r.catalog["catalog"], id).unwrap_or_else(|| panic!("no control {id}"))
    }

    fn resources(r: &Resolution) -> Vec<String> {
        r.catalog["catalog"]
            .pointer("/back-matter/resources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| x["title"].as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The fixture's a1 carries a field the schema does not know (to check it survives);
    /// take it out before schema validation.
    fn without_unknown(v: &Value) -> Value {
        let text = serde_json::to_string(v).unwrap();
        let text = text.replace(r#","x-unknown-field":{"kept":true}"#, "");
        serde_json::from_str(&text).unwrap()
    }

    fn asis() -> Value {
        json!({"as-is": true})
    }

    #[test]
    fn include_all_as_is_keeps_structure_order_and_every_field() {
        let r =
            resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}], "merge": asis()}));
        assert_eq!(shape(&r), "g1{a1 a2[a2.1 a2.2[a2.2.x]]} g2{b1 b2 b10}");
        let a1 = control(&r, "a1");
        assert_eq!(a1["x-unknown-field"], json!({"kept": true}));
        assert_eq!(a1["class"], "keep-me");
        assert_eq!(a1["parts"][0]["parts"][0]["id"], "a1_smt.a");
        // Group parameters stay with their group; the referenced loose one floats up,
        // the unreferenced one is dropped.
        let cat = &r.catalog["catalog"];
        assert_eq!(cat["groups"][0]["params"][0]["id"], "gp1");
        assert_eq!(
            cat["params"],
            json!([{"id": "loose1", "label": "loose one"}])
        );
        // Only referenced resources, in catalog order.
        assert_eq!(resources(&r), ["one", "two"]);
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn output_metadata_follows_the_spec_and_validates() {
        let r =
            resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}], "merge": asis()}));
        let md = &r.catalog["catalog"]["metadata"];
        assert_eq!(md["title"], "Test profile");
        assert_eq!(md["version"], "7");
        assert_eq!(md["oscal-version"], "1.1.2");
        assert_ne!(md["last-modified"], "2024-01-01T00:00:00Z");
        assert_eq!(md["props"][0]["name"], "resolution-tool");
        assert_eq!(
            md["links"][0],
            json!({"href": "profile.json", "rel": "source-profile"})
        );
        let uuid = r.catalog["catalog"]["uuid"].as_str().unwrap();
        assert!(is_uuid(uuid) && uuid != "00000000-0000-4000-8000-0000000000aa");
        let (n, errors) = validate_value(&without_unknown(&r.catalog), DocumentKind::Catalog);
        assert_eq!(n, 0, "{errors:?}");
    }

    #[test]
    fn with_ids_without_children_takes_the_control_alone() {
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["b2", "a2"]}]}], "merge": asis()}));
        // Catalog order, not with-ids order.
        assert_eq!(shape(&r), "g1{a2} g2{b2}");
    }

    #[test]
    fn with_child_controls_yes_takes_all_descendants() {
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["a2"], "with-child-controls": "yes"}]}],
            "merge": asis()}));
        assert_eq!(shape(&r), "g1{a2[a2.1 a2.2[a2.2.x]]}");
    }

    #[test]
    fn matching_uses_glob_patterns() {
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"matching": [{"pattern": "b?"}, {"pattern": "a2.*"}]}]}]}));
        // Flat (no merge): no groups; a2.2.x is matched by a2.* too and nests in a2.2.
        assert_eq!(shape(&r), "a2.1 a2.2[a2.2.x] b1 b2");
    }

    #[test]
    fn exclude_with_children_and_without() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {},
            "exclude-controls": [{"with-ids": ["a2"], "with-child-controls": "yes"},
                                 {"with-ids": ["b1"]}]}], "merge": asis()}));
        assert_eq!(shape(&r), "g1{a1} g2{b2 b10}");
        // An excluded parent is not brought back as an ancestor: its children move up.
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {},
            "exclude-controls": [{"with-ids": ["a2"]}]}], "merge": asis()}));
        assert_eq!(shape(&r), "g1{a1 a2.1 a2.2[a2.2.x]} g2{b1 b2 b10}");
    }

    #[test]
    fn as_is_brings_ancestor_controls_along() {
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["a2.2.x"]}]}], "merge": asis()}));
        assert_eq!(shape(&r), "g1{a2[a2.2[a2.2.x]]}");
        // Flat does not.
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["a2.2.x"]}]}], "merge": {"flat": {}}}));
        assert_eq!(shape(&r), "a2.2.x");
    }

    #[test]
    fn flat_drops_groups_keeps_nesting_of_included_children() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
            "merge": {"flat": {}}}));
        assert_eq!(shape(&r), "a1 a2[a2.1 a2.2[a2.2.x]] b1 b2 b10");
        // gp1 is referenced by a1 and its group is gone: it floats to the catalog.
        let ids: Vec<&str> = arr_v(&r.catalog["catalog"], "params")
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["loose1", "gp1"]);
    }

    #[test]
    fn parameters_of_dropped_controls_float_only_when_referenced() {
        let r = resolve(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["b1"]}]}], "merge": asis()}));
        let ids: Vec<&str> = arr_v(&r.catalog["catalog"], "params")
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["loose1"]);
        assert_eq!(resources(&r), ["two"]);
    }

    #[test]
    fn unknown_control_id_is_a_warning_or_in_strict_mode_an_error() {
        let body = json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["a1", "zz-9"]}]}]});
        let r = resolve(body.clone());
        assert_eq!(shape(&r), "a1");
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("\"zz-9\""), "{}", r.warnings[0]);
        let err = resolve_profile_with(
            &profile(body),
            "p.json",
            &loader(),
            &ResolveOptions {
                strict: true,
                ..ResolveOptions::default()
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("zz-9"), "{err}");
    }

    #[test]
    fn missing_catalog_names_the_href() {
        let err = resolve_profile(
            &profile(json!({"imports": [{"href": "nope.json", "include-all": {}}]})),
            "p.json",
            &loader(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, OscalError::BrokenImport { .. }), "{msg}");
        assert!(msg.contains("nope.json") && msg.contains("p.json"), "{msg}");
    }

    #[test]
    fn circular_imports_are_detected() {
        let a = profile(json!({"imports": [{"href": "b.json", "include-all": {}}]}));
        let b = profile(json!({"imports": [{"href": "a.json", "include-all": {}}]}));
        let l = MemoryLoader::new()
            .with("a.json", a.clone())
            .with("b.json", b);
        let err = resolve_profile(&a, "a.json", &l).unwrap_err();
        match err {
            OscalError::CircularImport { chain } => {
                assert_eq!(chain, ["a.json", "b.json", "a.json"]);
            }
            other => panic!("expected a circular import, got {other}"),
        }
        // A profile importing itself.
        let selfish = profile(json!({"imports": [{"href": "s.json", "include-all": {}}]}));
        let l = MemoryLoader::new().with("s.json", selfish.clone());
        assert!(matches!(
            resolve_profile(&selfish, "s.json", &l),
            Err(OscalError::CircularImport { .. })
        ));
    }

    #[test]
    fn chained_profiles_resolve_inner_first() {
        let inner = profile(json!({"imports": [{"href": "cat.json",
            "include-controls": [{"with-ids": ["a1", "a2", "b1"]}]}], "merge": asis(),
            "modify": {"set-parameters": [{"param-id": "a1_p", "values": ["inner"]}]}}));
        let l = loader().with("inner.json", inner);
        let outer = profile(json!({"imports": [{"href": "inner.json",
            "exclude-controls": [{"with-ids": ["b1"]}], "include-all": {}}], "merge": asis()}));
        let r = resolve_profile(&outer, "outer.json", &l).unwrap();
        assert_eq!(shape(&r), "g1{a1 a2}");
        assert_eq!(control(&r, "a1")["params"][0]["values"], json!(["inner"]));
    }

    #[test]
    fn import_by_back_matter_resource_rlink_and_base64() {
        let uuid = "44444444-4444-4444-8444-444444444444";
        let via_rlink = profile(json!({
            "imports": [{"href": format!("#{uuid}"), "include-controls": [{"with-ids": ["b1"]}]}],
            "back-matter": {"resources": [{"uuid": uuid, "rlinks": [
                {"href": "https://example.com/cat.xml", "media-type": "application/oscal.catalog+xml"},
                {"href": "cat.json", "media-type": "application/oscal.catalog+json"}]}]}}));
        let r = resolve_profile(&via_rlink, "p.json", &loader()).unwrap();
        assert_eq!(shape(&r), "b1");
        // The import's own resource is not referenced by the output, so it is not kept.
        assert_eq!(resources(&r), ["two"]);

        let b64 = base64::engine::general_purpose::STANDARD
            .encode(serde_json::to_vec(&catalog()).unwrap());
        let via_base64 = profile(json!({
            "imports": [{"href": format!("#{uuid}"), "include-controls": [{"with-ids": ["a1"]}]}],
            "back-matter": {"resources": [{"uuid": uuid,
                "base64": {"filename": "cat.json", "value": b64}}]}}));
        let r = resolve_profile(&via_base64, "p.json", &MemoryLoader::new()).unwrap();
        assert_eq!(shape(&r), "a1");

        let dangling = profile(
            json!({"imports": [{"href": "#55555555-5555-4555-8555-555555555555",
            "include-all": {}}]}),
        );
        let err = resolve_profile(&dangling, "p.json", &loader()).unwrap_err();
        assert!(err.to_string().contains("no back-matter resource"), "{err}");
    }

    #[test]
    fn combine_use_first_drops_duplicates_keep_keeps_them() {
        let imports = json!([
            {"href": "cat.json", "include-controls": [{"with-ids": ["a1", "b1"]}]},
            {"href": "cat2.json", "include-controls": [{"with-ids": ["b1", "b2"]}]}]);
        let l = loader().with("cat2.json", catalog());
        let first = profile(json!({"imports": imports.clone(),
            "merge": {"combine": {"method": "use-first"}, "flat": {}}}));
        let r = resolve_profile(&first, "p.json", &l).unwrap();
        assert_eq!(shape(&r), "a1 b1 b2");
        let keep = profile(json!({"imports": imports, "merge": {"flat": {}}}));
        let r = resolve_profile(&keep, "p.json", &l).unwrap();
        assert_eq!(shape(&r), "a1 b1 b1 b2");
        assert!(r.warnings[0].contains("b1"), "{:?}", r.warnings);
        // Same catalog twice with use-first: one selection, catalog order.
        let twice = profile(json!({"imports": [
            {"href": "cat.json", "include-controls": [{"with-ids": ["b1"]}]},
            {"href": "cat.json", "include-controls": [{"with-ids": ["a1"]}]}],
            "merge": {"combine": {"method": "use-first"}, "as-is": true}}));
        let r = resolve_profile(&twice, "p.json", &loader()).unwrap();
        assert_eq!(shape(&r), "g1{a1} g2{b1}");
    }

    #[test]
    fn disjoint_imports_of_one_catalog_merge_in_catalog_order() {
        let r = resolve(json!({"imports": [
            {"href": "cat.json", "include-controls": [{"with-ids": ["b1", "a2.1"]}]},
            {"href": "cat.json", "include-controls": [{"with-ids": ["a2", "a1"]}]}],
            "merge": asis()}));
        assert_eq!(shape(&r), "g1{a1 a2[a2.1]} g2{b1}");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn set_parameters_replace_and_append() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
            "modify": {"set-parameters": [
                {"param-id": "a1_p", "label": "new label", "values": ["42"],
                 "props": [{"name": "p1", "value": "w"}],
                 "constraints": [{"description": "at most 90 days"}],
                 "guidelines": [{"prose": "Pick wisely."}]},
                {"param-id": "gp1", "select": {"how-many": "one", "choice": ["x", "y"]}},
                {"param-id": "nope", "values": ["1"]}]}}));
        let p = &control(&r, "a1")["params"][0];
        assert_eq!(p["label"], "new label");
        assert_eq!(p["values"], json!(["42"]));
        assert_eq!(
            p["props"],
            json!([{"name": "p0", "value": "v"}, {"name": "p1", "value": "w"}])
        );
        assert_eq!(p["constraints"][0]["description"], "at most 90 days");
        assert_eq!(p["guidelines"][0]["prose"], "Pick wisely.");
        let gp1 = arr_v(&r.catalog["catalog"], "params")
            .iter()
            .find(|p| p["id"] == "gp1")
            .unwrap();
        assert_eq!(gp1["select"]["choice"], json!(["x", "y"]));
        assert_eq!(r.warnings.len(), 1);
        assert!(r.warnings[0].contains("\"nope\""));
    }

    #[test]
    fn alter_adds_at_every_position() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
            "modify": {"alters": [
                {"control-id": "a1", "adds": [
                    {"position": "starting", "props": [{"name": "first", "value": "1"}]},
                    {"position": "ending", "parts": [{"id": "a1_end", "name": "x"}]},
                    {"position": "before", "by-id": "a1_gdn", "parts": [{"id": "a1_before", "name": "x"}]},
                    {"position": "after", "by-id": "a1_smt.a", "parts": [{"id": "a1_after", "name": "x"}]},
                    {"position": "ending", "by-id": "a1_smt", "parts": [{"id": "a1_in", "name": "x"}],
                     "props": [{"name": "inside", "value": "1"}]},
                    {"title": "A1 renamed", "params": [{"id": "added_p"}]},
                    {"position": "after", "by-id": "missing-part", "parts": [{"id": "z", "name": "x"}]}
                ]},
                {"control-id": "ghost", "adds": [{"props": [{"name": "x", "value": "1"}]}]}]}}));
        let a1 = control(&r, "a1");
        assert_eq!(a1["title"], "A1 renamed");
        assert_eq!(a1["props"][0]["name"], "first");
        let top: Vec<&str> = arr_v(a1, "parts")
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(top, ["a1_smt", "a1_before", "a1_gdn", "a1_end"]);
        let smt: Vec<&str> = arr_v(&a1["parts"][0], "parts")
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(smt, ["a1_smt.a", "a1_after", "a1_in"]);
        assert_eq!(a1["parts"][0]["props"][0]["name"], "inside");
        let params: Vec<&str> = arr_v(a1, "params")
            .iter()
            .map(|p| p["id"].as_str().unwrap())
            .collect();
        assert_eq!(params, ["a1_p", "added_p"]);
        assert_eq!(r.warnings.len(), 2, "{:?}", r.warnings);
        assert!(r.warnings.iter().any(|w| w.contains("ghost")));
        assert!(r.warnings.iter().any(|w| w.contains("missing-part")));
    }

    #[test]
    fn alter_removes_by_each_criterion() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
            "modify": {"alters": [
                {"control-id": "a1", "removes": [
                    {"by-class": "drop"}, {"by-id": "a1_smt.a"}, {"by-name": "guidance"},
                    {"by-item-name": "link"}]},
                {"control-id": "a2", "removes": [{"by-item-name": "part"}]},
                {"control-id": "b2", "removes": [{"by-item-name": "param", "by-id": "b2_p"}]}]}}));
        let a1 = control(&r, "a1");
        assert_eq!(a1["props"], json!([{"name": "label", "value": "A-1"}]));
        assert!(a1.get("links").is_none());
        assert_eq!(arr_v(a1, "parts").len(), 1);
        assert!(a1["parts"][0].get("parts").is_none());
        assert!(control(&r, "a2").get("parts").is_none());
        // Removing from a parent leaves its child controls alone.
        assert_eq!(control(&r, "a2")["controls"][0]["id"], "a2.1");
        assert!(control(&r, "b2").get("params").is_none());
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
            "modify": {"alters": [{"control-id": "a1", "removes": [{"by-ns": "https://example.com/ns"}]}]}}));
        assert_eq!(arr_v(control(&r, "a1"), "props").len(), 1);
    }

    #[test]
    fn custom_merge_builds_the_groups_it_is_told() {
        let r = resolve(json!({"imports": [{"href": "cat.json", "include-all": {}}],
        "merge": {"custom": {
            "groups": [
                {"id": "first", "title": "First", "insert-controls": [
                    {"include-controls": [{"with-ids": ["b10", "a1"]}]}]},
                {"id": "second", "title": "Second", "insert-controls": [
                    {"order": "descending", "include-controls": [{"matching": [{"pattern": "b*"}]}]}]},
                {"id": "third", "title": "Third", "insert-controls": [
                    {"include-controls": [{"with-ids": ["a2"], "with-child-controls": "yes"}]}]}
            ]}}}));
        assert_eq!(
            shape(&r),
            "first{a1 b10} second{b2 b1} third{a2[a2.1 a2.2[a2.2.x]]}"
        );
        let (n, errors) = validate_value(&without_unknown(&r.catalog), DocumentKind::Catalog);
        assert_eq!(n, 0, "{errors:?}");
    }

    #[test]
    fn import_without_include_directive_includes_all() {
        let r = resolve(json!({"imports": [{"href": "cat.json"}]}));
        assert_eq!(shape(&r), "a1 a2[a2.1 a2.2[a2.2.x]] b1 b2 b10");
    }

    #[test]
    fn a_profile_without_imports_or_of_the_wrong_kind_is_refused() {
        let err =
            resolve_profile(&profile(json!({"imports": []})), "p.json", &loader()).unwrap_err();
        assert!(err.to_string().contains("no imports"), "{err}");
        let err = resolve_profile(&catalog(), "c.json", &loader()).unwrap_err();
        assert!(
            err.to_string().contains("expected an OSCAL profile"),
            "{err}"
        );
        let ssp = MemoryLoader::new().with("ssp.json", json!({"system-security-plan": {}}));
        let err = resolve_profile(
            &profile(json!({"imports": [{"href": "ssp.json", "include-all": {}}]})),
            "p.json",
            &ssp,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("not a catalog or profile"),
            "{err}"
        );
    }

    #[test]
    fn glob() {
        assert!(glob_match("ac-*", "ac-2.1"));
        assert!(glob_match("?1", "a1"));
        assert!(!glob_match("?1", "a11"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("ac-2", "ac-2"));
        assert!(!glob_match("ac-2", "ac-20"));
    }

    #[test]
    fn inserts_are_parsed() {
        let mut out = HashSet::new();
        scan_inserts(
            "x {{ insert: param, p-1 }} y {{insert:param,p2}} {{ insert: other, q }} {{",
            &mut out,
        );
        let mut v: Vec<_> = out.into_iter().collect();
        v.sort();
        assert_eq!(v, ["p-1", "p2"]);
    }
}
