//! One error type for every importer: it names the file, the place in it and the problem.

use std::fmt;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole (empty, too large, wrong top-level shape).
    File,
    /// A 1-based line number (CSV rows, YAML syntax errors).
    Line(u64),
    /// A path inside a structured document, e.g. `objects.framework.requirement_nodes[3]`
    /// or `catalog.groups[0].controls[2]`.
    Path(String),
    /// A requirement node named by its ref id, where no line is known.
    Node(String),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::File => f.write_str("file"),
            Place::Line(n) => write!(f, "line {n}"),
            Place::Path(p) => f.write_str(p),
            Place::Node(r) => write!(f, "node {r:?}"),
        }
    }
}

/// One problem found in an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub place: Place,
    pub message: String,
}

impl Issue {
    pub fn new(place: Place, message: impl Into<String>) -> Self {
        Self {
            place,
            message: message.into(),
        }
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// An input was refused. Nothing from it should be stored.
///
/// `issues` is never empty; importers collect up to [`MAX_ISSUES`] problems so a user
/// can fix a file in one pass instead of one error per attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    pub file: String,
    pub issues: Vec<Issue>,
}

/// Importers stop collecting problems after this many.
pub const MAX_ISSUES: usize = 50;

impl ImportError {
    pub fn one(file: &str, place: Place, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            issues: vec![Issue::new(place, message)],
        }
    }

    pub fn many(file: &str, issues: Vec<Issue>) -> Self {
        debug_assert!(!issues.is_empty());
        Self {
            file: file.to_owned(),
            issues,
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shown to users one line per problem: "file: line 4: duplicate ref id".
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{}: {issue}", self.file)?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}

/// Largest input any importer accepts. The 800-53 Rev 5 OSCAL catalog (the largest real input
/// we know) is about 3 MB, so 32 MiB leaves ample room while refusing a 500 MB upload at once.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Largest number of requirement nodes or mappings one file may hold.
pub const MAX_ITEMS: usize = 200_000;

fn check_size(file: &str, len: usize) -> Result<(), ImportError> {
    if len == 0 {
        return Err(ImportError::one(file, Place::File, "the file is empty"));
    }
    if len > MAX_IMPORT_BYTES {
        return Err(ImportError::one(
            file,
            Place::File,
            format!(
                "the file is {len} bytes, larger than the limit of {MAX_IMPORT_BYTES} bytes ({} MiB)",
                MAX_IMPORT_BYTES / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

/// The checks every text importer starts with: size limits, UTF-8 (BOM stripped), not blank.
pub(crate) fn input_text<'a>(file: &str, data: &'a [u8]) -> Result<&'a str, ImportError> {
    check_size(file, data.len())?;
    let text = utf8_text(file, data)?;
    if text.trim().is_empty() {
        return Err(ImportError::one(
            file,
            Place::File,
            "the file has no content",
        ));
    }
    Ok(text)
}

/// Strip a UTF-8 byte order mark and check the bytes are UTF-8, naming the line of the first bad byte.
fn utf8_text<'a>(file: &str, data: &'a [u8]) -> Result<&'a str, ImportError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    std::str::from_utf8(data).map_err(|e| {
        // Lines before the bad byte: pieces between newlines.
        let line = data[..e.valid_up_to()].split(|&b| b == b'\n').count() as u64;
        ImportError::one(
            file,
            Place::Line(line),
            format!(
                "the file is not valid UTF-8 (bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}
