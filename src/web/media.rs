//! `/media/<sha256>.jpg`: the photo files. Names are content addresses, so a file never changes
//! and may be cached for ever; whether it may be *served* is decided at every request by the
//! publication rule (`store::photos`): the public gets 404 for a photo that is not public now,
//! staff (bearer token) get every file a photo uses. `middleware::SecurityHeaders` adds the site's
//! script-free Content-Security-Policy.

use poem::http::{header, HeaderValue, StatusCode};
use poem::web::{Data, Path};
use poem::{handler, Request, Response};

use crate::media::processing::Rendition;
use crate::media::storage::is_valid_key;
use crate::service::auth::Viewer;
use crate::state::AppState;
use crate::store::photos;
use crate::store::residents::Visibility;

/// Browsers may keep a public file for a year; shared caches (a CDN) for a minute only, so that a
/// withdrawn consent reaches them within a minute too.
const PUBLIC_CACHE: &str = "public, max-age=31536000, s-maxage=60, immutable";
/// Files only staff may see stay out of shared caches.
const STAFF_CACHE: &str = "private, max-age=31536000, immutable";

fn not_found() -> Response {
    super::error_response(StatusCode::NOT_FOUND, None)
}

#[handler]
pub async fn serve(
    req: &Request,
    state: Data<&AppState>,
    viewer: Data<&Viewer>,
    Path(key): Path<String>,
) -> Response {
    if !is_valid_key(&key) {
        return not_found();
    }
    let cache = match visibility(&state, &key, viewer.0).await {
        Ok(Some(cache)) => cache,
        Ok(None) => return not_found(),
        Err(err) => {
            tracing::error!(error = %err, "cannot check whether a media file may be served");
            return super::error_response(StatusCode::INTERNAL_SERVER_ERROR, None);
        }
    };
    let etag = format!("\"{}\"", key.trim_end_matches(".jpg"));
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').map(str::trim).any(|t| t == etag || t == "*"));
    let builder = Response::builder()
        .header(header::ETAG, etag.as_str())
        .header(header::CACHE_CONTROL, cache)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("inline"),
        );
    if fresh {
        return builder.status(StatusCode::NOT_MODIFIED).finish();
    }
    match state.media.store.get(&key).await {
        Ok(Some(bytes)) => builder.content_type(Rendition::CONTENT_TYPE).body(bytes),
        Ok(None) => {
            tracing::error!(%key, "a photo uses a media file that is missing from the store");
            not_found()
        }
        Err(err) => {
            tracing::error!(%key, error = %err, "cannot read a media file");
            super::error_response(StatusCode::INTERNAL_SERVER_ERROR, None)
        }
    }
}

/// The `Cache-Control` to serve `key` with, or `None` when this viewer may not see it.
async fn visibility(
    state: &AppState,
    key: &str,
    viewer: &Viewer,
) -> Result<Option<&'static str>, crate::store::StoreError> {
    if photos::key_visible(&state.db, key, Visibility::Public).await? {
        return Ok(Some(PUBLIC_CACHE));
    }
    let reader = crate::service::photos::reader(viewer);
    if reader != photos::Reader::Public && photos::key_visible(&state.db, key, reader).await? {
        return Ok(Some(STAFF_CACHE));
    }
    Ok(None)
}
