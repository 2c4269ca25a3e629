//! Activity participation (活动签到表) from a sheet: one row per participant, with the activity
//! (活动 + 日期, the key an activity is matched by), the resident (as the residents roster matches
//! them, who must exist) and the hours they served (their own figure, else the activity's
//! default). An activity not yet in Youde is created with its participants, as `POST
//! /activities` creates it; one that exists gains the new participants and the changed hours, and
//! keeps those the sheet does not list. Its own details (地点, 组织者, 默认时长, 记录人) are edited on
//! the activity, not by a sheet: a row that says otherwise is reported. Hours are recorded by
//! whoever records the activity (谁组织谁记录: the 记录人 column, else the importer).

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use super::records::{draft_of, VERIFY_BY_ACTION};
use super::{Finder, Line, Outline, Person, Progress, Row, RowAction, Table};
use crate::domain::activity::{ActivityDraft, ActivityInput, MAX_ACTIVITY_HOURS};
use crate::domain::measure::{format_number, Measure, Qualifier, Unit};
use crate::domain::partial_date::PartialDate;
use crate::domain::roster::{
    match_headers, parse_date, parse_hours, CellProblem, Column, SheetKind,
};
use crate::domain::service_record::ServiceRecordDraft;
use crate::domain::Parsed;
use crate::store::entities::{activity, service_record};
use crate::store::{activities, imports, service_records, StoreResult};

/// One activity of the sheet.
#[derive(Debug, Clone)]
pub struct ActivityGroup {
    pub title: String,
    pub date: PartialDate,
    /// The row it first appears in.
    pub first_row: usize,
    /// The activity as stored, when it exists.
    pub existing: Option<activity::Model>,
    /// What the activity is (the stored one's details, or the sheet's for a new one).
    pub draft: Option<ActivityDraft>,
    place: Option<(String, usize)>,
    organiser: Option<(String, usize)>,
    default_hours: Option<(Hours, usize)>,
    recorded_by: Option<(String, usize)>,
    /// The stored participants' records, by resident.
    records: HashMap<i64, service_record::Model>,
    /// The sheet's participants and the row naming each.
    participants: HashMap<i64, usize>,
    /// Why the activity cannot be told (two stored with its title and date).
    ambiguous: Option<String>,
}

/// What one valid row will do.
#[derive(Debug, Clone)]
pub struct ParticipationRow {
    pub row: usize,
    pub action: RowAction,
    pub resident: Person,
    pub community: String,
    /// Index into [`ParticipationPlan::activities`].
    pub activity: usize,
    /// The row's own hours.
    pub hours: Option<f64>,
    /// The participant's record as it will be (kept only when it is to be written).
    pub record: Option<ServiceRecordDraft>,
    /// The hours the participant's record will carry.
    pub final_hours: Option<f64>,
    /// The stored record an unchanged row matched (its model is not kept).
    pub record_id: Option<i64>,
    pub current: Option<service_record::Model>,
}

#[derive(Debug, Clone, Default)]
pub struct ParticipationPlan {
    pub rows: usize,
    pub planned: Vec<ParticipationRow>,
    pub activities: Vec<ActivityGroup>,
    pub problems: Vec<CellProblem>,
}

impl ParticipationPlan {
    pub fn outline(&self) -> Outline {
        Outline {
            rows: self.rows,
            problems: self.problems.clone(),
            lines: self
                .planned
                .iter()
                .map(|p| {
                    let a = &self.activities[p.activity];
                    let hours = p
                        .final_hours
                        .map(|h| format!(" · {} 小时", format_number(h)))
                        .unwrap_or_default();
                    Line {
                        row: p.row,
                        action: p.action,
                        name: p.resident.name.clone(),
                        community: p.community.clone(),
                        resident_id: Some(p.resident.id),
                        subject: Some(format!(
                            "{}（{}）{}{hours}",
                            a.title,
                            a.date,
                            if a.existing.is_none() {
                                " · 新活动"
                            } else {
                                ""
                            }
                        )),
                        record_id: p.current.as_ref().map(|m| m.id).or(p.record_id),
                    }
                })
                .collect(),
        }
    }

    /// Activities the commit will create.
    pub fn new_activities(&self) -> usize {
        self.activities
            .iter()
            .filter(|a| a.existing.is_none())
            .count()
    }
}

