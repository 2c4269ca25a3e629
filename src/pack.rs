//! The issue export pack: a zip that layout software takes as it is — the issue and its stories as
//! Markdown and as clean HTML, a captions file and a manifest.

use std::io::{Cursor, Write};

use askama::Template;
use serde_json::json;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use sea_orm::DatabaseConnection;

use crate::media::Media;
use crate::service::issues::{view, Issue};
use crate::service::stories::{views_as, Story};
use crate::store::entities::newsletter_issue::Model;
use crate::store::residents::Visibility;
use crate::store::stories;

#[derive(Template)]
#[template(path = "pack/issue.html")]
struct IssueHtml<'a> {
    issue: &'a Issue,
    stories: &'a [Story],
}

#[derive(Template)]
#[template(path = "pack/story.html")]
struct StoryHtml<'a> {
    story: &'a Story,
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A photo's print rendition could not be read from the media store.
    #[error("reading photo {key}: {reason}")]
    Media { key: String, reason: String },
}

fn story_markdown(s: &Story) -> String {
    let mut md = format!("# {}\n\n", s.title);
    if let Some(sub) = &s.subtitle {
        md.push_str(&format!("## {sub}\n\n"));
    }
    let line: Vec<&str> = [s.section.as_deref(), s.byline.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !line.is_empty() {
        md.push_str(&format!("{}\n\n", line.join(" · ")));
    }
    md.push_str(s.body.trim_end());
    md.push('\n');
    crate::markdown::to_safe_markdown(&md)
}

fn issue_markdown(issue: &Issue, stories: &[Story]) -> String {
    let mut md = format!(
        "# {}\n\n{}\n\n",
        issue.name,
        issue.date.format("%Y年%-m月%-d日")
    );
    if let Some(theme) = &issue.theme {
        md.push_str(&format!("主题：{theme}\n\n"));
    }
    if let Some(note) = &issue.editors_note {
        md.push_str(&format!("## 编者按\n\n{}\n\n", note.trim_end()));
    }
    md.push_str("## 本期报道\n\n");
    for (i, s) in stories.iter().enumerate() {
        md.push_str(&format!("{}. {}\n", i + 1, s.title));
    }
    crate::markdown::to_safe_markdown(&md)
}

/// A photo for the pack: its print-size bytes (already free of EXIF) and its caption row.
pub struct PackPhoto {
    /// `photos/01-1.jpg`: story position, photo position.
    pub file: String,
    pub bytes: Vec<u8>,
    pub caption: String,
    pub credit: String,
    /// Names of the residents shown.
    pub residents: Vec<String>,
}

/// A CSV field, quoted when it needs to be.
/// One CSV field. A field a spreadsheet would read as a formula (starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading `'` so Excel and WPS show it as text.
fn csv(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

/// captions.csv starts with a UTF-8 byte order mark: without it Excel and WPS on Chinese Windows
/// read the file as GBK and show mojibake.
const CSV_BOM: &str = "\u{FEFF}";

/// Build the pack. File names are ASCII (`stories/01-slug.md`) so every unzip tool keeps them.
pub fn build(issue: &Issue, stories: &[Story], photos: &[PackPhoto]) -> Result<Vec<u8>, PackError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut files = Vec::new();
    let mut put = |zip: &mut ZipWriter<Cursor<Vec<u8>>>,
                   name: String,
                   bytes: &[u8]|
     -> Result<(), PackError> {
        zip.start_file(name.as_str(), options)?;
        zip.write_all(bytes)?;
        files.push(name);
        Ok(())
    };
    put(
        &mut zip,
        "issue.md".into(),
        issue_markdown(issue, stories).as_bytes(),
    )?;
    put(
        &mut zip,
        "issue.html".into(),
        IssueHtml { issue, stories }.render()?.as_bytes(),
    )?;
    let mut entries = Vec::new();
    for (i, s) in stories.iter().enumerate() {
        let base = format!("stories/{:02}-{}", i + 1, s.slug);
        put(&mut zip, format!("{base}.md"), story_markdown(s).as_bytes())?;
        put(
            &mut zip,
            format!("{base}.html"),
            StoryHtml { story: s }.render()?.as_bytes(),
        )?;
        entries.push(json!({
            "position": i + 1,
            "id": s.id,
            "slug": s.slug,
            "title": s.title,
            "section": s.section,
            "byline": s.byline,
            "url": s.url,
            "markdown": format!("{base}.md"),
            "html": format!("{base}.html"),
            "residents": s.residents.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        }));
    }
    // Photos are stored compressed already: deflating them again only costs time.
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let mut captions = format!("{CSV_BOM}file,caption,credit,residents\n");
    for p in photos {
        zip.start_file(p.file.as_str(), stored)?;
        zip.write_all(&p.bytes)?;
        let row = [
            csv(&p.file),
            csv(&p.caption),
            csv(&p.credit),
            csv(&p.residents.join("、")),
        ];
        captions.push_str(&row.join(","));
        captions.push('\n');
    }
    put(&mut zip, "captions.csv".into(), captions.as_bytes())?;
    let manifest = json!({
        "format": "youde-issue-pack/1",
        "issue": { "id": issue.id, "name": issue.name, "date": issue.date, "theme": issue.theme, "url": issue.url },
        "stories": entries,
        "files": files
            .iter()
            .chain(photos.iter().map(|p| &p.file))
            .chain(std::iter::once(&"manifest.json".to_string()))
            .collect::<Vec<_>>(),
    });
    zip.start_file("manifest.json", options)?;
    zip.write_all(
        serde_json::to_string_pretty(&manifest)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    Ok(zip.finish()?.into_inner())
}

/// The pack of issue `m`, as `GET /api/v1/issues/{id}/pack` and `youde export-issue` give it: its
/// stories the public may read (all of them for an editor, `public = false`) and their photos at
/// print size. It needs the database, the media store and the public address, nothing more.
pub async fn of_issue(
    db: &DatabaseConnection,
    media: &Media,
    public_url: &str,
    m: &Model,
    public: bool,
) -> Result<Vec<u8>, PackError> {
    let issue = view(db, public_url, m.clone(), public).await?;
    let mut rows = Vec::with_capacity(issue.story_ids.len());
    for id in &issue.story_ids {
        rows.push(stories::get(db, *id).await?);
    }
    let items: Vec<Story> = views_as(db, public_url, rows, Visibility::Public).await?;
    let mut photos = Vec::new();
    for (i, story) in items.iter().enumerate() {
        for (j, photo) in story.photos.iter().enumerate() {
            let key = photo.derivatives.print.url.trim_start_matches("/media/");
            let Some(bytes) = media.store.get(key).await.map_err(|e| PackError::Media {
                key: key.to_string(),
                reason: e.to_string(),
            })?
            else {
                continue;
            };
            let mut names = Vec::new();
            for id in &photo.resident_ids {
                names.push(
                    crate::store::residents::get(db, *id, Visibility::Staff)
                        .await?
                        .name,
                );
            }
            photos.push(PackPhoto {
                file: format!("photos/{:02}-{}.jpg", i + 1, j + 1),
                bytes: bytes.to_vec(),
                caption: photo.caption.clone().unwrap_or_default(),
                credit: photo.credit.clone().unwrap_or_default(),
                residents: names,
            });
        }
    }
    build(&issue, &items, &photos)
}

#[cfg(test)]
mod tests {
    use super::csv;

    #[test]
    fn csv_fields_that_look_like_formulas_are_kept_as_text() {
        assert_eq!(
            csv("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(csv("+86 139"), "'+86 139");
        assert_eq!(csv("-1"), "'-1");
        assert_eq!(csv("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv("记者 周晶"), "记者 周晶");
        assert_eq!(csv("甲,乙"), "\"甲,乙\"");
    }
}
