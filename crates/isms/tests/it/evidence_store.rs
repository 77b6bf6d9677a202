//! Where evidence files go: an S3-compatible bucket (a real server, moto's
//! server mode, started here on a loopback port; the test says it is
//! skipped when moto is not installed), and the page form's upload, which
//! streams like the API's.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use isms_domain::Role;
use isms_store::{Actor, Store};
use isms_web::controls::blobs::{BlobStore, S3Settings};
use serde_json::{Value, json};

use crate::controls::multipart_bytes;
use crate::support::{App, PASSWORD, Resp, org_with, stores};

/// A moto S3 server on a loopback port, stopped when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `python3 -m moto.server` on a free loopback port, or says why not
/// (and fails when `ISMS_TEST_S3=required`, as CI sets it).
fn start_moto() -> Option<Moto> {
    let moto = try_start_moto();
    assert!(
        moto.is_some() || std::env::var("ISMS_TEST_S3").as_deref() != Ok("required"),
        "ISMS_TEST_S3=required but moto's S3 server could not be started"
    );
    moto
}

fn try_start_moto() -> Option<Moto> {
    let installed = Command::new("python3")
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        eprintln!(
            "SKIPPED: the S3 test needs moto's server (python3 -m pip install 'moto[server]')"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..300 {
        if ureq::get(&format!("{}/", moto.endpoint)).call().is_ok() {
            return Some(moto);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "SKIPPED: moto's S3 server did not answer on {}",
        moto.endpoint
    );
    None
}

fn settings(endpoint: &str) -> S3Settings {
    S3Settings {
        endpoint: Some(endpoint.to_owned()),
        region: Some("us-east-1".into()),
        access_key_id: Some("isms-test".into()),
        secret_access_key: Some("isms-test-secret".into()),
        allow_http: true,
        connect_timeout: Some(Duration::from_secs(2)),
    }
}

fn app_with(store: &Store, blobs: BlobStore, max_upload_bytes: u64) -> App {
    let config = isms_web::Config {
        max_upload_bytes,
        blob_store: Some(blobs),
        ..isms_web::Config::default()
    };
    App {
        router: isms_web::app(store.clone(), config).layer(
            axum::extract::connect_info::MockConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                40000,
            ))),
        ),
    }
}

async fn setup(store: &Store) -> (String, i64) {
    let org = org_with(store, "Acme", "mia@acme.test", Role::IsmsManager).await;
    let user = store.user_by_email("mia@acme.test").await.unwrap().unwrap();
    let (_, token) = store
        .create_token(org.id, user.id, "t", &Actor::cli())
        .await
        .unwrap();
    (token, org.id)
}

