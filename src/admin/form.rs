//! What a console form submitted: text fields (in order, repeated names kept) and uploaded files.

use poem::web::Multipart;
use poem::{FromRequest, Request, RequestBody};

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
