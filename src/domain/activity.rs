//! Activities (活动): a dated event with organiser, place and participants. Recording one writes a
//! service record for each participant.

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
    pub recorded_by: String,
}

pub const MAX_PARTICIPANTS: usize = 1000;

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
        let Some(date) = date else { return Err(errors) };
        errors.finish(|| ActivityDraft {
            title,
            date,
            place,
            organiser,
            description,
            unpaid: input.unpaid,
            participant_ids,
            recorded_by,
        })
    }

    /// The service record each participant gets.
    pub fn participant_record(&self) -> ServiceRecordDraft {
        let evidence = self.place.as_ref().map(|p| format!("活动地点：{p}"));
        ServiceRecordDraft {
            kind: RecordKind::Activity,
            title: self.title.clone(),
            organisation: self.organiser.clone(),
            period: Period {
                start: self.date,
                end: Some(self.date),
            },
            unpaid: self.unpaid,
            measures: vec![],
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
        let record = draft.participant_record();
        assert_eq!(record.kind, RecordKind::Activity);
        assert_eq!(record.period.start.to_string(), "2019-08-30");
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
