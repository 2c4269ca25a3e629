//! Service records (服务记录) from a sheet: each row names an existing resident (as the residents
//! roster matches them) and one record of theirs. A row matches the record of that resident with
//! the same 类型, 事项 and 开始时间 that no activity wrote; found, empty cells keep what is
//! stored, so importing the same file again changes nothing. Records of activities come from the
//! sign-in sheet ([`super::participation`]), and verification stays an act of its own: a 核实人
//! that is not the one stored is reported, not written.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{Finder, Line, Outline, Person, Progress, Row, RowAction, Table};
use crate::domain::measure::{Measure, Qualifier};
use crate::domain::partial_date::PartialDate;
use crate::domain::roster::{
    match_headers, parse_amounts, parse_date, parse_qualifier, parse_record_kind, parse_unit,
    parse_yes_no, CellProblem, Column, SheetKind,
};
use crate::domain::service_record::{
    MeasureInput, RecordKind, ServiceRecordDraft, ServiceRecordInput,
};
use crate::store::entities::service_record;
use crate::store::{imports, service_records, StoreResult};

/// What one valid row will do.
#[derive(Debug, Clone)]
pub struct RecordRow {
    pub row: usize,
    pub action: RowAction,
    pub resident: Person,
    pub community: String,
    pub draft: ServiceRecordDraft,
    /// The matched record, for updates and unchanged rows.
    pub current: Option<service_record::Model>,
}

#[derive(Debug, Clone, Default)]
pub struct RecordsPlan {
    pub rows: usize,
    pub planned: Vec<RecordRow>,
    pub problems: Vec<CellProblem>,
}

impl RecordsPlan {
    pub fn outline(&self) -> Outline {
        Outline {
            rows: self.rows,
            problems: self.problems.clone(),
            lines: self
                .planned
                .iter()
                .map(|p| Line {
                    row: p.row,
                    action: p.action,
                    name: p.resident.name.clone(),
                    community: p.community.clone(),
                    resident_id: Some(p.resident.id),
                    subject: Some(format!(
                        "{}：{}（{}）",
                        p.draft.kind.label(),
                        p.draft.title,
                        p.draft.period.start
                    )),
                    record_id: p.current.as_ref().map(|m| m.id),
                })
                .collect(),
        }
    }
}

/// The end cell: `Some(None)` for 至今 (ongoing, said so), `Some(Some(date))`, or `None` when empty.
type EndCell = Option<Option<PartialDate>>;

/// The record as a draft, to compare a row's merged draft with.
pub fn draft_of(m: &service_record::Model) -> StoreResult<ServiceRecordDraft> {
    let facts = service_records::facts(m)?;
    Ok(ServiceRecordDraft {
        parsed: crate::domain::Parsed::trusting_stored(),
        kind: facts.kind,
        title: m.title.clone(),
        organisation: m.organisation.clone(),
        period: facts.period,
        unpaid: m.unpaid,
        measures: facts.measures,
        evidence: m.evidence.clone(),
        recorded_by: m.recorded_by.clone(),
        verified_by: m.verified_by.clone(),
        verified_on: m.verified_on,
        confirmed_on: facts.known_until,
    })
}

/// The message of a 核实人 cell that would verify or change a verification.
pub const VERIFY_BY_ACTION: &str =
    "核实须由记录人以外的工作人员在系统中通过“核实”操作完成，导入不能填写或更改核实人（可留空）";

/// Plan the import of a service records table (its first row is the header). Reads only.
/// `recorder` is who imports: the 记录人 of rows that name none. `today` confirms new ongoing
/// records, as the API does.
pub async fn plan_records(
    db: &impl ConnectionTrait,
    table: &Table,
    recorder: &str,
    today: NaiveDate,
    progress: Progress<'_>,
) -> StoreResult<RecordsPlan> {
    let Some((headers, data)) = table.rows.split_first() else {
        return Ok(RecordsPlan::default());
    };
    let columns = match_headers(SheetKind::ServiceRecords, headers).unwrap_or_default();
    let mut plan = RecordsPlan::default();
    let mut finder = Finder::default();
    finder
        .prefetch(db, SheetKind::ServiceRecords, table)
        .await?;
    let mut seen: HashMap<(i64, RecordKind, String, String), usize> = HashMap::new();
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
        let before = plan.problems.len();
        let resident = finder.resident(db, &row, &mut plan.problems).await?;
        let Some(fields) = read_fields(&row, &mut plan.problems) else {
            continue;
        };
        let (Some((resident, community)), true) = (resident, plan.problems.len() == before) else {
            continue;
        };
        let key = (
            resident.id,
            fields.kind,
            fields.title.clone(),
            fields.start.to_string(),
        );
        if let Some(first) = seen.insert(key, row.number) {
            plan.problems.push(row.problem(
                Column::Title,
                format!("与第 {first} 行是同一条服务记录（同一居民、类型、事项和开始时间）"),
            ));
            continue;
        }
        let matches = imports::records_matching(
            db,
            resident.id,
            fields.kind.code(),
            &fields.title,
            &fields.start.to_string(),
        )
        .await?;
        let current = match matches.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                let ids: Vec<String> = many.iter().map(|m| m.id.to_string()).collect();
                plan.problems.push(row.problem(
                    Column::Title,
                    format!(
                        "这位居民有多条相同类型、事项和开始时间的记录（编号 {} 等），无法确定是哪一条",
                        ids.join("、")
                    ),
                ));
                continue;
            }
        };
        let stored = current.as_ref().map(draft_of).transpose()?;
        let verified_by = row.get(Column::VerifiedBy);
        if verified_by.is_some()
            && verified_by != stored.as_ref().and_then(|s| s.verified_by.clone())
        {
            plan.problems
                .push(row.problem(Column::VerifiedBy, VERIFY_BY_ACTION));
            continue;
        }
        let draft = match merge(&row, fields, stored.as_ref(), recorder, today) {
            Ok(draft) => draft,
            Err(problems) => {
                plan.problems.extend(problems);
                continue;
            }
        };
        let action = match &stored {
            None => RowAction::Create,
            Some(s) if *s == draft => RowAction::Unchanged,
            Some(_) => RowAction::Update,
        };
        plan.planned.push(RecordRow {
            row: row.number,
            action,
            resident,
            community,
            draft,
            current,
        });
    }
    Ok(plan)
}

