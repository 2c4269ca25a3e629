//! Service records (服务记录): one evidenced fact of a resident's service, with who recorded and who
//! verified it (谁组织谁记录).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use super::measure::Measure;
use super::partial_date::{PartialDate, Period};
use super::validation::{optional_text, required_text, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    /// 担任职务: a role held over a period (业委会委员, 工作室主任).
    Role,
    /// 接待参访: hosting visits and delegations.
    Hosting,
    /// 项目: a project carried out (大堂装潢, 智慧社区改造).
    Project,
    /// 调研排摸: a survey.
    Survey,
    /// 编写材料: a manual, leaflet or other publication.
    Publication,
    /// 参加活动: written by recording an activity.
    Activity,
    /// 志愿服务时长.
    VolunteerHours,
    Other,
}

impl RecordKind {
    pub const ALL: [RecordKind; 8] = [
        RecordKind::Role,
        RecordKind::Hosting,
        RecordKind::Project,
        RecordKind::Survey,
        RecordKind::Publication,
        RecordKind::Activity,
        RecordKind::VolunteerHours,
        RecordKind::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            RecordKind::Role => "role",
            RecordKind::Hosting => "hosting",
            RecordKind::Project => "project",
            RecordKind::Survey => "survey",
            RecordKind::Publication => "publication",
            RecordKind::Activity => "activity",
            RecordKind::VolunteerHours => "volunteer_hours",
            RecordKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RecordKind::Role => "担任职务",
            RecordKind::Hosting => "接待参访",
            RecordKind::Project => "项目",
            RecordKind::Survey => "调研排摸",
            RecordKind::Publication => "编写材料",
            RecordKind::Activity => "参加活动",
            RecordKind::VolunteerHours => "志愿服务",
            RecordKind::Other => "其他",
        }
    }
}

impl FromStr for RecordKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or(())
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A measure as it arrives on the wire, before validation.
#[derive(Debug, Clone)]
pub struct MeasureInput {
    pub value: f64,
    pub unit: String,
    pub qualifier: String,
}

/// A service record as it arrives, before validation.
#[derive(Debug, Clone)]
pub struct ServiceRecordInput {
    pub kind: String,
    pub title: String,
    pub organisation: Option<String>,
    pub start: String,
    pub end: Option<String>,
    pub unpaid: bool,
    pub measures: Vec<MeasureInput>,
    pub evidence: Option<String>,
    pub recorded_by: String,
    pub verified_by: Option<String>,
    pub verified_on: Option<String>,
    /// For an ongoing record: the partial date it was last confirmed (最后核实), e.g. `2019-09`.
    pub confirmed_on: Option<String>,
}

/// A validated service record, ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRecordDraft {
    pub kind: RecordKind,
    pub title: String,
    pub organisation: Option<String>,
    pub period: Period,
    pub unpaid: bool,
    pub measures: Vec<Measure>,
    pub evidence: Option<String>,
    pub recorded_by: String,
    pub verified_by: Option<String>,
    pub verified_on: Option<NaiveDate>,
    /// For an ongoing record: until when it is known to hold. Summaries and the timeline count an
    /// ongoing period to here, never to today.
    pub confirmed_on: Option<PartialDate>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub const MAX_MEASURES: usize = 20;

