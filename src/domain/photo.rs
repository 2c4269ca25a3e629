//! Photos (照片): who or what a photo belongs to, its caption, credit ("记者 周晶") and alt text,
//! and the residents it shows.
//!
//! The publication rule (PIPL Art. 25: nobody's portrait without their separate consent): a photo
//! is public only when its owner is public — an activity always; a resident while their `profile`
//! consent is active and, since a resident's photo shows them, their `photo` consent too; a story
//! while it is published and public under the story publication rule (`domain::story`) — and
//! every resident named as shown has an active `photo` consent. It is checked in the database at
//! every request (`store::photos`), so a withdrawal or an unpublished story takes effect at once.

use std::fmt;
use std::str::FromStr;

use super::partial_date::PartialDate;
use super::validation::{optional_text, ValidationErrors};

/// What a photo belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OwnerKind {
    /// A resident's portrait or a photo of them at work.
    Resident,
    /// A photo of an activity.
    Activity,
    /// A story's own photo (the first one is its lead photo).
    Story,
}

impl OwnerKind {
    pub fn code(self) -> &'static str {
        match self {
            OwnerKind::Resident => "resident",
            OwnerKind::Activity => "activity",
            OwnerKind::Story => "story",
        }
    }
}

impl fmt::Display for OwnerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for OwnerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            "resident" => Ok(OwnerKind::Resident),
            "activity" => Ok(OwnerKind::Activity),
            "story" => Ok(OwnerKind::Story),
            other => Err(format!("“{other}” 无效：应为 resident、activity 或 story")),
        }
    }
}

/// A photo's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Owner {
    pub kind: OwnerKind,
    pub id: i64,
}

/// Most residents one photo may name.
pub const MAX_RESIDENTS_SHOWN: usize = 200;

/// The fields of an upload besides the file, as they arrive.
#[derive(Debug, Clone, Default)]
pub struct PhotoInput {
    pub owner_kind: String,
    pub owner_id: i64,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt: Option<String>,
    pub taken_on: Option<String>,
    /// Ids of the residents shown, each entry one id or several separated by commas.
    pub residents: Vec<String>,
}

/// The editable description of a photo.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PhotoText {
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub alt: Option<String>,
    pub taken_on: Option<PartialDate>,
}

impl PhotoText {
    pub fn parse(
        caption: Option<&str>,
        credit: Option<&str>,
        alt: Option<&str>,
        taken_on: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let text = Self::collect(&mut errors, caption, credit, alt, taken_on);
        errors.finish(|| text)
    }

    fn collect(
        errors: &mut ValidationErrors,
        caption: Option<&str>,
        credit: Option<&str>,
        alt: Option<&str>,
        taken_on: Option<&str>,
    ) -> Self {
        PhotoText {
            caption: optional_text(errors, "caption", caption, 500),
            credit: optional_text(errors, "credit", credit, 100),
            alt: optional_text(errors, "alt", alt, 1000),
            taken_on: taken_on
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .and_then(|t| {
                    PartialDate::parse(t)
                        .map_err(|e| errors.add("taken_on", e.to_string()))
                        .ok()
                }),
        }
    }
}

/// A checked upload description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoDraft {
    pub owner: Owner,
    pub text: PhotoText,
    /// Distinct, in the order given.
    pub resident_ids: Vec<i64>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

impl PhotoDraft {
    pub fn parse(input: PhotoInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = input
            .owner_kind
            .parse::<OwnerKind>()
            .map_err(|e| errors.add("owner_kind", e))
            .ok();
        if input.owner_id < 1 {
            errors.add("owner_id", "应为正整数");
        }
        let text = PhotoText::collect(
            &mut errors,
            input.caption.as_deref(),
            input.credit.as_deref(),
            input.alt.as_deref(),
            input.taken_on.as_deref(),
        );
        let mut resident_ids = Vec::new();
        for part in input
            .residents
            .iter()
            .flat_map(|r| r.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match part.parse::<i64>() {
                Ok(id) if id > 0 => {
                    if !resident_ids.contains(&id) {
                        resident_ids.push(id);
                    }
                }
                _ => errors.add("residents", format!("“{part}” 不是居民编号")),
            }
        }
        if resident_ids.len() > MAX_RESIDENTS_SHOWN {
            errors.add(
                "residents",
                format!("一张照片最多标注 {MAX_RESIDENTS_SHOWN} 名居民"),
            );
        }
        let Some(kind) = kind else { return Err(errors) };
        errors.finish(|| PhotoDraft {
            parsed: super::Parsed(()),
            owner: Owner {
                kind,
                id: input.owner_id,
            },
            text,
            resident_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str, residents: &[&str]) -> PhotoInput {
        PhotoInput {
            owner_kind: kind.into(),
            owner_id: 1,
            residents: residents.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn residents_may_be_repeated_or_comma_separated() {
        let draft = PhotoDraft::parse(input("activity", &["3, 5", "7", "3", ""])).unwrap();
        assert_eq!(draft.resident_ids, [3, 5, 7]);
        assert_eq!(
            draft.owner,
            Owner {
                kind: OwnerKind::Activity,
                id: 1
            }
        );
    }

    #[test]
    fn stories_may_own_photos() {
        let draft = PhotoDraft::parse(input("story", &["4"])).unwrap();
        assert_eq!(draft.owner.kind, OwnerKind::Story);
        assert_eq!(draft.resident_ids, [4]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = input("album", &["x"]);
        bad.taken_on = Some("8月30日".into());
        bad.owner_id = 0;
        let fields: Vec<String> = PhotoDraft::parse(bad)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["owner_kind", "owner_id", "taken_on", "residents"]);
    }
}
