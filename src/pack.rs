//! The issue export pack: a zip that layout software takes as it is — the issue and its stories as
//! Markdown and as clean HTML, a captions file and a manifest.

use std::io::{Cursor, Write};

use askama::Template;
use serde_json::json;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::service::issues::Issue;
use crate::service::stories::Story;

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
