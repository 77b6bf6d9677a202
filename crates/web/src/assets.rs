//! Static assets compiled into the binary and served under a content-hashed
//! path, so they can be cached forever and a new release is never stale.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/app.css"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/app.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../assets/htmx.min.js"),
    },
    Asset {
        name: "nojs.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../assets/nojs.css"),
    },
    Asset {
        name: "favicon.svg",
        content_type: "image/svg+xml",
        body: include_bytes!("../assets/favicon.svg"),
    },
];

/// One hash over all assets: short, and changes whenever any file does.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for a in ASSETS {
        h.update(a.body);
    }
    hex::encode(&h.finalize()[..6])
});

/// The URL path of an embedded asset.
pub fn path(name: &str) -> String {
    format!("/assets/{}/{name}", *VERSION)
}

pub async fn serve(Path((version, name)): Path<(String, String)>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    // An old version's URL still gets the current file, but not cached forever.
    let cache = if version == *VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
        ],
        asset.body,
    )
        .into_response()
}

/// `/favicon.ico`, which browsers ask for before reading the page's
/// `<link rel="icon">`: the SVG icon (browsers sniff the type), cached a day.
pub async fn favicon() -> Response {
    let icon = ASSETS
        .iter()
        .find(|a| a.name == "favicon.svg")
        .expect("the icon is embedded");
    (
        [
            (header::CONTENT_TYPE, icon.content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        icon.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendored_htmx_is_the_recorded_release() {
        let htmx = ASSETS.iter().find(|a| a.name == "htmx.min.js").unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(htmx.body)),
            "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"
        );
        assert!(path("app.css").starts_with("/assets/") && path("app.css").ends_with("/app.css"));
    }
}

#[cfg(test)]
mod csp_tests {
    /// The CSP forbids inline scripts and styles: templates must not rely on them.
    #[test]
    fn templates_have_no_inline_scripts_or_styles() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("style=\""),
                "{}: inline style",
                path.display()
            );
            assert!(
                !text.contains(" on") || !text.contains("onclick="),
                "{}: inline handler",
                path.display()
            );
            for script in text.match_indices("<script") {
                let tag = &text[script.0..text[script.0..].find('>').unwrap() + script.0];
                assert!(tag.contains("src="), "{}: inline script", path.display());
            }
        }
    }
}
