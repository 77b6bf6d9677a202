//! The blob store: evidence files kept content-addressed, named by the
//! SHA-256 of their bytes, in a local folder (`--blob-store file://DIR`) or
//! an S3-compatible bucket (`--blob-store s3://BUCKET/PREFIX`).
//!
//! Folder: an upload streams to a temporary file in `DIR/.tmp` while it is
//! hashed (a writer thread and a hashing thread each take the chunks through
//! a small bounded channel, so a 1 GB upload holds a few chunks in memory,
//! never the file), then is renamed to `DIR/<sha256>`.
//!
//! Bucket: an upload streams as a multipart upload to a temporary key
//! `PREFIX/.uploads/<random>` while it is hashed (parts of [`PART`] bytes, at
//! most [`PARTS_IN_FLIGHT`] at once, so memory stays bounded whatever the
//! size), then is copied server-side to `PREFIX/<sha256>` and the temporary
//! key deleted. A refused or failed upload aborts the multipart upload (S3
//! drops its parts), so nothing is left under the prefix.
//!
//! Only after the blob is in place is the database row written, in one
//! transaction. If that transaction fails, the blob stays without a row:
//! harmless, because it is named by its content, the next upload of the same
//! bytes reuses it, and nothing ever deletes a blob that a row may name (a
//! blob is never removed on failure, since another upload of the same bytes
//! may have committed a row for it meanwhile). A failed or refused upload
//! removes its temporary file or key.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::StatusCode;
use isms_store::StoredFile;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt as _, WriteMultipart};

use crate::error::WebError;

/// SHA-256 of an upload, through ring (BoringSSL's assembly, which uses the
/// CPU's SHA extensions): about twice as fast here as the sha2 crate, and
/// hashing is most of an upload's work.
struct Sha256(ring::digest::Context);

impl Sha256 {
    fn new() -> Sha256 {
        Sha256(ring::digest::Context::new(&ring::digest::SHA256))
    }
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// The digest as lower-case hex.
    fn finish(self) -> String {
        hex::encode(self.0.finish())
    }
}

/// How much of the head of a file the sniffer reads.
const HEAD: usize = 8192;
/// Chunks in flight between the request and the writer thread.
const CHANNEL: usize = 8;
/// Bytes written between two background flushes of an upload's file.
const FLUSH_EVERY: usize = 64 * 1024 * 1024;
/// Size of the chunks a download reads.
const READ_CHUNK: usize = 256 * 1024;
/// Size of the parts of a multipart upload to a bucket (S3 wants 5 MiB at
/// least, except for the last part).
pub const PART: usize = 8 * 1024 * 1024;
/// Parts uploaded at once: with [`PART`], an upload holds at most about
/// 40 MB, whatever the size of the file.
pub const PARTS_IN_FLIGHT: usize = 4;

/// Where evidence files live.
#[derive(Debug, Clone)]
pub struct BlobStore {
    backend: Backend,
}

#[derive(Debug, Clone)]
enum Backend {
    Dir(PathBuf),
    Bucket {
        s3: Arc<AmazonS3>,
        /// `s3://BUCKET/PREFIX`, for messages (never the credentials).
        url: String,
        prefix: Key,
    },
}

/// The settings of an S3-compatible bucket beyond its `s3://BUCKET/PREFIX`
/// address. Unset ones come from the standard `AWS_*` environment variables
/// (`AWS_ENDPOINT_URL`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_ALLOW_HTTP`).
#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    /// e.g. `http://127.0.0.1:9000` for a local S3-compatible server.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Allow a plain `http://` endpoint (a local server); otherwise HTTPS only.
    pub allow_http: bool,
    /// How long one request may wait for a connection before it is retried
    /// (default 5 s); a bucket that cannot be reached fails an upload after
    /// two retries.
    pub connect_timeout: Option<Duration>,
}

/// Why the bucket failed, said to the user without its internals.
fn bucket_error(url: &str, e: &object_store::Error) -> WebError {
    tracing::error!("blob store {url}: {e}");
    WebError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "Evidence store unavailable",
        format!(
            "file: the evidence store ({url}) could not be reached or refused the file; nothing was stored. Try again later or ask the administrator to check the blob store settings."
        ),
    )
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

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// What an upload's bytes were found to be, once all of them went by.
struct Checked {
    sha256: String,
    total: u64,
    head: Vec<u8>,
}

