//! A customer's own requirement list as CSV: `ref_id,parent_ref_id,title,description`
//! (columns by header name; `parent_ref_id`, `description` and `kind` optional; extra columns ignored).

use crate::csvread::read_csv;
use crate::error::{ImportError, Issue, MAX_ISSUES, Place};
use crate::model::{Framework, FrameworkTree, NodeKind, RequirementNode, TreeProblem, slugify};

/// Turn tree problems into issues, placing each by the node it concerns.
pub(crate) fn tree_issues(
    problems: &[TreeProblem],
    place_of: impl Fn(usize) -> Place,
) -> Vec<Issue> {
    problems
        .iter()
        .take(MAX_ISSUES)
        .map(|p| Issue::new(p.index().map_or(Place::File, &place_of), p.to_string()))
        .collect()
}

/// A framework record named after the file: `"Acme Controls.csv"` -> id `acme-controls`.
/// The CLI lets the user override id and name.
pub fn framework_from_file_name(file: &str) -> Framework {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let stem = base.rsplit_once('.').map_or(base, |(s, _)| s);
    let stem = if stem.is_empty() { base } else { stem };
    Framework {
        id: slugify(stem),
        name: stem.to_owned(),
        version: String::new(),
        publisher: String::new(),
        licence_note: String::new(),
    }
}

/// Import a requirement list from CSV. Every problem (short rows, empty ref ids or titles,
/// duplicate ref ids, unknown parents, parent cycles, unknown kinds) is reported with its line;
/// nothing is returned unless the whole file is good.
pub fn import_catalog_csv(
    file: &str,
    data: &[u8],
    framework: Framework,
) -> Result<FrameworkTree, ImportError> {
    Framework::check_id(&framework.id).map_err(|e| ImportError::one(file, Place::File, e))?;
    let table = read_csv(file, data, &["ref_id", "title"])?;
    let c_ref = table.column("ref_id").expect("required");
    let c_title = table.column("title").expect("required");
    let c_parent = table.column("parent_ref_id");
    let c_desc = table.column("description");
    let c_kind = table.column("kind");
    let mut nodes = Vec::with_capacity(table.rows.len());
    let mut lines = Vec::with_capacity(table.rows.len());
    let mut issues = Vec::new();
    for (i, (line, row)) in table.rows.iter().enumerate() {
        let field = |c: Option<usize>| {
            c.and_then(|c| row.get(c))
                .map(String::as_str)
                .filter(|s| !s.is_empty())
        };
        let kind = match field(c_kind) {
            None => NodeKind::Item,
            Some(k) => NodeKind::parse(k).unwrap_or_else(|| {
                issues.push(Issue::new(
                    Place::Line(*line),
                    format!("kind {k:?} is not one of clause, control, enhancement, group, item"),
                ));
                NodeKind::Item
            }),
        };
        let mut n = RequirementNode::new(
            field(Some(c_ref)).unwrap_or(""),
            field(c_parent),
            field(Some(c_title)).unwrap_or(""),
            kind,
        );
        n.description = field(c_desc).map(str::to_owned);
        n.order = i as u32;
        nodes.push(n);
        lines.push(*line);
    }
    if nodes.is_empty() {
        return Err(ImportError::one(
            file,
            Place::File,
            "the file has a header but no requirement rows",
        ));
    }
    match FrameworkTree::new(framework, nodes) {
        Ok(tree) if issues.is_empty() => Ok(tree),
        Ok(_) => Err(ImportError::many(file, issues)),
        Err(problems) => {
            issues.extend(tree_issues(&problems, |i| Place::Line(lines[i])));
            issues.sort_by_key(|i| match i.place {
                Place::Line(l) => l,
                _ => 0,
            });
            issues.truncate(MAX_ISSUES);
            Err(ImportError::many(file, issues))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str) -> Result<FrameworkTree, ImportError> {
        import_catalog_csv(
            "own.csv",
            text.as_bytes(),
            framework_from_file_name("dir/Own List.csv"),
        )
    }

    #[test]
    fn imports_a_small_list_in_any_column_order() {
        let t = import(
            "\u{feff}title,ref_id,extra,parent_ref_id,description\n\
             Governance,GOV,x,,Top level\n\
             Policy exists,GOV-2,x,GOV,\n\
             \"Policy, approved\",GOV-1,x,GOV,\"Has a \"\"signed\"\" approval\"\n\
             \n",
        )
        .unwrap();
        assert_eq!(t.framework.id, "own-list");
        assert_eq!(t.nodes.len(), 3);
        assert_eq!(
            t.nodes[1].ref_id, "GOV-2",
            "file order among siblings, not string order"
        );
        assert_eq!(t.nodes[2].title, "Policy, approved");
        assert_eq!(
            t.nodes[2].description.as_deref(),
            Some("Has a \"signed\" approval")
        );
        assert_eq!(t.nodes[0].description.as_deref(), Some("Top level"));
        assert_eq!(t.nodes[1].description, None);
    }

    #[test]
    fn reports_every_problem_with_its_line() {
        let err = import(
            "ref_id,parent_ref_id,title,description\n\
             A,,Alpha,\n\
             A,,Again,\n\
             B,Z,Beta,\n\
             C,D,Gamma,\n\
             D,C,Delta,\n\
             E,,,\n\
             ,,No ref,\n",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("own.csv: line 3: duplicate ref id \"A\""),
            "{msg}"
        );
        assert!(
            msg.contains(
                "own.csv: line 4: requirement \"B\" names parent \"Z\", which is not in the file"
            ),
            "{msg}"
        );
        assert!(msg.contains("parent cycle"), "{msg}");
        assert!(
            msg.contains("line 7: requirement \"E\" has an empty title"),
            "{msg}"
        );
        assert!(msg.contains("line 8: empty ref id"), "{msg}");
    }

    #[test]
    fn refuses_short_rows_missing_columns_and_empty_files() {
        let msg = import("ref_id,parent_ref_id,title,description\nA\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("own.csv: line 2: expected 4 columns as in the header, found 1"),
            "{msg}"
        );
        let msg = import("ref,name\nA,B\n").unwrap_err().to_string();
        assert!(
            msg.contains("line 1: the header lacks column(s) ref_id, title"),
            "{msg}"
        );
        assert!(
            import("")
                .unwrap_err()
                .to_string()
                .contains("own.csv: file: the file is empty")
        );
        assert!(
            import("ref_id,title\n")
                .unwrap_err()
                .to_string()
                .contains("no requirement rows")
        );
        assert!(
            import("ref_id,title,kind\nA,B,widget\n")
                .unwrap_err()
                .to_string()
                .contains("kind \"widget\"")
        );
    }

    #[test]
    fn refuses_oversized_input_before_parsing() {
        let big = vec![b'a'; crate::MAX_IMPORT_BYTES + 1];
        let msg = import_catalog_csv("big.csv", &big, framework_from_file_name("big.csv"))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("big.csv: file: the file is") && msg.contains("larger than the limit"),
            "{msg}"
        );
    }

    #[test]
    fn refuses_a_bad_framework_id() {
        let mut f = framework_from_file_name("x.csv");
        f.id = "Not A Slug".into();
        let msg = import_catalog_csv("x.csv", b"ref_id,title\nA,B\n", f)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("framework id"), "{msg}");
    }
}
