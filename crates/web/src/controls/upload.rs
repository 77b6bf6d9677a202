//! Reads a multipart evidence upload: the file streams into the blob store
//! as it arrives; the other fields are small and read as text.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use isms_store::{EvidenceInput, StoredFile};

use crate::AppState;
use crate::error::WebError;

/// The most bytes of one text field.
const MAX_FIELD: usize = 64 * 1024;

/// What an upload form carried.
#[derive(Debug, Default)]
pub(crate) struct Upload {
    pub input: EvidenceInput,
    pub file: Option<StoredFile>,
}

async fn text(field: &mut multer::Field<'_>, name: &str) -> Result<String, WebError> {
    let mut out = Vec::new();
    while let Some(c) = field.chunk().await.map_err(|e| {
        WebError::new(
            StatusCode::BAD_REQUEST,
            "Please check your input",
            e.to_string(),
        )
    })? {
        out.extend_from_slice(&c);
        if out.len() > MAX_FIELD {
            return Err(WebError::invalid(format!("{name}: too long")));
        }
    }
    String::from_utf8(out).map_err(|_| WebError::invalid(format!("{name}: not UTF-8 text")))
}

/// Reads the form: `file` (streamed to the blob store), and `title`,
/// `description`, `collected_on`, `expires_on`, `url`, `control` (ids).
pub(crate) async fn read(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Upload, WebError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|_| {
        WebError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Please check your input",
            "send multipart/form-data with the file in the field `file`",
        )
    })?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let mut up = Upload::default();
    loop {
        let next = multipart.next_field().await.map_err(|e| {
            WebError::new(
                StatusCode::BAD_REQUEST,
                "Please check your input",
                format!("the form could not be read: {e}"),
            )
        })?;
        let Some(mut field) = next else { break };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "file" => {
                if up.file.is_some() {
                    return Err(WebError::invalid("file: send one file per upload"));
                }
                let file_name = field.file_name().unwrap_or("upload").to_owned();
                up.file = Some(
                    state
                        .blobs
                        .put(&mut field, &file_name, state.config.max_upload_bytes)
                        .await?,
                );
            }
            "title" => up.input.title = Some(text(&mut field, &name).await?),
            "description" => up.input.description = Some(text(&mut field, &name).await?),
            "collected_on" => up.input.collected_on = Some(text(&mut field, &name).await?),
            "expires_on" => up.input.expires_on = Some(text(&mut field, &name).await?),
            "url" => up.input.url = Some(text(&mut field, &name).await?),
            "control" => {
                let v = text(&mut field, &name).await?;
                if !v.trim().is_empty() {
                    let id = v
                        .trim()
                        .parse()
                        .map_err(|_| WebError::invalid(format!("control: '{v}' is not an id")))?;
                    up.input.controls.get_or_insert_with(Vec::new).push(id);
                }
            }
            _ => {
                // The CSRF token (checked by its layer) and unknown fields.
                text(&mut field, &name).await?;
            }
        }
    }
    Ok(up)
}
