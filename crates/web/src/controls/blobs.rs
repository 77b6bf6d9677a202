//! The blob store: evidence files kept content-addressed, named by the
//! SHA-256 of their bytes, in a local folder (`--blob-store file://DIR`).
//!
//! An upload streams to a temporary file in `DIR/.tmp` while it is hashed
//! (a writer thread takes the chunks through a small bounded channel, so a
//! 1 GB upload holds a few chunks in memory, never the file), then is renamed
//! to `DIR/<sha256>`. Only after that is the database row written, in one
//! transaction. If that transaction fails, the blob stays without a row:
//! harmless, because it is named by its content, the next upload of the same
//! bytes reuses it, and nothing ever deletes a blob that a row may name (a
//! blob is never removed on failure, since another upload of the same bytes
//! may have committed a row for it meanwhile). A failed or refused upload
//! removes its temporary file.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::http::StatusCode;
use isms_store::StoredFile;
use sha2::{Digest, Sha256};

use crate::error::WebError;

/// How much of the head of a file the sniffer reads.
const HEAD: usize = 8192;
/// Chunks in flight between the request and the writer thread.
const CHANNEL: usize = 8;
/// Size of the chunks a download reads.
const READ_CHUNK: usize = 256 * 1024;

/// Where evidence files live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

/// A source of an upload's bytes, chunk by chunk.
pub(crate) trait Chunks {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String>;
}

impl Chunks for multer::Field<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, String> {
        self.chunk().await.map_err(|e| e.to_string())
    }
}

fn io_error(e: &std::io::Error) -> WebError {
    tracing::error!("blob store: {e}");
    WebError::internal()
}

/// Whether the head of a file reads as text (UTF-8 without control
/// characters other than white space; a character cut at the end is fine).
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(s) => s,
        Err(e) if head.len() >= HEAD && e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

/// The type sniffed from the bytes: (kind the rule knows, MIME type).
fn sniff(head: &[u8]) -> (Option<&'static str>, String, bool) {
    let text = looks_like_text(head);
    match infer::get(head) {
        Some(t) => (Some(t.extension()), t.mime_type().to_owned(), text),
        None if text => (None, "text/plain; charset=utf-8".to_owned(), true),
        None => (None, "application/octet-stream".to_owned(), false),
    }
}

