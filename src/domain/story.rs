//! Stories (报道) and newsletter issues (期): what editors write and curate, and the rule that
//! decides whether a story may be public.

use chrono::NaiveDate;

use super::validation::{optional_text, required_text, ValidationErrors};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoryDraft {
    pub title: String,
    pub subtitle: Option<String>,
    /// 栏目 / kicker, e.g. 长寿先锋.
    pub section: Option<String>,
    /// Theme tags, e.g. 有德之士.
    pub themes: Vec<String>,
    /// e.g. 记者 周晶.
    pub byline: Option<String>,
    /// Markdown (rendered and sanitised on output).
    pub body: String,
    /// A story about a recognition: each resident needs a recognition or a clean 公示 behind it.
    pub recognition_story: bool,
    pub featured: bool,
    /// Residents the story names, in order.
    pub resident_ids: Vec<i64>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub struct StoryInput {
    pub title: String,
    pub subtitle: Option<String>,
    pub section: Option<String>,
    pub themes: Vec<String>,
    pub byline: Option<String>,
    pub body: String,
    pub recognition_story: bool,
    pub featured: bool,
    pub resident_ids: Vec<i64>,
}

impl StoryDraft {
    pub fn parse(input: StoryInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = required_text(&mut errors, "title", &input.title, 120);
        let subtitle = optional_text(&mut errors, "subtitle", input.subtitle.as_deref(), 120);
        let section = optional_text(&mut errors, "section", input.section.as_deref(), 30);
        let byline = optional_text(&mut errors, "byline", input.byline.as_deref(), 60);
        let body = required_text(&mut errors, "body", &input.body, 100_000);
        let mut themes: Vec<String> = Vec::new();
        for t in input
            .themes
            .iter()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty())
        {
            if t.chars().count() > 20 || t.contains(',') {
                errors.add("themes", format!("主题“{t}”应不超过 20 个字且不含逗号"));
            } else if !themes.iter().any(|x| x == t) {
                themes.push(t.to_string());
            }
        }
        if themes.len() > 10 {
            errors.add("themes", "最多 10 个主题");
        }
        let mut resident_ids = Vec::new();
        for id in input.resident_ids {
            if !resident_ids.contains(&id) {
                resident_ids.push(id);
            }
        }
        if resident_ids.len() > 50 {
            errors.add("resident_ids", "一篇报道最多关联 50 位居民");
        }
        if input.recognition_story && resident_ids.is_empty() {
            errors.add("resident_ids", "表彰报道需要关联被表彰的居民");
        }
        errors.finish(|| StoryDraft {
            parsed: super::Parsed(()),
            title,
            subtitle,
            section,
            themes,
            byline,
            body,
            recognition_story: input.recognition_story,
            featured: input.featured,
            resident_ids,
        })
    }
}

/// A `since`/`until` bound: RFC 3339, or a day (`2019-09-01`) meaning its start in Shanghai (UTC+8).
pub fn parse_moment(value: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()?;
    Some((day.and_hms_opt(0, 0, 0)? - chrono::Duration::hours(8)).and_utc())
}

/// Where a resident named in a story stands.
#[derive(Debug, Clone)]
pub struct ResidentStanding {
    pub name: String,
    /// An active `story` consent.
    pub story_consent: bool,
    /// A standing recognition, or a nomination approved after a clean 公示.
    pub honoured: bool,
}

/// Why a story may not be public; empty when it may.
/// How a resident the viewer may not see is shown in a story (its residents, its problems).
pub const HIDDEN_RESIDENT: &str = "（未公开的居民）";

pub fn publication_problems(
    recognition_story: bool,
    residents: &[ResidentStanding],
) -> Vec<String> {
    let mut problems = Vec::new();
    for r in residents {
        if !r.story_consent {
            problems.push(format!("{}尚未同意在报道中出现（story）", r.name));
        }
        if recognition_story && !r.honoured {
            problems.push(format!("{}还没有表彰或已结束且无异议的公示", r.name));
        }
    }
    problems
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueDraft {
    pub name: String,
    pub date: NaiveDate,
    pub theme: Option<String>,
    /// 编者按 (Markdown).
    pub editors_note: Option<String>,
    pub story_ids: Vec<i64>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

impl IssueDraft {
    pub fn parse(
        name: &str,
        date: &str,
        theme: Option<&str>,
        editors_note: Option<&str>,
        story_ids: Vec<i64>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = required_text(&mut errors, "name", name, 100);
        let date = super::consent::parse_date(&mut errors, "date", date);
        let theme = optional_text(&mut errors, "theme", theme, 30);
        let editors_note = optional_text(&mut errors, "editors_note", editors_note, 10_000);
        let mut ids = Vec::new();
        for id in story_ids {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let Some(date) = date else { return Err(errors) };
        errors.finish(|| IssueDraft {
            parsed: super::Parsed(()),
            name,
            date,
            theme,
            editors_note,
            story_ids: ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(story_consent: bool, honoured: bool) -> ResidentStanding {
        ResidentStanding {
            name: "孙建伟".into(),
            story_consent,
            honoured,
        }
    }

    #[test]
    fn a_story_needs_story_consent_and_a_recognition_story_an_honour() {
        assert!(publication_problems(false, &[standing(true, false)]).is_empty());
        assert_eq!(
            publication_problems(false, &[standing(false, true)]).len(),
            1
        );
        assert_eq!(
            publication_problems(true, &[standing(true, false)]).len(),
            1
        );
        assert!(publication_problems(true, &[standing(true, true)]).is_empty());
        assert!(publication_problems(true, &[]).is_empty());
    }

    #[test]
    fn themes_are_trimmed_and_deduplicated() {
        let d = StoryDraft::parse(StoryInput {
            title: "标题".into(),
            subtitle: None,
            section: Some("长寿先锋".into()),
            themes: vec![" 有德之士 ".into(), "有德之士".into(), "".into()],
            byline: Some("记者 周晶".into()),
            body: "正文".into(),
            recognition_story: false,
            featured: true,
            resident_ids: vec![1, 1, 2],
        })
        .unwrap();
        assert_eq!(d.themes, ["有德之士"]);
        assert_eq!(d.resident_ids, [1, 2]);
    }
}