impl ServiceRecordDraft {
    pub fn parse(input: ServiceRecordInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let kind = match input.kind.parse::<RecordKind>() {
            Ok(kind) => Some(kind),
            Err(()) => {
                let codes: Vec<&str> = RecordKind::ALL.iter().map(|k| k.code()).collect();
                errors.add(
                    "kind",
                    format!("未知的类型“{}”，应为 {}", input.kind, codes.join("、")),
                );
                None
            }
        };
        let title = required_text(&mut errors, "title", &input.title, 200);
        let organisation = optional_text(
            &mut errors,
            "organisation",
            input.organisation.as_deref(),
            200,
        );
        let start = PartialDate::parse(input.start.trim())
            .map_err(|e| errors.add("start", e.to_string()))
            .ok();
        let end = match input
            .end
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Some(None),
            Some(end) => PartialDate::parse(end)
                .map(Some)
                .map_err(|e| errors.add("end", e.to_string()))
                .ok(),
        };
        let period = match (start, end) {
            (Some(start), Some(end)) => Period::new(start, end)
                .map_err(|e| errors.add("end", e.to_string()))
                .ok(),
            _ => None,
        };
        if input.measures.len() > MAX_MEASURES {
            errors.add("measures", format!("最多 {MAX_MEASURES} 项"));
        }
        let measures: Vec<Measure> = input
            .measures
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                Measure::parse(m.value, &m.unit, &m.qualifier)
                    .map_err(|e| errors.add(format!("measures[{i}]"), e.to_string()))
                    .ok()
            })
            .collect();
        let evidence = optional_text(&mut errors, "evidence", input.evidence.as_deref(), 2000);
        let recorded_by = required_text(&mut errors, "recorded_by", &input.recorded_by, 100);
        let verified_by = optional_text(
            &mut errors,
            "verified_by",
            input.verified_by.as_deref(),
            100,
        );
        let verified_on = match input
            .verified_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| {
                    errors.add(
                        "verified_on",
                        format!("“{s}” 不是有效日期，应写作 2019-09-01"),
                    )
                })
                .ok(),
        };
        if verified_on.is_some() && verified_by.is_none() {
            errors.add("verified_by", "填写了核实日期，也请填写核实人");
        }
        let confirmed_on = match input
            .confirmed_on
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(s) => PartialDate::parse(s)
                .map_err(|e| errors.add("confirmed_on", e.to_string()))
                .ok(),
        };
        if let (Some(confirmed), Some(period)) = (confirmed_on, &period) {
            if period.end.is_some() {
                errors.add("confirmed_on", "已结束的记录不需要最后核实日期");
            } else if confirmed.last_day() < period.start.first_day() {
                errors.add("confirmed_on", "最后核实日期不能早于开始时间");
            }
        }
        let (Some(kind), Some(period)) = (kind, period) else {
            return Err(errors);
        };
        errors.finish(|| ServiceRecordDraft {
            parsed: super::Parsed(()),
            kind,
            title,
            organisation,
            period,
            unpaid: input.unpaid,
            measures,
            evidence,
            recorded_by,
            verified_by,
            verified_on,
            confirmed_on,
        })
    }
}

/// What the summary needs to know of one record.
#[derive(Debug, Clone)]
pub struct RecordFacts {
    pub kind: RecordKind,
    pub period: Period,
    pub unpaid: bool,
    pub measures: Vec<Measure>,
    /// For an ongoing record, until when it is known to hold (最后核实).
    pub known_until: Option<PartialDate>,
}

impl RecordFacts {
    /// The day an ongoing period is counted up to: its last confirmation, or `as_of` when that
    /// is earlier (or there is none).
    pub fn counted_to(&self, as_of: NaiveDate) -> NaiveDate {
        match (self.period.end, self.known_until) {
            (None, Some(known)) => known.first_day().min(as_of),
            _ => as_of,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ServiceRecordInput {
        ServiceRecordInput {
            kind: "role".into(),
            title: "音乐广场业委会委员".into(),
            organisation: Some("音乐广场业主委员会".into()),
            start: "2007".into(),
            end: Some("2019".into()),
            unpaid: true,
            measures: vec![],
            evidence: None,
            recorded_by: "长寿路街道".into(),
            verified_by: None,
            verified_on: None,
            confirmed_on: None,
        }
    }

    #[test]
    fn a_good_record_parses() {
        let draft = ServiceRecordDraft::parse(input()).unwrap();
        assert_eq!(draft.kind, RecordKind::Role);
        assert_eq!(draft.period.start.to_string(), "2007");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = input();
        bad.kind = "heroics".into();
        bad.title = "  ".into();
        bad.start = "2019-13".into();
        bad.measures = vec![MeasureInput {
            value: -3.0,
            unit: "hours".into(),
            qualifier: "exact".into(),
        }];
        let errors = ServiceRecordDraft::parse(bad).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "title", "start", "measures[0]"]);
    }

    #[test]
    fn end_before_start_is_refused_on_end() {
        let mut bad = input();
        bad.end = Some("2006".into());
        let errors = ServiceRecordDraft::parse(bad).unwrap_err();
        assert_eq!(errors.0[0].field, "end");
    }
}
