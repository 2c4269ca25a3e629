//! Consent (同意): PIPL Art. 25 asks for separate consent before personal information is made
//! public, so each scope is consented — and withdrawn — on its own.

use std::str::FromStr;

use chrono::NaiveDate;

use super::validation::{optional_text, required_text, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentScope {
    /// 公开个人资料: name, community, citation, service history on public pages and in search.
    Profile,
    /// 公开肖像照片.
    Photo,
    /// 在报道中出现.
    Story,
}

impl ConsentScope {
    pub const ALL: [ConsentScope; 3] = [
        ConsentScope::Profile,
        ConsentScope::Photo,
        ConsentScope::Story,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ConsentScope::Profile => "profile",
            ConsentScope::Photo => "photo",
            ConsentScope::Story => "story",
        }
    }
}

impl FromStr for ConsentScope {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ConsentScope::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDraft {
    pub scope: ConsentScope,
    /// Which consent text the resident signed, e.g. "2026-01".
    pub text_version: String,
    pub signed_on: NaiveDate,
    pub recorded_by: String,
    pub evidence: Option<String>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub fn parse_date(errors: &mut ValidationErrors, field: &str, value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| errors.add(field, format!("“{value}” 不是有效日期，应写作 2019-09-01")))
        .ok()
}

impl ConsentDraft {
    pub fn parse(
        scope: &str,
        text_version: &str,
        signed_on: &str,
        recorded_by: &str,
        evidence: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let scope_parsed = scope.parse::<ConsentScope>().map_err(|()| {
            errors.add(
                "scope",
                format!("未知的同意范围“{scope}”，应为 profile、photo 或 story"),
            )
        });
        let text_version = required_text(&mut errors, "text_version", text_version, 40);
        let signed = parse_date(&mut errors, "signed_on", signed_on);
        if signed.is_some_and(|d| d > today) {
            errors.add("signed_on", "签署日期不能晚于今天");
        }
        let recorded_by = required_text(&mut errors, "recorded_by", recorded_by, 100);
        let evidence = optional_text(&mut errors, "evidence", evidence, 2000);
        match (scope_parsed, signed) {
            (Ok(scope), Some(signed_on)) => errors.finish(|| ConsentDraft {
                parsed: super::Parsed(()),
                scope,
                text_version,
                signed_on,
                recorded_by,
                evidence,
            }),
            _ => Err(errors),
        }
    }
}