/// Refuses an upload that is empty or whose bytes contradict its name;
/// otherwise the stored file's description.
fn accept(file_name: String, c: &Checked) -> Result<StoredFile, WebError> {
    if c.total == 0 {
        return Err(WebError::invalid(format!("file: {file_name} is empty")));
    }
    let (kind, content_type, text) = sniff(&c.head);
    isms_domain::controls::check_upload(&file_name, kind, text)
        .map_err(|e| WebError::invalid(e.to_string()))?;
    Ok(StoredFile {
        sha256: c.sha256.clone(),
        size: i64::try_from(c.total).unwrap_or(i64::MAX),
        content_type,
        file_name,
    })
}

fn too_large(file_name: &str, limit: u64) -> WebError {
    WebError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "File too large",
        format!(
            "file: {file_name} is larger than the {} this installation accepts",
            human_size(limit)
        ),
    )
}

fn interrupted(e: &str) -> WebError {
    WebError::new(
        StatusCode::BAD_REQUEST,
        "Upload interrupted",
        format!("file: the upload could not be read: {e}"),
    )
}

impl BlobStore {
    /// A store in the folder `root`.
    pub fn new(root: impl Into<PathBuf>) -> BlobStore {
        BlobStore {
            backend: Backend::Dir(root.into()),
        }
    }

    /// Reads `--blob-store`: `file://DIR`, a plain path, or
    /// `s3://BUCKET/PREFIX` (settings from the `AWS_*` environment).
    pub fn from_url(url: &str) -> Result<BlobStore, String> {
        BlobStore::from_url_with(url, &S3Settings::default())
    }

    /// Reads `--blob-store` with the bucket settings given on the command line.
    pub fn from_url_with(url: &str, settings: &S3Settings) -> Result<BlobStore, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("--blob-store file://DIR needs a folder".into());
            }
            return Ok(BlobStore::new(dir));
        }
        if let Some(rest) = url.strip_prefix("s3://") {
            return BlobStore::bucket(rest, settings);
        }
        if url.contains("://") {
            return Err(format!(
                "--blob-store {url}: unsupported; use file://DIR or s3://BUCKET/PREFIX"
            ));
        }
        Ok(BlobStore::new(url))
    }

    fn bucket(rest: &str, settings: &S3Settings) -> Result<BlobStore, String> {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let prefix = prefix.trim_matches('/');
        if bucket.is_empty() {
            return Err("--blob-store s3://BUCKET/PREFIX needs a bucket".into());
        }
        let prefix = Key::parse(prefix)
            .map_err(|e| format!("--blob-store s3://{rest}: the prefix is not usable: {e}"))?;
        // reqwest's rustls takes the process's crypto provider: ring, the
        // one the mail client uses too (an error only says one is set).
        // Deprecated in rustls 0.23.48 for lacking post-quantum key exchange,
        // which its successor (aws-lc) would bring with a C build.
        #[allow(deprecated)]
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(v) = &settings.endpoint {
            b = b.with_endpoint(v);
        } else if let Ok(v) = std::env::var("AWS_ENDPOINT_URL") {
            b = b.with_endpoint(v);
        }
        if let Some(v) = &settings.region {
            b = b.with_region(v);
        } else if let Ok(v) = std::env::var("AWS_REGION") {
            b = b.with_region(v);
        }
        if let Some(v) = &settings.access_key_id {
            b = b.with_access_key_id(v);
        }
        if let Some(v) = &settings.secret_access_key {
            b = b.with_secret_access_key(v);
        }
        if settings.allow_http {
            b = b.with_allow_http(true);
        }
        let connect = settings.connect_timeout.unwrap_or(Duration::from_secs(5));
        b = b
            .with_client_options(
                object_store::ClientOptions::new()
                    .with_connect_timeout(connect)
                    .with_allow_http(settings.allow_http || env_true("AWS_ALLOW_HTTP")),
            )
            .with_retry(object_store::RetryConfig {
                backoff: object_store::BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: Duration::from_secs(30),
            });
        let s3 = b
            .build()
            .map_err(|e| format!("--blob-store s3://{rest}: {e}"))?;
        let url = if prefix.as_ref().is_empty() {
            format!("s3://{bucket}")
        } else {
            format!("s3://{bucket}/{prefix}")
        };
        Ok(BlobStore {
            backend: Backend::Bucket {
                s3: Arc::new(s3),
                url,
                prefix,
            },
        })
    }

    /// The folder, when the files are kept in one.
    pub fn dir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Dir(root) => Some(root),
            Backend::Bucket { .. } => None,
        }
    }

    /// Where the files are kept, for messages: the folder or `s3://BUCKET/PREFIX`.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Dir(root) => root.display().to_string(),
            Backend::Bucket { url, .. } => url.clone(),
        }
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
        match &self.backend {
            Backend::Dir(root) => put_dir(root, source, file_name, limit).await,
            Backend::Bucket { s3, url, prefix } => {
                put_bucket(s3, url, prefix, source, file_name, limit).await
            }
        }
    }

    /// The bytes of a blob as a stream of chunks.
    pub(crate) async fn open(&self, sha256: &str) -> Result<axum::body::Body, WebError> {
        if !is_sha256(sha256) {
            return Err(WebError::not_found("no such file"));
        }
        match &self.backend {
            Backend::Dir(root) => open_dir(root.join(sha256), sha256).await,
            Backend::Bucket { s3, url, prefix } => {
                match s3.get(&prefix.clone().join(sha256)).await {
                    Ok(got) => Ok(axum::body::Body::from_stream(got.into_stream())),
                    Err(object_store::Error::NotFound { .. }) => {
                        tracing::error!("blob {sha256} is missing from {url}");
                        Err(missing())
                    }
                    Err(e) => Err(bucket_error(url, &e)),
                }
            }
        }
    }
}