fn hours_cell(row: &Row<'_>, column: Column, problems: &mut Vec<CellProblem>) -> Option<f64> {
    match row.get(column).map(|s| parse_hours(&s)) {
        None => None,
        Some(Ok(h)) if h <= MAX_ACTIVITY_HOURS => Some(h),
        Some(Ok(_)) => {
            problems.push(row.problem(
                column,
                format!(
                    "时长应在 0 到 {} 小时之间",
                    format_number(MAX_ACTIVITY_HOURS)
                ),
            ));
            None
        }
        Some(Err(message)) => {
            problems.push(row.problem(column, message));
            None
        }
    }
}

/// A detail of the activity a row states: it must agree with the stored activity, or with the
/// rows before it for a new one.
fn agree<T: PartialEq + Clone + std::fmt::Display>(
    row: &Row<'_>,
    column: Column,
    value: Option<T>,
    stored: Option<Option<T>>,
    slot: &mut Option<(T, usize)>,
    problems: &mut Vec<CellProblem>,
) {
    let Some(value) = value else { return };
    match stored {
        Some(stored) if stored.as_ref() != Some(&value) => problems.push(row.problem(
            column,
            format!(
                "与系统中该活动的{}（{}）不一致；活动本身的信息请在活动页面修改",
                column.header(),
                stored.map_or("空".to_string(), |s| format!("“{s}”"))
            ),
        )),
        Some(_) => {}
        None => match slot {
            Some((first, at)) if *first != value => problems
                .push(row.problem(column, format!("同一活动前后不一致：第 {at} 行为“{first}”"))),
            Some(_) => {}
            None => *slot = Some((value, row.number)),
        },
    }
}

/// Plan the import of a sign-in sheet (its first row is the header). Reads only. `recorder` is
/// who imports: the 记录人 of new activities whose rows name none.
pub async fn plan_participation(
    db: &impl ConnectionTrait,
    table: &Table,
    recorder: &str,
    progress: Progress<'_>,
) -> StoreResult<ParticipationPlan> {
    let Some((headers, data)) = table.rows.split_first() else {
        return Ok(ParticipationPlan::default());
    };
    let columns = match_headers(SheetKind::Participation, headers).unwrap_or_default();
    let mut plan = ParticipationPlan::default();
    let mut finder = Finder::default();
    finder.prefetch(db, SheetKind::Participation, table).await?;
    let mut groups: HashMap<(String, String), usize> = HashMap::new();
    for (i, cells) in data.iter().enumerate() {
        progress(i as u64 + 1);
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        plan.rows += 1;
        let row = Row {
            number: table.first_row + 1 + i,
            cells,
            columns: &columns,
            headers,
        };
        let problems = &mut plan.problems;
        let before = problems.len();
        let title = row.get(Column::Activity);
        if title.is_none() {
            problems.push(row.problem(Column::Activity, "缺少活动名称"));
        }
        let date = match row.get(Column::Date).map(|s| parse_date(&s)) {
            None => {
                problems.push(row.problem(Column::Date, "缺少活动日期"));
                None
            }
            Some(Ok(date)) => Some(date),
            Some(Err(message)) => {
                problems.push(row.problem(Column::Date, message));
                None
            }
        };
        // A row without 姓名 and 小区 is the activity alone (how the export lists an activity
        // nobody is recorded for).
        let activity_only = row.get(Column::Name).is_none() && row.get(Column::Community).is_none();
        let resident = if activity_only {
            None
        } else {
            finder.resident(db, &row, problems).await?
        };
        let hours = hours_cell(&row, Column::Hours, problems);
        let default_hours = hours_cell(&row, Column::DefaultHours, problems);
        let (Some(title), Some(date)) = (title, date) else {
            continue;
        };
        let key = (title.clone(), date.to_string());
        let g = match groups.get(&key) {
            Some(g) => *g,
            None => {
                let found = imports::activities_titled(db, &title, &key.1).await?;
                let (existing, ambiguous) = match found.as_slice() {
                    [] => (None, None),
                    [one] => (Some(one.clone()), None),
                    many => {
                        let ids: Vec<String> = many.iter().map(|m| m.id.to_string()).collect();
                        (
                            None,
                            Some(format!(
                                "系统中有多个同名同日的活动（编号 {} 等），无法确定是哪一个",
                                ids.join("、")
                            )),
                        )
                    }
                };
                let mut records = HashMap::new();
                if let Some(a) = &existing {
                    for r in service_records::list_for_activity(db, a.id).await? {
                        records.insert(r.resident_id, r);
                    }
                }
                plan.activities.push(ActivityGroup {
                    title: title.clone(),
                    date,
                    first_row: row.number,
                    existing,
                    draft: None,
                    place: None,
                    organiser: None,
                    default_hours: None,
                    recorded_by: None,
                    records,
                    participants: HashMap::new(),
                    ambiguous,
                });
                groups.insert(key, plan.activities.len() - 1);
                plan.activities.len() - 1
            }
        };
        let group = &mut plan.activities[g];
        if let Some(message) = &group.ambiguous {
            problems.push(row.problem(Column::Activity, message.clone()));
            continue;
        }
        let stored = group.existing.as_ref();
        agree(
            &row,
            Column::Place,
            row.get(Column::Place),
            stored.map(|a| a.place.clone()),
            &mut group.place,
            problems,
        );
        agree(
            &row,
            Column::Organiser,
            row.get(Column::Organiser),
            stored.map(|a| a.organiser.clone()),
            &mut group.organiser,
            problems,
        );
        agree(
            &row,
            Column::DefaultHours,
            default_hours.map(Hours),
            stored.map(|a| a.hours.map(Hours)),
            &mut group.default_hours,
            problems,
        );
        agree(
            &row,
            Column::RecordedBy,
            row.get(Column::RecordedBy),
            stored.map(|a| Some(a.recorded_by.clone())),
            &mut group.recorded_by,
            problems,
        );
        if activity_only && hours.is_some() {
            problems.push(row.problem(Column::Name, "填写了时长，请同时填写参与者的姓名和小区"));
        }
        let Some((resident, community)) = resident else {
            continue;
        };
        if problems.len() != before {
            continue;
        }
        if let Some(first) = group.participants.get(&resident.id) {
            problems.push(row.problem(
                Column::Name,
                format!("与第 {first} 行是同一活动的同一位居民"),
            ));
            continue;
        }
        // Each resident once per activity (checked above): the stored record moves to the row.
        let current = group.records.remove(&resident.id);
        let verified_by = row.get(Column::VerifiedBy);
        if verified_by.is_some()
            && verified_by != current.as_ref().and_then(|r| r.verified_by.clone())
        {
            problems.push(row.problem(Column::VerifiedBy, VERIFY_BY_ACTION));
            continue;
        }
        group.participants.insert(resident.id, row.number);
        plan.planned.push(ParticipationRow {
            row: row.number,
            action: RowAction::Create,
            resident,
            community,
            activity: g,
            hours,
            record: None,
            final_hours: None,
            record_id: None,
            current,
        });
    }
    settle(&mut plan, recorder)?;
    Ok(plan)
}

