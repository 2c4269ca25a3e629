//! Activities (活动): a dated event with organiser, place and participants. Recording one writes a
//! service record for each participant.

use super::measure::{format_number, Measure, Qualifier, Unit};
use super::partial_date::{PartialDate, Period};
use super::service_record::{RecordKind, ServiceRecordDraft};
use super::validation::{optional_text, required_text, ValidationErrors};

#[derive(Debug, Clone, Default)]
pub struct ActivityInput {
    pub title: String,
    pub date: String,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub description: Option<String>,
    pub unpaid: bool,
    pub participant_ids: Vec<i64>,
    /// Hours each participant served, unless `participant_hours` says otherwise for them.
    pub hours: Option<f64>,
    /// Per-person hours (resident id, hours) that replace the default.
    pub participant_hours: Vec<(i64, f64)>,
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActivityDraft {
    pub title: String,
    pub date: PartialDate,
    pub place: Option<String>,
    pub organiser: Option<String>,
    pub description: Option<String>,
    pub unpaid: bool,
    /// Distinct, in the order given.
    pub participant_ids: Vec<i64>,
    /// The activity's default hours per participant (志愿服务时长).
    pub hours: Option<f64>,
    /// Per-person hours replacing the default, each for a listed participant.
    pub participant_hours: Vec<(i64, f64)>,
    pub recorded_by: String,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub const MAX_PARTICIPANTS: usize = 1000;

/// More than this in one activity is a typing error (a year has 8,784 hours).
pub const MAX_ACTIVITY_HOURS: f64 = 1000.0;

fn check_hours(errors: &mut ValidationErrors, field: &str, hours: f64) -> bool {
    let ok = hours.is_finite() && (0.0..=MAX_ACTIVITY_HOURS).contains(&hours);
    if !ok {
        errors.add(
            field,
            format!(
                "时长应在 0 到 {} 小时之间",
                format_number(MAX_ACTIVITY_HOURS)
            ),
        );
    }
    ok
}

impl ActivityDraft {
    pub fn parse(input: ActivityInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = required_text(&mut errors, "title", &input.title, 200);
        let date = PartialDate::parse(input.date.trim())
            .map_err(|e| errors.add("date", e.to_string()))
            .ok();
        let place = optional_text(&mut errors, "place", input.place.as_deref(), 200);
        let organiser = optional_text(&mut errors, "organiser", input.organiser.as_deref(), 200);
        let description = optional_text(
            &mut errors,
            "description",
            input.description.as_deref(),
            5000,
        );
        let recorded_by = required_text(&mut errors, "recorded_by", &input.recorded_by, 100);
        if input.participant_ids.len() > MAX_PARTICIPANTS {
            errors.add(
                "participant_ids",
                format!("一次最多 {MAX_PARTICIPANTS} 名参与者"),
            );
        }
        let mut participant_ids = Vec::with_capacity(input.participant_ids.len());
        for id in input.participant_ids {
            if !participant_ids.contains(&id) {
                participant_ids.push(id);
            }
        }
        if let Some(hours) = input.hours {
            check_hours(&mut errors, "hours", hours);
        }
        let mut participant_hours: Vec<(i64, f64)> = Vec::new();
        for (resident_id, hours) in input.participant_hours {
            if !participant_ids.contains(&resident_id) {
                errors.add(
                    "participant_hours",
                    format!("居民 {resident_id} 不在参与者之中"),
                );
            } else if check_hours(&mut errors, "participant_hours", hours) {
                participant_hours.retain(|(r, _)| *r != resident_id);
                participant_hours.push((resident_id, hours));
            }
        }
        let Some(date) = date else { return Err(errors) };
        errors.finish(|| ActivityDraft {
            parsed: super::Parsed(()),
            title,
            date,
            place,
            organiser,
            description,
            unpaid: input.unpaid,
            participant_ids,
            hours: input.hours,
            participant_hours,
            recorded_by,
        })
    }

    /// The hours one participant served: their own figure, else the activity's default.
    pub fn hours_of(&self, resident_id: i64) -> Option<f64> {
        self.participant_hours
            .iter()
            .find(|(r, _)| *r == resident_id)
            .map(|(_, h)| *h)
            .or(self.hours)
    }

    /// The service record a participant gets: hours, when known, are its 小时 measure, so the
    /// summary, the star level and exports count them like any other record's.
    pub fn participant_record(&self, resident_id: i64) -> ServiceRecordDraft {
        let evidence = self.place.as_ref().map(|p| format!("活动地点：{p}"));
        ServiceRecordDraft {
            parsed: super::Parsed(()),
            kind: RecordKind::Activity,
            title: self.title.clone(),
            organisation: self.organiser.clone(),
            period: Period {
                start: self.date,
                end: Some(self.date),
            },
            unpaid: self.unpaid,
            measures: self
                .hours_of(resident_id)
                .and_then(|h| Measure::new(h, Unit::Hours, Qualifier::Exact).ok())
                .into_iter()
                .collect(),
            evidence,
            recorded_by: self.recorded_by.clone(),
            verified_by: None,
            verified_on: None,
            confirmed_on: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participants_are_deduplicated_and_each_gets_a_dated_record() {
        let draft = ActivityDraft::parse(ActivityInput {
            title: "居民区书记2019年半年度工作交流".into(),
            date: "2019-08-30".into(),
            recorded_by: "长寿路街道".into(),
            participant_ids: vec![3, 5, 3],
            ..Default::default()
        })
        .unwrap();
        assert_eq!(draft.participant_ids, [3, 5]);
        let record = draft.participant_record(3);
        assert_eq!(record.kind, RecordKind::Activity);
        assert_eq!(record.period.start.to_string(), "2019-08-30");
        assert!(record.measures.is_empty());
    }

    #[test]
    fn hours_default_to_the_activity_and_can_change_per_person() {
        let draft = ActivityDraft::parse(ActivityInput {
            title: "敬老院助老服务".into(),
            date: "2019-08-28".into(),
            recorded_by: "音乐广场居委会".into(),
            participant_ids: vec![3, 5],
            hours: Some(2.0),
            participant_hours: vec![(5, 3.5)],
            ..Default::default()
        })
        .unwrap();
        let hours = |id| draft.participant_record(id).measures[0].value();
        assert_eq!((hours(3), hours(5)), (2.0, 3.5));
        let err = ActivityDraft::parse(ActivityInput {
            title: "x".into(),
            date: "2019".into(),
            recorded_by: "a".into(),
            participant_ids: vec![3],
            hours: Some(-1.0),
            participant_hours: vec![(9, 1.0)],
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["hours", "participant_hours"]);
    }

    #[test]
    fn a_bad_date_is_named() {
        let err = ActivityDraft::parse(ActivityInput {
            title: "x".into(),
            date: "8月30日".into(),
            recorded_by: "a".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.0[0].field, "date");
    }
}