async fn new_control(app: &App, token: &str) -> i64 {
    let r = app
        .send(
            Request::post("/api/v1/controls")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({"name": "Quarterly access review", "annex_a": ["5.18"]}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    v(&r)["id"].as_i64().unwrap()
}

async fn upload(app: &App, token: &str, control: i64, name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart_bytes(&[], name, bytes);
    app.send(
        Request::post(format!("/api/v1/controls/{control}/evidence"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn v(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|_| panic!("not JSON: {}", r.body))
}

/// A GET to the bucket server as a signed-in client (moto checks no
/// signature, but refuses anonymous reads of private objects).
fn s3_get(url: &str) -> ureq::Response {
    ureq::get(url)
        .set(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=isms-test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
        )
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The keys under `prefix` in the bucket, and the multipart uploads not
/// completed nor aborted, as the server lists them.
fn bucket_listing(endpoint: &str, bucket: &str, prefix: &str) -> (Vec<String>, usize) {
    let xml = s3_get(&format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}"))
        .into_string()
        .unwrap();
    let keys = xml
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_owned)
        .collect();
    let uploads = s3_get(&format!("{endpoint}/{bucket}?uploads"))
        .into_string()
        .unwrap();
    (keys, uploads.matches("<UploadId>").count())
}

#[tokio::test(flavor = "multi_thread")]
async fn evidence_goes_to_an_s3_bucket_named_by_its_sha256_and_comes_back() {
    let Some(moto) = start_moto() else { return };
    let endpoint = moto.endpoint.clone();
    for (engine, store) in stores().await {
        let bucket = format!("isms-evidence-{engine}");
        let created = ureq::put(&format!("{endpoint}/{bucket}")).call();
        assert!(created.is_ok(), "bucket: {created:?}");
        let blobs =
            BlobStore::from_url_with(&format!("s3://{bucket}/evidence"), &settings(&endpoint))
                .unwrap();
        assert_eq!(blobs.describe(), format!("s3://{bucket}/evidence"));
        let app = app_with(&store, blobs, 10 * 1024 * 1024);
        let (token, org) = setup(&store).await;
        let control = new_control(&app, &token).await;

        // 9 MiB: two parts of the multipart upload.
        let mut bytes = Vec::with_capacity(9 * 1024 * 1024);
        let mut i = 0u64;
        while bytes.len() < 9 * 1024 * 1024 {
            bytes.extend_from_slice(format!("{i},access review line {i}\n").as_bytes());
            i += 1;
        }
        let r = upload(&app, &token, control, "reviews.csv", &bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let sha = sha256_hex(&bytes);
        assert_eq!(v(&r)["sha256"], sha.as_str(), "{engine}");
        let id = v(&r)["id"].as_i64().unwrap();

        // In the bucket under its SHA-256, with the same bytes.
        let mut stored = Vec::new();
        std::io::Read::read_to_end(
            &mut s3_get(&format!("{endpoint}/{bucket}/evidence/{sha}")).into_reader(),
            &mut stored,
        )
        .unwrap();
        assert!(stored == bytes, "{engine}: the bucket holds the same bytes");

        // Downloaded through the API: the same bytes, as an attachment.
        let r = app
            .api(
                "GET",
                &format!("/api/v1/evidence/{id}/download"),
                Some(&token),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{engine}: {}", r.status);
        assert!(r.bytes == bytes, "{engine}: downloaded bytes differ");
        assert!(
            r.header("content-disposition")
                .is_some_and(|d| d.starts_with("attachment")),
            "{engine}"
        );

        // Bad uploads: refused, and nothing left in the bucket.
        for (name, content, status, says) in [
            (
                "empty.csv",
                Vec::new(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty",
            ),
            (
                "report.pdf",
                b"plain text, not a PDF\n".to_vec(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "report.pdf",
            ),
            (
                "huge.csv",
                vec![b'x'; 10 * 1024 * 1024 + 1],
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than",
            ),
        ] {
            let r = upload(&app, &token, control, name, &content).await;
            assert_eq!(r.status, status, "{engine} {name}: {}", r.body);
            assert!(r.body.contains(says), "{engine} {name}: {}", r.body);
        }
        let (keys, pending) = bucket_listing(&endpoint, &bucket, "evidence/");
        assert_eq!(
            keys,
            vec![format!("evidence/{sha}")],
            "{engine}: only the accepted file"
        );
        assert_eq!(pending, 0, "{engine}: refused uploads are aborted");
        assert_eq!(store.evidence_list(org, None).await.unwrap().len(), 1);

        // The same bytes again: one object, two evidence rows.
        let r = upload(&app, &token, control, "again.csv", &bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let (keys, _) = bucket_listing(&endpoint, &bucket, "evidence/");
        assert_eq!(keys.len(), 1, "{engine}: {keys:?}");

        // A bucket that cannot be reached: a clear error, nothing stored.
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let down = BlobStore::from_url_with(
            &format!("s3://{bucket}/evidence"),
            &settings(&format!("http://127.0.0.1:{closed}")),
        )
        .unwrap();
        let down_app = app_with(&store, down, 10 * 1024 * 1024);
        let r = upload(&down_app, &token, control, "later.csv", b"a,b\n1,2\n").await;
        assert_eq!(
            r.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{engine}: {}",
            r.body
        );
        assert!(
            r.body.contains("could not be reached") && r.body.contains("nothing was stored"),
            "{engine}: {}",
            r.body
        );
        assert!(!r.body.contains("isms-test-secret"), "{}", r.body);
        assert_eq!(store.evidence_list(org, None).await.unwrap().len(), 2);
        store.close().await;
    }
    drop(moto);
}

#[tokio::test]
async fn a_bad_blob_store_address_is_refused_with_a_clear_line() {
    for (url, says) in [
        ("s3://", "needs a bucket"),
        ("ftp://host/dir", "unsupported"),
        ("file://", "needs a folder"),
    ] {
        let e = BlobStore::from_url(url).unwrap_err();
        assert!(e.contains(says), "{url}: {e}");
    }
}

/// A page form upload (session, CSRF token first) streams to the blob store
/// with the configured limit, no longer held whole in memory by the CSRF
/// check: a file larger than the old 70 MB cap of form bodies would be
/// accepted up to `--max-upload-mb`.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_form_streams_its_file_with_the_configured_limit() {
    for (engine, store) in stores().await {
        let dir =
            std::env::temp_dir().join(format!("isms_page_blobs_{engine}_{}", std::process::id()));
        let app = app_with(&store, BlobStore::new(&dir), 3 * 1024 * 1024);
        let (token, org) = setup(&store).await;
        let control = new_control(&app, &token).await;
        let (cookie, csrf) = app.login("mia@acme.test", PASSWORD).await;
        let send = |fields: Vec<(&'static str, String)>, name: &str, bytes: &[u8]| {
            let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let (ct, body) = multipart_bytes(&f, name, bytes);
            Request::post(format!("/controls/{control}/evidence"))
                .header(header::CONTENT_TYPE, ct)
                .header(header::COOKIE, cookie.clone())
                .body(Body::from(body))
                .unwrap()
        };
        // 2.5 MB: more than the 2 MB of an ordinary form, less than the limit.
        let bytes: Vec<u8> = "a,b,c\n".repeat(430_000).into_bytes();
        let fields = vec![
            ("csrf_token", csrf.clone()),
            ("title", "Access review export".to_owned()),
        ];
        let r = app.send(send(fields.clone(), "export.csv", &bytes)).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{engine}: {}", r.body);
        let sha = sha256_hex(&bytes);
        assert_eq!(std::fs::read(dir.join(&sha)).unwrap(), bytes, "{engine}");

        // Larger than the configured limit: the page says so, nothing stored.
        let big = vec![b'z'; 3 * 1024 * 1024 + 1];
        let r = app.send(send(fields.clone(), "big.csv", &big)).await;
        assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert!(
            r.body.contains("Nothing was stored"),
            "{engine}: {}",
            r.body
        );
        // Empty, and bytes contradicting the extension.
        let r = app.send(send(fields.clone(), "empty.csv", b"")).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        let r = app
            .send(send(fields.clone(), "scan.png", b"not an image at all"))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}");
        // The token after the file, or none: refused before anything is stored.
        let (ct, mut body) = multipart_bytes(&[], "late.csv", b"x,y\n");
        let tail = format!(
            "--{}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n",
            ct.split("boundary=").nth(1).unwrap()
        );
        let end = body.len() - ct.split("boundary=").nth(1).unwrap().len() - 6;
        body.splice(end..end, tail.into_bytes());
        let r = app
            .send(
                Request::post(format!("/controls/{control}/evidence"))
                    .header(header::CONTENT_TYPE, ct)
                    .header(header::COOKIE, cookie.clone())
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}: {}", r.body);
        let r = app.send(send(vec![], "none.csv", b"x,y\n")).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{engine}");

        assert_eq!(store.evidence_list(org, None).await.unwrap().len(), 1);
        let kept: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != ".tmp")
            .collect();
        assert_eq!(kept, vec![sha], "{engine}");
        assert_eq!(
            std::fs::read_dir(dir.join(".tmp")).map_or(0, Iterator::count),
            0,
            "{engine}"
        );
        let _ = token;
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// `isms backup` takes the evidence files of the folder blob store along
/// (to FILE.blobs), `isms restore` puts them back, each SHA-256 checked: a
/// damaged or missing file restores nothing, `--without-blobs` the database
/// alone; a backup whose files are missing is not written.
#[tokio::test(flavor = "multi_thread")]
async fn evidence_files_travel_with_the_backup_checked_by_their_sha256() {
    use crate::cli::{isms, stderr, stdout};
    use crate::support::database_urls;
    for (engine, url) in database_urls().await {
        let dir =
            std::env::temp_dir().join(format!("isms_backup_blobs_{engine}_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let blobs = dir.join("blobs");
        let blob_url = format!("file://{}", blobs.display());
        let store = Store::open(&url).await.unwrap();
        let app = app_with(&store, BlobStore::new(&blobs), 1024 * 1024);
        let (token, org) = setup(&store).await;
        let control = new_control(&app, &token).await;
        let bytes = b"date,reviewer\n2026-01-15,mia\n".to_vec();
        let r = upload(&app, &token, control, "review.csv", &bytes).await;
        assert_eq!(r.status, StatusCode::CREATED, "{engine}: {}", r.body);
        let sha = sha256_hex(&bytes);

        let file = dir.join("acme.isms-backup").display().to_string();
        let copy = std::path::PathBuf::from(format!("{file}.blobs"));
        let out = isms(&url, &["backup", &file, "--blob-store", &blob_url], None);
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("1 evidence files"),
            "{}",
            stdout(&out)
        );
        assert_eq!(std::fs::read(copy.join(&sha)).unwrap(), bytes, "{engine}");

        let restore_into = |name: &str| dir.join(name);
        // Restored (into a new database of the same engine): the file is
        // back in the target's blob store.
        let fresh = || async {
            let urls = database_urls().await;
            urls.into_iter().find(|(e, _)| *e == engine).unwrap().1
        };
        let target = fresh().await;
        let target_blobs = restore_into("restored");
        let out = isms(
            &target,
            &[
                "restore",
                &file,
                "--blob-store",
                &format!("file://{}", target_blobs.display()),
            ],
            None,
        );
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("restored 1 evidence files"),
            "{}",
            stdout(&out)
        );
        assert_eq!(std::fs::read(target_blobs.join(&sha)).unwrap(), bytes);
        let restored = Store::open(&target).await.unwrap();
        assert_eq!(restored.evidence_list(org, None).await.unwrap().len(), 1);
        restored.close().await;

        // A damaged file in the backup: nothing restored at all.
        std::fs::write(copy.join(&sha), b"date,reviewer\n2026-01-15,eve\n").unwrap();
        let target = fresh().await;
        let damaged_blobs = restore_into("damaged");
        let out = isms(
            &target,
            &[
                "restore",
                &file,
                "--blob-store",
                &format!("file://{}", damaged_blobs.display()),
            ],
            None,
        );
        assert!(!out.status.success(), "{engine}");
        assert!(
            stderr(&out).contains("damaged"),
            "{engine}: {}",
            stderr(&out)
        );
        let untouched = Store::open(&target).await.unwrap();
        assert_eq!(untouched.count_orgs().await.unwrap(), 0, "{engine}");
        assert!(!damaged_blobs.join(&sha).exists(), "{engine}");

        // Missing: refused, unless the database alone is wanted.
        std::fs::remove_file(copy.join(&sha)).unwrap();
        let args = [
            "restore",
            &file,
            "--blob-store",
            &format!("file://{}", damaged_blobs.display()),
        ];
        let out = isms(&target, &args, None);
        assert!(!out.status.success(), "{engine}");
        assert!(
            stderr(&out).contains("--without-blobs"),
            "{engine}: {}",
            stderr(&out)
        );
        assert_eq!(untouched.count_orgs().await.unwrap(), 0, "{engine}");
        let out = isms(&target, &[&args[..], &["--without-blobs"]].concat(), None);
        assert!(out.status.success(), "{engine}: {}", stderr(&out));
        assert_eq!(untouched.count_orgs().await.unwrap(), 1, "{engine}");
        untouched.close().await;

        // A blob store missing a file the database names: no backup written.
        std::fs::remove_file(blobs.join(&sha)).unwrap();
        let second = dir.join("second.isms-backup").display().to_string();
        let out = isms(&url, &["backup", &second, "--blob-store", &blob_url], None);
        assert!(!out.status.success(), "{engine}");
        assert!(
            stderr(&out).contains("missing"),
            "{engine}: {}",
            stderr(&out)
        );
        assert!(!std::path::Path::new(&second).exists(), "{engine}");
        assert!(!std::path::Path::new(&format!("{second}.blobs")).exists());
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