fn env_true(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true"))
}

fn missing() -> WebError {
    WebError::not_found("the file of this evidence is missing from the blob store")
}

/// Streams an upload to `PREFIX/.uploads/<random>` as a multipart upload,
/// hashing it, then copies it to `PREFIX/<sha256>`.
async fn put_bucket(
    s3: &AmazonS3,
    url: &str,
    prefix: &Key,
    source: &mut impl Chunks,
    file_name: String,
    limit: u64,
) -> Result<StoredFile, WebError> {
    let tmp = prefix
        .clone()
        .join(".uploads")
        .join(format!("upload-{}", isms_store::random_token(12)));
    let upload = s3
        .put_multipart(&tmp)
        .await
        .map_err(|e| bucket_error(url, &e))?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART);
    let mut h = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
    let mut total: u64 = 0;
    let refused = loop {
        match source.next_chunk().await {
            Ok(None) => break None,
            Ok(Some(c)) => {
                total += c.len() as u64;
                if total > limit {
                    break Some(too_large(&file_name, limit));
                }
                if head.len() < HEAD {
                    let take = (HEAD - head.len()).min(c.len());
                    head.extend_from_slice(&c[..take]);
                }
                h.update(&c);
                if let Err(e) = w.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    break Some(bucket_error(url, &e));
                }
                w.put(c);
            }
            Err(e) => break Some(interrupted(&e)),
        }
    };
    let checked = Checked {
        sha256: h.finish(),
        total,
        head,
    };
    let accepted = match refused {
        Some(e) => Err(e),
        None => accept(file_name, &checked),
    };
    let stored = match accepted {
        Ok(s) => s,
        Err(e) => {
            if let Err(abort) = w.abort().await {
                tracing::warn!("blob store {url}: aborting upload {tmp}: {abort}");
            }
            return Err(e);
        }
    };
    // `finish` aborts the multipart upload itself when it fails.
    w.finish().await.map_err(|e| bucket_error(url, &e))?;
    let target = prefix.clone().join(stored.sha256.as_str());
    let placed = match s3.head(&target).await {
        // The same bytes are stored already: keep that copy.
        Ok(_) => Ok(()),
        Err(object_store::Error::NotFound { .. }) => s3.copy(&tmp, &target).await,
        Err(e) => Err(e),
    };
    if let Err(e) = s3.delete(&tmp).await {
        tracing::warn!("blob store {url}: removing {tmp}: {e}");
    }
    placed.map_err(|e| bucket_error(url, &e))?;
    Ok(stored)
}