/// Hours compared and shown as the sheet writes them.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hours(f64);

impl std::fmt::Display for Hours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&format_number(self.0))
    }
}

/// Each activity's draft, then each row's record as it will be and what that does.
fn settle(plan: &mut ParticipationPlan, recorder: &str) -> StoreResult<()> {
    let mut rows_of: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, p) in plan.planned.iter().enumerate() {
        rows_of.entry(p.activity).or_default().push(i);
    }
    for (g, group) in plan.activities.iter_mut().enumerate() {
        let rows = rows_of.remove(&g).unwrap_or_default();
        if rows.is_empty() && group.existing.is_some() {
            continue;
        }
        let draft = match &group.existing {
            Some(a) => ActivityDraft {
                parsed: Parsed::trusting_stored(),
                title: a.title.clone(),
                date: PartialDate::parse(&a.date).unwrap_or(group.date),
                place: a.place.clone(),
                organiser: a.organiser.clone(),
                description: a.description.clone(),
                unpaid: a.unpaid,
                participant_ids: vec![],
                hours: a.hours,
                participant_hours: vec![],
                recorded_by: a.recorded_by.clone(),
            },
            None => {
                let input = ActivityInput {
                    title: group.title.clone(),
                    date: group.date.to_string(),
                    place: group.place.as_ref().map(|p| p.0.clone()),
                    organiser: group.organiser.as_ref().map(|p| p.0.clone()),
                    description: None,
                    unpaid: false,
                    participant_ids: rows.iter().map(|i| plan.planned[*i].resident.id).collect(),
                    hours: group.default_hours.map(|h| h.0 .0),
                    participant_hours: rows
                        .iter()
                        .filter_map(|i| {
                            let p = &plan.planned[*i];
                            p.hours.map(|h| (p.resident.id, h))
                        })
                        .collect(),
                    recorded_by: group
                        .recorded_by
                        .as_ref()
                        .map_or_else(|| recorder.to_string(), |r| r.0.clone()),
                };
                match ActivityDraft::parse(input) {
                    Ok(draft) => draft,
                    Err(errors) => {
                        for e in errors.0 {
                            let column = match e.field.as_str() {
                                "title" => Column::Activity,
                                "date" => Column::Date,
                                "place" => Column::Place,
                                "organiser" => Column::Organiser,
                                "hours" => Column::DefaultHours,
                                "participant_hours" => Column::Hours,
                                "recorded_by" => Column::RecordedBy,
                                _ => Column::Name,
                            };
                            plan.problems.push(CellProblem {
                                row: group.first_row,
                                column: column.header().to_string(),
                                value: String::new(),
                                message: e.message,
                            });
                        }
                        continue;
                    }
                }
            }
        };
        for i in rows {
            let p = &mut plan.planned[i];
            let stored = p.current.as_ref().map(draft_of).transpose()?;
            // An empty 时长 keeps a participant's own stored hours; else the activity's default.
            let stored_hours = stored
                .as_ref()
                .and_then(|s| s.measures.iter().find(|m| m.unit() == Unit::Hours))
                .map(Measure::value);
            let hours = p.hours.or(stored_hours).or(draft.hours);
            let mut record = draft.participant_record(p.resident.id);
            record.measures = hours
                .and_then(|h| Measure::new(h, Unit::Hours, Qualifier::Exact).ok())
                .into_iter()
                .collect();
            p.action = match &stored {
                None => RowAction::Create,
                Some(s) => {
                    record.verified_by = s.verified_by.clone();
                    record.verified_on = s.verified_on;
                    record.confirmed_on = s.confirmed_on;
                    if *s == record {
                        RowAction::Unchanged
                    } else {
                        RowAction::Update
                    }
                }
            };
            p.final_hours = record.measures.first().map(Measure::value);
            if p.action == RowAction::Unchanged {
                p.record_id = p.current.take().map(|m| m.id);
            } else {
                p.record = Some(record);
            }
        }
        group.draft = Some(draft);
    }
    plan.problems.sort_by_key(|p| p.row);
    Ok(())
}

