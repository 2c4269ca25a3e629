//! HTTP middleware every face shares: body limits and security headers.

use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};

/// Refuses bodies over the limit with 413 before anything reads them: by `Content-Length` when
/// given, by counting otherwise (chunked bodies: reading stops at the limit, so no more than the
/// limit is ever held). The uploads (`POST /photos` and a roster's `POST /imports`, the multipart
/// operations of the API, and the console's photo form) have their own, larger limit; everything
/// else gets the smaller one.
#[derive(Clone, Copy)]
pub struct BodyLimit {
    pub json: usize,
    pub upload: usize,
}

impl BodyLimit {
    fn for_request(&self, req: &Request) -> usize {
        // Paths here are relative to `/api/v1`.
        let path = req.uri().path();
        if req.method() == poem::http::Method::POST && (path == "/photos" || path == "/imports") {
            self.upload
        } else {
            self.json
        }
    }
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            inner: ep,
            limits: *self,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    limits: BodyLimit,
}

/// 413 in the API's error shape (`{"error": {"code", "message", "details"}}`); the pages and the
/// console turn it into their own page.
fn too_large(max: usize) -> poem::Error {
    let body = serde_json::json!({
        "error": {
            "code": "payload_too_large",
            "message": format!("请求内容超过 {} KB 的上限", max / 1024),
            "details": { "max_bytes": max },
        }
    });
    poem::Error::from_response(
        Response::builder()
            .status(StatusCode::PAYLOAD_TOO_LARGE)
            .content_type("application/json; charset=utf-8")
            .body(body.to_string()),
    )
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        let max = self.limits.for_request(&req);
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        match declared {
            Some(len) if len > max => return Err(too_large(max)),
            Some(_) => {}
            None => {
                let body = req
                    .take_body()
                    .into_bytes_limit(max)
                    .await
                    .map_err(|_| too_large(max))?;
                req.set_body(body);
            }
        }
        self.inner.call(req).await
    }
}

/// Security headers for every page: no inline script, no framing, no sniffing.
/// Over https (the public URL says so) also `Strict-Transport-Security`. The router's own plain
/// 404 and 405 are replaced by the face's own page (`error_page`).
pub struct SecurityHeaders {
    csp: &'static str,
    https: bool,
    error_page: fn(StatusCode) -> Response,
}

impl SecurityHeaders {
    /// The public site: no script at all.
    pub fn public(https: bool, error_page: fn(StatusCode) -> Response) -> Self {
        SecurityHeaders {
            csp: CSP,
            https,
            error_page,
        }
    }
    /// The staff console: its one script file (the photo preview), nothing inline, and local
    /// previews of a chosen file (`blob:`).
    pub fn console(https: bool, error_page: fn(StatusCode) -> Response) -> Self {
        SecurityHeaders {
            csp: CONSOLE_CSP,
            https,
            error_page,
        }
    }
}

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint {
            inner: ep,
            csp: self.csp,
            https: self.https,
            error_page: self.error_page,
        }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
    csp: &'static str,
    https: bool,
    error_page: fn(StatusCode) -> Response,
}

const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
                           img-src 'self' data: blob:; form-action 'self'; \
                           frame-ancestors 'none'; base-uri 'none'";

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        // A WebError renders its own Chinese page; the router's own 404/405 are plain text.
        let mut resp = match self.inner.call(req).await {
            Ok(r) => r.into_response(),
            Err(err) => err.into_response(),
        };
        let status = resp.status();
        let is_html = resp
            .content_type()
            .is_some_and(|ct| ct.starts_with("text/html"));
        if !is_html && (status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED)
        {
            resp = (self.error_page)(status);
        }
        let headers = resp.headers_mut();
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static(self.csp),
        );
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            "referrer-policy",
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        if self.https {
            headers.insert(
                "strict-transport-security",
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        Ok(resp)
    }
}