/// A row's cells, each read on its own; `None` when one of them is wrong (reported).
struct Fields {
    kind: RecordKind,
    title: String,
    start: PartialDate,
    end: EndCell,
    organisation: Option<String>,
    measures: Option<Vec<Measure>>,
    unpaid: Option<bool>,
    evidence: Option<String>,
    recorded_by: Option<String>,
}

fn read_fields(row: &Row<'_>, problems: &mut Vec<CellProblem>) -> Option<Fields> {
    let before = problems.len();
    let kind = match row.get(Column::RecordKind).map(|s| parse_record_kind(&s)) {
        None => {
            problems.push(row.problem(Column::RecordKind, "缺少类型"));
            None
        }
        Some(Ok(RecordKind::Activity)) => {
            problems.push(row.problem(
                Column::RecordKind,
                "参加活动的记录请用活动签到表导入（活动、日期、姓名、时长）",
            ));
            None
        }
        Some(Ok(kind)) => Some(kind),
        Some(Err(message)) => {
            problems.push(row.problem(Column::RecordKind, message));
            None
        }
    };
    let title = row.get(Column::Title);
    if title.is_none() {
        problems.push(row.problem(Column::Title, "缺少事项"));
    }
    let start = match row.get(Column::Start).map(|s| parse_date(&s)) {
        None => {
            problems.push(row.problem(Column::Start, "缺少开始时间"));
            None
        }
        Some(Ok(date)) => Some(date),
        Some(Err(message)) => {
            problems.push(row.problem(Column::Start, message));
            None
        }
    };
    let end = match row.get(Column::End) {
        None => None,
        Some(s) if ["至今", "今", "现在", "目前"].contains(&s.as_str()) => Some(None),
        Some(s) => match parse_date(&s) {
            Ok(date) => Some(Some(date)),
            Err(message) => {
                problems.push(row.problem(Column::End, message));
                None
            }
        },
    };
    let mut unit_refused = false;
    let unit = match row.get(Column::Unit).map(|s| parse_unit(&s)) {
        Some(Err(message)) => {
            problems.push(row.problem(Column::Unit, message));
            unit_refused = true;
            None
        }
        other => other.and_then(Result::ok),
    };
    let qualifier = match row.get(Column::Qualifier).map(|s| parse_qualifier(&s)) {
        Some(Err(message)) => {
            problems.push(row.problem(Column::Qualifier, message));
            None
        }
        other => other.and_then(Result::ok),
    };
    let measures = match row.get(Column::Amount).map(|s| parse_amounts(&s)) {
        None => None,
        Some(Err(message)) => {
            problems.push(row.problem(Column::Amount, message));
            None
        }
        Some(Ok(amounts)) => {
            let mut measures = Vec::new();
            for a in amounts {
                let Some(unit) = a.unit.or(unit) else {
                    if unit_refused {
                        continue;
                    }
                    problems.push(row.problem(
                        Column::Amount,
                        "请在“计量单位”列选择单位，或在数量中写明（如 60个小区、30万元）",
                    ));
                    continue;
                };
                let qualifier = a.qualifier.or(qualifier).unwrap_or(Qualifier::Exact);
                match Measure::new(a.value, unit, qualifier) {
                    Ok(m) => measures.push(m),
                    Err(e) => problems.push(row.problem(Column::Amount, e.to_string())),
                }
            }
            Some(measures)
        }
    };
    let unpaid = match row.get(Column::Unpaid).map(|s| parse_yes_no(&s)) {
        Some(Err(message)) => {
            problems.push(row.problem(Column::Unpaid, message));
            None
        }
        other => other.and_then(Result::ok),
    };
    if problems.len() != before {
        return None;
    }
    Some(Fields {
        kind: kind?,
        title: title?,
        start: start?,
        end,
        organisation: row.get(Column::Organisation),
        measures,
        unpaid,
        evidence: row.get(Column::Evidence),
        recorded_by: row.get(Column::RecordedBy),
    })
}