/// What the commit wrote. (Consumed one by one as the commit audits them, so the size of the
/// record variant does not add up.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Written {
    Activity(activity::Model),
    Record {
        row: usize,
        before: Option<service_record::Model>,
        after: service_record::Model,
    },
}

/// Apply a plan without problems: create the new activities with their participants, add the
/// new participants of existing ones and change the hours that changed. Every record written
/// queues its resident for the search index. Call inside the commit's transaction.
pub async fn apply(
    db: &impl ConnectionTrait,
    plan: &ParticipationPlan,
) -> StoreResult<Vec<Written>> {
    let mut written = Vec::new();
    let mut rows_of: Vec<Vec<&ParticipationRow>> = vec![Vec::new(); plan.activities.len()];
    for p in &plan.planned {
        rows_of[p.activity].push(p);
    }
    for (group, rows) in plan.activities.iter().zip(rows_of) {
        let Some(draft) = &group.draft else { continue };
        match &group.existing {
            None => {
                let mut draft = draft.clone();
                draft.participant_ids = rows.iter().map(|p| p.resident.id).collect();
                let a = activities::insert(db, &draft).await?;
                let mut records: HashMap<i64, service_record::Model> =
                    service_records::list_for_activity(db, a.id)
                        .await?
                        .into_iter()
                        .map(|r| (r.resident_id, r))
                        .collect();
                written.push(Written::Activity(a));
                for p in rows {
                    if let Some(after) = records.remove(&p.resident.id) {
                        written.push(Written::Record {
                            row: p.row,
                            before: None,
                            after,
                        });
                    }
                }
            }
            Some(a) => {
                for p in rows {
                    let Some(record) = &p.record else { continue };
                    match (&p.action, &p.current) {
                        (RowAction::Create, _) => {
                            let after =
                                service_records::insert(db, p.resident.id, Some(a.id), record)
                                    .await?;
                            written.push(Written::Record {
                                row: p.row,
                                before: None,
                                after,
                            });
                        }
                        (RowAction::Update, Some(current)) => {
                            let after = service_records::update(
                                db,
                                p.resident.id,
                                current.id,
                                Some(current.version),
                                record,
                            )
                            .await?;
                            written.push(Written::Record {
                                row: p.row,
                                before: Some(current.clone()),
                                after,
                            });
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(written)
}