impl BlobStore {
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore { root: root.into() }
    }

    /// Reads `--blob-store`: `file://DIR` or a plain path.
    pub fn from_url(url: &str) -> Result<BlobStore, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("--blob-store file://DIR needs a folder".into());
            }
            return Ok(BlobStore::new(dir));
        }
        if url.contains("://") {
            return Err(format!("--blob-store {url}: unsupported; use file://DIR"));
        }
        Ok(BlobStore::new(url))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join(sha256))
    }

    /// Streams an upload into the store; refuses it (removing what was
    /// written) when it is empty, larger than `limit` bytes, or its bytes
    /// contradict its name.
    pub(crate) async fn put(
        &self,
        source: &mut impl Chunks,
        file_name: &str,
        limit: u64,
    ) -> Result<StoredFile, WebError> {
        let file_name = clean_name(file_name);
        let tmp_dir = self.root.join(".tmp");
        let tmp = tmp_dir.join(format!("upload-{}", isms_store::random_token(12)));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL);
        let writer = tokio::task::spawn_blocking({
            let tmp = tmp.clone();
            move || -> std::io::Result<String> {
                std::fs::create_dir_all(&tmp_dir)?;
                let mut f =
                    std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(&tmp)?);
                let mut h = Sha256::new();
                while let Some(chunk) = rx.blocking_recv() {
                    h.update(&chunk);
                    f.write_all(&chunk)?;
                }
                f.into_inner()
                    .map_err(std::io::IntoInnerError::into_error)?
                    .sync_all()?;
                Ok(hex::encode(h.finalize()))
            }
        });
        let mut head: Vec<u8> = Vec::with_capacity(HEAD);
        let mut total: u64 = 0;
        let mut refused: Option<WebError> = None;
        loop {
            match source.next_chunk().await {
                Ok(None) => break,
                Ok(Some(c)) => {
                    total += c.len() as u64;
                    if total > limit {
                        refused = Some(WebError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "File too large",
                            format!(
                                "file: {file_name} is larger than the {} this installation accepts",
                                human_size(limit)
                            ),
                        ));
                        break;
                    }
                    if head.len() < HEAD {
                        let take = (HEAD - head.len()).min(c.len());
                        head.extend_from_slice(&c[..take]);
                    }
                    if tx.send(c).await.is_err() {
                        break;
                    }
                }
                Err(e) => {
                    refused = Some(WebError::new(
                        StatusCode::BAD_REQUEST,
                        "Upload interrupted",
                        format!("file: the upload could not be read: {e}"),
                    ));
                    break;
                }
            }
        }
        drop(tx);
        let written = writer.await.map_err(|e| {
            tracing::error!("blob writer: {e}");
            WebError::internal()
        })?;
        let discard = |tmp: PathBuf| async move {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(tmp)).await;
        };
        let sha256 = match (refused, written) {
            (Some(e), _) => {
                discard(tmp).await;
                return Err(e);
            }
            (None, Err(e)) => {
                discard(tmp).await;
                return Err(io_error(&e));
            }
            (None, Ok(h)) => h,
        };
        if total == 0 {
            discard(tmp).await;
            return Err(WebError::invalid(format!("file: {file_name} is empty")));
        }
        let (kind, content_type, text) = sniff(&head);
        if let Err(e) = isms_domain::controls::check_upload(&file_name, kind, text) {
            discard(tmp).await;
            return Err(WebError::invalid(e.to_string()));
        }
        let target = self.root.join(&sha256);
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if target.exists() {
                // The same bytes are stored already: keep that copy.
                std::fs::remove_file(&tmp)
            } else {
                std::fs::rename(&tmp, &target)
            }
        })
        .await
        .map_err(|_| WebError::internal())?
        .map_err(|e| io_error(&e))?;
        Ok(StoredFile {
            sha256,
            size: i64::try_from(total).unwrap_or(i64::MAX),
            content_type,
            file_name,
        })
    }

    /// The bytes of a blob as a stream of chunks read by a blocking thread.
    pub(crate) async fn open(&self, sha256: &str) -> Result<axum::body::Body, WebError> {
        let path = self
            .path_of(sha256)
            .ok_or_else(|| WebError::not_found("no such file"))?;
        let file = tokio::task::spawn_blocking(move || std::fs::File::open(path))
            .await
            .map_err(|_| WebError::internal())?
            .map_err(|e| {
                tracing::error!("blob {sha256} cannot be read: {e}");
                WebError::not_found("the file of this evidence is missing from the blob store")
            })?;
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(CHANNEL);
        tokio::task::spawn_blocking(move || {
            let mut file = file;
            loop {
                let mut buf = vec![0u8; READ_CHUNK];
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        break;
                    }
                }
            }
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        Ok(axum::body::Body::from_stream(stream))
    }
}

/// A file name safe to store and to put in a header: the last path
/// segment, without control characters or quotes, at most 200 characters.
fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .take(200)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        "upload".to_owned()
    } else {
        cleaned
    }
}

pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    if bytes >= 1024 * MB {
        format!("{:.1} GB", bytes as f64 / (1024 * MB) as f64)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= 1024 {
        format!("{:.1} KB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_types_are_sniffed_from_the_bytes() {
        assert!(looks_like_text(b"hello\nworld\t!"));
        assert!(!looks_like_text(b"\x00\x01binary"));
        let (kind, mime, _) = sniff(b"%PDF-1.7\n...");
        assert_eq!((kind, mime.as_str()), (Some("pdf"), "application/pdf"));
        let (kind, _, text) = sniff(b"a,b\n1,2\n");
        assert_eq!((kind, text), (None, true));
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\x\\report \"q\".pdf"), "report q.pdf");
        assert_eq!(clean_name(".."), "upload");
    }
}
