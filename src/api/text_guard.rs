//! Every string in every JSON request body obeys the domain's one text rule
//! ([`forbidden_char`]: no control characters but tab and line breaks), checked once here for the
//! whole API — and so for the staff console, which calls the API — instead of in each handler.
//! A refused body answers 422 `validation_failed` naming each field (`stories[0].title` style
//! paths), before any handler runs, so nothing is stored.

use poem::http::header::CONTENT_TYPE;
use poem::{Endpoint, Middleware, Request};
use serde_json::Value;

use super::error::ApiError;
use crate::domain::validation::{control_char_message, forbidden_char, ValidationErrors};

pub struct TextGuard;

impl<E: Endpoint> Middleware<E> for TextGuard {
    type Output = TextGuardEndpoint<E>;
    fn transform(&self, ep: E) -> Self::Output {
        TextGuardEndpoint { inner: ep }
    }
}

pub struct TextGuardEndpoint<E> {
    inner: E,
}

fn is_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case("application/json") || mime.ends_with("+json")
        })
}

/// Add an error for every string under `value` that holds a forbidden character.
fn scan(value: &Value, path: &str, errors: &mut ValidationErrors) {
    match value {
        Value::String(s) => {
            if let Some(c) = forbidden_char(s) {
                let field = if path.is_empty() { "body" } else { path };
                errors.add(field, control_char_message(c));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                scan(item, &format!("{path}[{i}]"), errors);
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                scan(item, &path, errors);
            }
        }
        _ => {}
    }
}

impl<E: Endpoint> Endpoint for TextGuardEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        if is_json(&req) {
            // The body limit in front of this has already bounded the body.
            let body = req.take_body().into_bytes().await?;
            // Malformed JSON is left to the operation's own parser and its 400.
            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                let mut errors = ValidationErrors::default();
                scan(&value, "", &mut errors);
                if !errors.is_empty() {
                    return Err(ApiError::from(errors).into());
                }
            }
            req.set_body(body);
        }
        self.inner.call(req).await
    }
}
