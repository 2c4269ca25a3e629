//! What a console form submitted (text fields in order, repeated names kept, and uploaded files),
//! the pickers every form offers (communities, residents), and which refusals a form shows.

use poem::web::Multipart;
use std::collections::HashMap;

use poem::http::StatusCode;
use poem::{FromRequest, Request, RequestBody};

use super::client::Problem;
use super::{Console, Result};
use crate::service::registry::{Community, Resident};

/// One uploaded file.
pub struct Upload {
    pub name: String,
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct FormData {
    pub pairs: Vec<(String, String)>,
    pub files: Vec<Upload>,
}

impl FormData {
    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of `name` exactly as typed (passwords: spaces are part of them).
    pub fn raw(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// `Some(value)` when given and not blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    /// Every non-blank value of a repeated field (checkbox lists).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name) == "on"
    }

    pub fn file(&self, name: &str) -> Option<&Upload> {
        self.files
            .iter()
            .find(|f| f.name == name && !f.bytes.is_empty())
    }

    /// Read a urlencoded or multipart body. Anything else (or a broken body) is an empty form,
    /// which then fails the CSRF check.
    pub async fn read(req: &Request, body: &mut RequestBody) -> FormData {
        let content_type = req.content_type().unwrap_or_default().to_ascii_lowercase();
        if content_type.starts_with("multipart/form-data") {
            let Ok(mut multipart) = Multipart::from_request(req, body).await else {
                return FormData::default();
            };
            let mut form = FormData::default();
            while let Ok(Some(field)) = multipart.next_field().await {
                let name = field.name().unwrap_or_default().to_string();
                match field.file_name().map(str::to_string) {
                    Some(file_name) => {
                        let content_type = field.content_type().unwrap_or_default().to_string();
                        let Ok(bytes) = field.bytes().await else {
                            return FormData::default();
                        };
                        form.files.push(Upload {
                            name,
                            file_name,
                            content_type,
                            bytes,
                        });
                    }
                    None => {
                        let Ok(text) = field.text().await else {
                            return FormData::default();
                        };
                        form.pairs.push((name, text));
                    }
                }
            }
            form
        } else {
            let Ok(body) = body.take() else {
                return FormData::default();
            };
            let Ok(bytes) = body.into_bytes().await else {
                return FormData::default();
            };
            FormData {
                pairs: serde_urlencoded::from_bytes(&bytes).unwrap_or_default(),
                files: Vec::new(),
            }
        }
    }
}

/// A `multipart/form-data` body (content type, bytes) for an in-process API upload: the text
/// fields, then the file as the field `file`.
pub fn multipart_body(texts: &[(&str, String)], file: Option<&Upload>) -> (String, Vec<u8>) {
    let boundary = format!(
        "youde-{}",
        crate::store::tokens::generate().replace(['-', '_'], "")
    );
    let mut body = Vec::new();
    let clean = |s: &str| s.replace(['"', '\r', '\n'], "");
    for (name, value) in texts {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    if let Some(file) = file {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                clean(&file.file_name),
                clean(if file.content_type.is_empty() { "application/octet-stream" } else { &file.content_type }),
            )
            .as_bytes(),
        );
        body.extend_from_slice(&file.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A refused change the user can fix in the form: shown next to the fields, status kept.
pub fn fixable(p: &Problem) -> bool {
    matches!(
        p.status,
        StatusCode::BAD_REQUEST
            | StatusCode::CONFLICT
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
    )
}

/// Communities as select options, labelled with their path: 普陀区 › 长寿路街道 › 音乐广场.
pub async fn community_options(console: &Console) -> Result<Vec<(String, String)>> {
    let all: Vec<Community> = console.api.get_all("/communities").await?;
    let by_id: HashMap<i64, &Community> = all.iter().map(|c| (c.id, c)).collect();
    let mut options: Vec<(String, String)> = all
        .iter()
        .map(|c| {
            let mut names = vec![c.name.clone()];
            let mut parent = c.parent_id;
            while let Some(p) = parent.and_then(|id| by_id.get(&id)) {
                names.push(p.name.clone());
                parent = p.parent_id;
            }
            names.reverse();
            (c.id.to_string(), names.join(" › "))
        })
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    options.insert(0, (String::new(), "请选择".into()));
    Ok(options)
}

/// Every resident as `(id, name)` for pickers.
pub async fn resident_options(console: &Console) -> Result<Vec<(String, String)>> {
    let all: Vec<Resident> = console.api.get_all("/residents").await?;
    Ok(all
        .into_iter()
        .map(|r| (r.id.to_string(), r.name))
        .collect())
}
