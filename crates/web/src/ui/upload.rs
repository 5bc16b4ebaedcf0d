//! Forms that carry files: read as multipart, so files come as they are.

use crate::error::ApiError;
use axum::extract::Multipart;
use domain::model::AttachmentInput;

/// A posted multipart form: its text fields, and the files of one field
/// (an empty file input sends nothing).
#[derive(Default)]
pub struct Posted {
    fields: Vec<(String, String)>,
    pub files: Vec<AttachmentInput>,
}

impl Posted {
    pub async fn read(mut form: Multipart, file_field: &str) -> Result<Posted, ApiError> {
        let mut out = Posted::default();
        let broken =
            |e: axum::extract::multipart::MultipartError| ApiError::field("form", e.to_string());
        while let Some(field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_string();
            if name == file_field {
                let filename = field.file_name().unwrap_or_default().to_string();
                let content_type = field
                    .content_type()
                    .unwrap_or("application/octet-stream")
                    .to_string();
                let data = field.bytes().await.map_err(broken)?;
                if !filename.is_empty() && !data.is_empty() {
                    out.files
                        .push(AttachmentInput::new(filename, content_type, data.to_vec()));
                }
                continue;
            }
            let value = field.text().await.map_err(broken)?;
            out.fields.push((name, value));
        }
        Ok(out)
    }

    /// The first value of a field, when it was sent.
    pub fn get(&self, key: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// The first value of a field; empty when absent.
    pub fn one(&self, key: &str) -> String {
        self.get(key).unwrap_or_default()
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