/// The row over the stored record (empty cells keep what is stored), validated as the API
/// validates a record.
fn merge(
    row: &Row<'_>,
    fields: Fields,
    stored: Option<&ServiceRecordDraft>,
    recorder: &str,
    today: NaiveDate,
) -> Result<ServiceRecordDraft, Vec<CellProblem>> {
    let end = match (fields.end, stored) {
        (Some(end), _) => end,
        (None, Some(s)) => s.period.end,
        (None, None) => None,
    };
    let measures = match (fields.measures, stored) {
        (Some(new), Some(s)) => {
            // A row's amount replaces the stored one of its unit; the record's others stay.
            let mut measures: Vec<Measure> = s
                .measures
                .iter()
                .map(|old| {
                    new.iter()
                        .find(|m| m.unit() == old.unit())
                        .copied()
                        .unwrap_or(*old)
                })
                .collect();
            for m in new {
                if !measures.iter().any(|old| old.unit() == m.unit()) {
                    measures.push(m);
                }
            }
            measures
        }
        (Some(new), None) => new,
        (None, Some(s)) => s.measures.clone(),
        (None, None) => vec![],
    };
    let input = ServiceRecordInput {
        kind: fields.kind.code().into(),
        title: fields.title,
        organisation: fields
            .organisation
            .or_else(|| stored.and_then(|s| s.organisation.clone())),
        start: fields.start.to_string(),
        end: end.map(|d| d.to_string()),
        unpaid: fields.unpaid.or(stored.map(|s| s.unpaid)).unwrap_or(false),
        measures: measures
            .iter()
            .map(|m| MeasureInput {
                value: m.value(),
                unit: m.unit().code().into(),
                qualifier: m.qualifier().code().into(),
            })
            .collect(),
        evidence: fields
            .evidence
            .or_else(|| stored.and_then(|s| s.evidence.clone())),
        recorded_by: fields
            .recorded_by
            .or_else(|| stored.map(|s| s.recorded_by.clone()))
            .unwrap_or_else(|| recorder.to_string()),
        verified_by: None,
        verified_on: None,
        confirmed_on: None,
    };
    let mut draft = ServiceRecordDraft::parse(input).map_err(|errors| {
        errors
            .0
            .into_iter()
            .map(|e| {
                let column = match e.field.as_str() {
                    "kind" => Column::RecordKind,
                    "title" => Column::Title,
                    "organisation" => Column::Organisation,
                    "start" => Column::Start,
                    "end" => Column::End,
                    "evidence" => Column::Evidence,
                    "recorded_by" => Column::RecordedBy,
                    _ => Column::Amount,
                };
                row.problem(column, e.message)
            })
            .collect::<Vec<_>>()
    })?;
    // An ongoing record is confirmed as of its import, as the API confirms it; an update keeps
    // the stored confirmation. The verification stays what it is (the store clears it when the
    // facts change).
    draft.confirmed_on = match (draft.period.end, stored) {
        (Some(_), _) => None,
        (None, Some(s)) if s.period.end.is_none() => s.confirmed_on,
        (None, _) => Some(PartialDate::from_date(today)),
    };
    if let Some(s) = stored {
        draft.verified_by = s.verified_by.clone();
        draft.verified_on = s.verified_on;
    }
    Ok(draft)
}

/// One record the commit created or changed.
#[derive(Debug, Clone)]
pub struct AppliedRecord {
    pub row: usize,
    pub before: Option<service_record::Model>,
    pub after: service_record::Model,
}

/// Apply a plan without problems. Records written under the importer's name carry their
/// account as the recorder, as records added through the API do. Call inside the commit's
/// transaction.
pub async fn apply(
    db: &impl ConnectionTrait,
    plan: &RecordsPlan,
    recorder: (&str, i64),
) -> StoreResult<Vec<AppliedRecord>> {
    let mut applied = Vec::new();
    for p in &plan.planned {
        match (&p.action, &p.current) {
            (RowAction::Create, _) => {
                let mut m = service_records::insert(db, p.resident.id, None, &p.draft).await?;
                if p.draft.recorded_by == recorder.0 {
                    m = service_records::set_recorder(db, m, recorder.1).await?;
                }
                applied.push(AppliedRecord {
                    row: p.row,
                    before: None,
                    after: m,
                });
            }
            (RowAction::Update, Some(current)) => applied.push(AppliedRecord {
                row: p.row,
                before: Some(current.clone()),
                after: service_records::update(
                    db,
                    p.resident.id,
                    current.id,
                    Some(current.version),
                    &p.draft,
                )
                .await?,
            }),
            _ => {}
        }
    }
    Ok(applied)
}