/// Streams an upload to `DIR/.tmp/<random>`, hashing it, then renames it
/// to `DIR/<sha256>`.
async fn put_dir(
    root: &Path,
    source: &mut impl Chunks,
    file_name: String,
    limit: u64,
) -> Result<StoredFile, WebError> {
    let tmp_dir = root.join(".tmp");
    let tmp = tmp_dir.join(format!("upload-{}", isms_store::random_token(12)));
    // Two threads take every chunk: one writes the file, the other hashes
    // it, so on two cores neither waits for the other (hashing is the
    // slower half). A chunk is shared, not copied.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL);
    let (htx, mut hrx) = tokio::sync::mpsc::channel::<Bytes>(CHANNEL);
    let writer = tokio::task::spawn_blocking({
        let tmp = tmp.clone();
        move || -> std::io::Result<()> {
            std::fs::create_dir_all(&tmp_dir)?;
            let file = std::fs::File::create(&tmp)?;
            // A third thread flushes what is written so far every
            // FLUSH_EVERY bytes, so the disk writes while the upload still
            // arrives and the final sync has only the tail left (a 1 GB
            // file otherwise waited for all of it after the last byte).
            let flushing = file.try_clone()?;
            let (flush, flush_rx) = std::sync::mpsc::sync_channel::<()>(1);
            let flusher = std::thread::spawn(move || {
                while flush_rx.recv().is_ok() {
                    let _ = flushing.sync_data();
                }
            });
            let mut f = std::io::BufWriter::with_capacity(256 * 1024, file);
            let mut unflushed = 0;
            let written = (|| -> std::io::Result<()> {
                while let Some(chunk) = rx.blocking_recv() {
                    f.write_all(&chunk)?;
                    unflushed += chunk.len();
                    if unflushed >= FLUSH_EVERY {
                        unflushed = 0;
                        // Skipped while a flush is still running.
                        let _ = flush.try_send(());
                    }
                }
                Ok(())
            })();
            drop(flush);
            let _ = flusher.join();
            written?;
            f.into_inner()
                .map_err(std::io::IntoInnerError::into_error)?
                .sync_all()
        }
    });
    let hasher = tokio::task::spawn_blocking(move || {
        let mut h = Sha256::new();
        while let Some(chunk) = hrx.blocking_recv() {
            h.update(&chunk);
        }
        h.finish()
    });
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
    let mut total: u64 = 0;
    let refused = loop {
        match source.next_chunk().await {
            Ok(None) => break None,
            Ok(Some(c)) => {
                total += c.len() as u64;
                if total > limit {
                    break Some(too_large(&file_name, limit));
                }
                if head.len() < HEAD {
                    let take = (HEAD - head.len()).min(c.len());
                    head.extend_from_slice(&c[..take]);
                }
                if tx.send(c.clone()).await.is_err() || htx.send(c).await.is_err() {
                    break None;
                }
            }
            Err(e) => break Some(interrupted(&e)),
        }
    };
    drop(tx);
    drop(htx);
    let written = writer.await.map_err(|e| {
        tracing::error!("blob writer: {e}");
        WebError::internal()
    })?;
    let sha256 = hasher.await.map_err(|e| {
        tracing::error!("blob hasher: {e}");
        WebError::internal()
    })?;
    let accepted = match (refused, written) {
        (Some(e), _) => Err(e),
        (None, Err(e)) => Err(io_error(&e)),
        (None, Ok(())) => accept(
            file_name,
            &Checked {
                sha256,
                total,
                head,
            },
        ),
    };
    let stored = match accepted {
        Ok(s) => s,
        Err(e) => {
            let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(tmp)).await;
            return Err(e);
        }
    };
    let target = root.join(&stored.sha256);
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
    Ok(stored)
}

/// The bytes of a file as a stream of chunks read by a blocking thread.
async fn open_dir(path: PathBuf, sha256: &str) -> Result<axum::body::Body, WebError> {
    let file = tokio::task::spawn_blocking(move || std::fs::File::open(path))
        .await
        .map_err(|_| WebError::internal())?
        .map_err(|e| {
            tracing::error!("blob {sha256} cannot be read: {e}");
            missing()
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
