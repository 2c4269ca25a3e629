//! Rosters (名册) in: a residents sheet is checked into a plan — every row created, updated,
//! unchanged or refused, with each problem named by row and column — and the same plan, made
//! again inside the commit's transaction, is applied all or nothing.
//!
//! A row is matched to a resident by a stable key: the ID number (身份证号码) when the row has
//! one, since it is the one identifier a person keeps across moves and name spellings; otherwise
//! name + community (小区), the key 居委会 rosters themselves use. A row with an ID number that no
//! resident has yet also matches a resident of that name and community who has none recorded.
//! Two or more matches are reported, never guessed. Empty cells keep what is stored, so
//! importing the same file again changes nothing.
//!
//! Service records ([`records`]) and activity sign-in sheets ([`participation`]) are planned and
//! applied the same way; their rows name residents who must exist, found by the same key
//! ([`Finder`]).

pub mod export;
pub mod participation;
pub mod records;
pub mod sheet;

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::domain::resident::{ResidentDraft, ResidentInput};
use crate::domain::roster::{
    clean_cell, clean_phone, half_width, parse_birth_year, CellProblem, Column, SheetKind,
};
use crate::store::entities::resident;
use crate::store::{imports, residents, StoreResult};
use sheet::Table;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowAction {
    Create,
    Update,
    Unchanged,
}

impl RowAction {
    pub fn code(self) -> &'static str {
        match self {
            RowAction::Create => "create",
            RowAction::Update => "update",
            RowAction::Unchanged => "unchanged",
        }
    }
}

/// What one valid row will do.
#[derive(Debug, Clone)]
pub struct RowPlan {
    pub row: usize,
    pub action: RowAction,
    pub draft: ResidentDraft,
    /// The matched resident, for updates and unchanged rows.
    pub current: Option<resident::Model>,
    pub community: String,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Data rows read (empty rows are not counted).
    pub rows: usize,
    pub planned: Vec<RowPlan>,
    pub problems: Vec<CellProblem>,
}

impl Plan {
    pub fn count(&self, action: RowAction) -> usize {
        self.planned.iter().filter(|p| p.action == action).count()
    }
}

/// One resident the commit created or changed.
#[derive(Debug, Clone)]
pub struct Applied {
    pub before: Option<resident::Model>,
    pub after: resident::Model,
}

/// What one valid row of any kind does, as the report lists it.
#[derive(Debug, Clone)]
pub struct Line {
    pub row: usize,
    pub action: RowAction,
    pub name: String,
    pub community: String,
    pub resident_id: Option<i64>,
    /// What the row records beyond the resident: the service record's title, or the activity.
    pub subject: Option<String>,
    /// The service record the row matched (after the commit, also the created one).
    pub record_id: Option<i64>,
}

/// A plan of any kind as the report shows it.
#[derive(Debug, Clone, Default)]
pub struct Outline {
    pub rows: usize,
    pub problems: Vec<CellProblem>,
    pub lines: Vec<Line>,
}

impl Outline {
    pub fn count(&self, action: RowAction) -> usize {
        self.lines.iter().filter(|l| l.action == action).count()
    }
}

impl Plan {
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
                    name: p.draft.name.clone(),
                    community: p.community.clone(),
                    resident_id: p.current.as_ref().map(|m| m.id),
                    subject: None,
                    record_id: None,
                })
                .collect(),
        }
    }
}

/// The resident a row of a records or participation sheet names: what its plan keeps of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub name: String,
}

/// A row's cells by column, cleaned.
pub(crate) struct Row<'a> {
    pub number: usize,
    pub cells: &'a [String],
    pub columns: &'a [Option<Column>],
    pub headers: &'a [String],
}

impl Row<'_> {
    pub(crate) fn get(&self, column: Column) -> Option<String> {
        let i = self.columns.iter().position(|c| *c == Some(column))?;
        let value = clean_cell(self.cells.get(i).map_or("", String::as_str));
        (!value.is_empty()).then_some(value)
    }

    pub(crate) fn problem(&self, column: Column, message: impl Into<String>) -> CellProblem {
        let i = self.columns.iter().position(|c| *c == Some(column));
        CellProblem {
            row: self.number,
            column: i
                .and_then(|i| self.headers.get(i).map(|h| clean_cell(h)))
                .unwrap_or_else(|| column.header().to_string()),
            value: self.get(column).unwrap_or_default(),
            message: message.into(),
        }
    }
}

fn column_of_field(field: &str) -> Column {
    match field {
        "phone" => Column::Phone,
        "id_number" => Column::IdNumber,
        "birth_year" => Column::BirthYear,
        "address" => Column::Address,
        "citation" => Column::Citation,
        "community_id" => Column::Community,
        _ => Column::Name,
    }
}

/// Told the number of data rows read so far (a progress bar's position).
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Plan the import of a residents table (its first row is the header). Reads only.
pub async fn plan_residents(
    db: &impl ConnectionTrait,
    table: &Table,
    progress: Progress<'_>,
) -> StoreResult<Plan> {
    let Some((headers, data)) = table.rows.split_first() else {
        return Ok(Plan::default());
    };
    let columns =
        crate::domain::roster::match_headers(SheetKind::Residents, headers).unwrap_or_default();
    let mut plan = Plan::default();
    let mut finder = Finder::default();
    finder.prefetch(db, SheetKind::Residents, table).await?;
    let mut seen: HashMap<String, usize> = HashMap::new();
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
        let community_name = row.get(Column::Community).unwrap_or_default();
        let community_id = if community_name.is_empty() {
            plan.problems
                .push(row.problem(Column::Community, "缺少所属小区"));
            None
        } else {
            match finder.community(db, &community_name).await? {
                Ok(id) => Some(id),
                Err(message) => {
                    plan.problems.push(row.problem(Column::Community, message));
                    None
                }
            }
        };
        let birth_year = match row.get(Column::BirthYear).map(|s| parse_birth_year(&s)) {
            Some(Err(message)) => {
                plan.problems.push(row.problem(Column::BirthYear, message));
                None
            }
            Some(Ok(year)) => Some(year),
            None => None,
        };
        let input = ResidentInput {
            name: row.get(Column::Name).unwrap_or_default(),
            community_id: community_id.unwrap_or(i64::MAX),
            citation: row.get(Column::Citation),
            phone: row.get(Column::Phone).map(|p| clean_phone(&p)),
            id_number: row
                .get(Column::IdNumber)
                .map(|s| half_width(&s).to_ascii_uppercase()),
            birth_year,
            address: row.get(Column::Address),
        };
        let draft = match ResidentDraft::parse(input.clone()) {
            Ok(draft) => Some(draft),
            Err(errors) => {
                for e in errors.0 {
                    let column = column_of_field(&e.field);
                    if column != Column::Community {
                        plan.problems.push(row.problem(column, e.message));
                    }
                }
                None
            }
        };
        let (Some(draft), true) = (draft, plan.problems.len() == before) else {
            continue;
        };
        let key = match &draft.private.id_number {
            Some(id) => format!("id:{id}"),
            None => format!("name:{}\u{0}{}", draft.name, draft.community_id),
        };
        if let Some(first) = seen.insert(key, row.number) {
            plan.problems.push(row.problem(
                Column::Name,
                format!("与第 {first} 行是同一位居民（同一身份证号码，或同名同小区）"),
            ));
            continue;
        }
        let matches = finder
            .find(
                db,
                draft.private.id_number.as_deref(),
                &draft.name,
                draft.community_id,
            )
            .await?;
        let current = match matches.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => {
                let ids: Vec<String> = many.iter().map(|m| m.id.to_string()).collect();
                plan.problems.push(row.problem(
                    Column::Name,
                    format!(
                        "匹配到多位居民（编号 {} 等），无法确定是哪一位；请填写身份证号码以区分",
                        ids.join("、")
                    ),
                ));
                continue;
            }
        };
        let (action, draft) = match &current {
            None => (RowAction::Create, draft),
            Some(m) => {
                let merged = merge(m, input);
                if same(m, &merged) {
                    (RowAction::Unchanged, merged)
                } else {
                    (RowAction::Update, merged)
                }
            }
        };
        plan.planned.push(RowPlan {
            row: row.number,
            action,
            draft,
            current,
            community: community_name,
        });
    }
    Ok(plan)
}

/// The residents a row names: by ID number when it has one that a resident holds, else by name +
/// community among those without a different ID number recorded. At most two (one is a match,
/// two an ambiguity).
async fn find_residents(
    db: &impl ConnectionTrait,
    id_number: Option<&str>,
    name: &str,
    community_id: i64,
) -> StoreResult<Vec<resident::Model>> {
    if let Some(id_number) = id_number {
        let found = imports::residents_with_id_number(db, id_number).await?;
        if !found.is_empty() {
            return Ok(found);
        }
    }
    let named = imports::residents_named(db, name, community_id).await?;
    Ok(named
        .into_iter()
        .filter(|m| id_number.is_none() || m.id_number.is_none())
        .collect())
}

/// Communities and residents looked up once per plan, however many rows name them (a sign-in
/// sheet lists the same people activity after activity). [`Finder::prefetch`] reads those a
/// table names in a few queries; keys it did not see are looked up one by one.
#[derive(Default)]
pub(crate) struct Finder {
    communities: HashMap<String, Result<i64, String>>,
    residents: HashMap<(Option<String>, String, i64), Vec<resident::Model>>,
    by_id_number: HashMap<String, Vec<resident::Model>>,
    by_name: HashMap<(String, i64), Vec<resident::Model>>,
}

/// Enough to tell one match from several, in the order of the ids.
fn first_two(mut found: Vec<resident::Model>) -> Vec<resident::Model> {
    found.sort_by_key(|m| m.id);
    found.dedup_by_key(|m| m.id);
    found.truncate(2);
    found
}

impl Finder {
    /// Look up every community, ID number and name + community the table's rows name, in
    /// chunks, so that a check of 50,000 rows makes dozens of queries, not tens of thousands.
    pub(crate) async fn prefetch(
        &mut self,
        db: &impl ConnectionTrait,
        kind: SheetKind,
        table: &Table,
    ) -> StoreResult<()> {
        let Some((headers, data)) = table.rows.split_first() else {
            return Ok(());
        };
        let columns = crate::domain::roster::match_headers(kind, headers).unwrap_or_default();
        let at = |c: Column| columns.iter().position(|x| *x == Some(c));
        let cell = |row: &Vec<String>, i: Option<usize>| {
            i.and_then(|i| row.get(i))
                .map(|s| clean_cell(s))
                .filter(|s| !s.is_empty())
        };
        let (name_at, community_at, id_at) = (
            at(Column::Name),
            at(Column::Community),
            at(Column::IdNumber),
        );
        let mut community_names: Vec<String> = Vec::new();
        let mut id_numbers: Vec<String> = Vec::new();
        let mut seen_c = std::collections::HashSet::new();
        let mut seen_id = std::collections::HashSet::new();
        for row in data {
            if let Some(c) = cell(row, community_at) {
                if seen_c.insert(c.clone()) {
                    community_names.push(c);
                }
            }
            if let Some(id) = cell(row, id_at).map(|s| half_width(&s).to_ascii_uppercase()) {
                if seen_id.insert(id.clone()) {
                    id_numbers.push(id);
                }
            }
        }
        let mut named: HashMap<String, Vec<i64>> = HashMap::new();
        for c in imports::communities_in(db, &community_names).await? {
            named.entry(c.name).or_default().push(c.id);
        }
        for name in &community_names {
            let outcome = match named.get(name).map(Vec::as_slice) {
                Some([one]) => Ok(*one),
                None | Some([]) => Err(format!(
                    "系统中没有名为“{name}”的社区或小区，请先建立或改正名称"
                )),
                Some(_) => Err(format!(
                    "系统中有多个名为“{name}”的社区或小区，无法确定是哪一个"
                )),
            };
            self.communities.insert(name.clone(), outcome);
        }
        for id in &id_numbers {
            self.by_id_number.insert(id.clone(), Vec::new());
        }
        for m in imports::residents_with_id_numbers(db, &id_numbers).await? {
            if let Some(id) = m.id_number.clone() {
                self.by_id_number.entry(id).or_default().push(m);
            }
        }
        let mut names_of: HashMap<i64, Vec<String>> = HashMap::new();
        let mut seen_n = std::collections::HashSet::new();
        for row in data {
            let (Some(name), Some(c)) = (cell(row, name_at), cell(row, community_at)) else {
                continue;
            };
            if let Some(Ok(cid)) = self.communities.get(&c) {
                if seen_n.insert((name.clone(), *cid)) {
                    names_of.entry(*cid).or_default().push(name.clone());
                    self.by_name.insert((name, *cid), Vec::new());
                }
            }
        }
        for (cid, names) in names_of {
            for m in imports::residents_named_any(db, cid, &names).await? {
                self.by_name
                    .entry((m.name.clone(), cid))
                    .or_default()
                    .push(m);
            }
        }
        Ok(())
    }

    /// The residents a row names (see [`find_residents`]), from what was prefetched when it
    /// covers the key.
    pub(crate) async fn find(
        &mut self,
        db: &impl ConnectionTrait,
        id_number: Option<&str>,
        name: &str,
        community_id: i64,
    ) -> StoreResult<Vec<resident::Model>> {
        let by_id = match id_number {
            Some(id) => self.by_id_number.get(id).cloned(),
            None => Some(Vec::new()),
        };
        let by_name = self.by_name.get(&(name.to_string(), community_id)).cloned();
        match (by_id, by_name) {
            (Some(by_id), _) if !by_id.is_empty() => Ok(first_two(by_id)),
            (Some(_), Some(named)) => Ok(first_two(
                named
                    .into_iter()
                    .filter(|m| id_number.is_none() || m.id_number.is_none())
                    .collect(),
            )),
            _ => find_residents(db, id_number, name, community_id).await,
        }
    }

    /// The community of this name, or why there is none to take.
    pub(crate) async fn community(
        &mut self,
        db: &impl ConnectionTrait,
        name: &str,
    ) -> StoreResult<Result<i64, String>> {
        if let Some(found) = self.communities.get(name) {
            return Ok(found.clone());
        }
        let found = imports::communities_named(db, name).await?;
        let outcome = match found.as_slice() {
            [one] => Ok(one.id),
            [] => Err(format!(
                "系统中没有名为“{name}”的社区或小区，请先建立或改正名称"
            )),
            _ => Err(format!(
                "系统中有多个名为“{name}”的社区或小区，无法确定是哪一个"
            )),
        };
        self.communities.insert(name.to_string(), outcome.clone());
        Ok(outcome)
    }

    /// The one existing resident a row of a records or participation sheet names (姓名, 小区 and
    /// perhaps 身份证号码), or `None` with the problem reported.
    pub(crate) async fn resident(
        &mut self,
        db: &impl ConnectionTrait,
        row: &Row<'_>,
        problems: &mut Vec<CellProblem>,
    ) -> StoreResult<Option<(Person, String)>> {
        let name = row.get(Column::Name).unwrap_or_default();
        let community = row.get(Column::Community).unwrap_or_default();
        if name.is_empty() {
            problems.push(row.problem(Column::Name, "缺少姓名"));
        }
        if community.is_empty() {
            problems.push(row.problem(Column::Community, "缺少所属小区"));
        }
        if name.is_empty() || community.is_empty() {
            return Ok(None);
        }
        let community_id = match self.community(db, &community).await? {
            Ok(id) => id,
            Err(message) => {
                problems.push(row.problem(Column::Community, message));
                return Ok(None);
            }
        };
        let id_number = row
            .get(Column::IdNumber)
            .map(|s| half_width(&s).to_ascii_uppercase());
        let key = (id_number, name, community_id);
        if !self.residents.contains_key(&key) {
            let found = self
                .find(db, key.0.as_deref(), &key.1, community_id)
                .await?;
            self.residents.insert(key.clone(), found);
        }
        match self.residents[&key].as_slice() {
            [one] => Ok(Some((
                Person {
                    id: one.id,
                    name: one.name.clone(),
                },
                community,
            ))),
            [] => {
                problems.push(row.problem(
                    Column::Name,
                    format!(
                        "系统中没有这位居民（{}，{}{}），请先导入或登记居民",
                        key.1,
                        community,
                        if key.0.is_some() {
                            "，按身份证号码也未找到"
                        } else {
                            ""
                        }
                    ),
                ));
                Ok(None)
            }
            many => {
                let ids: Vec<String> = many.iter().map(|m| m.id.to_string()).collect();
                problems.push(row.problem(
                    Column::Name,
                    format!(
                        "匹配到多位居民（编号 {} 等），无法确定是哪一位；请填写身份证号码以区分",
                        ids.join("、")
                    ),
                ));
                Ok(None)
            }
        }
    }
}

/// The row over the stored resident: empty cells keep what is stored.
fn merge(current: &resident::Model, row: ResidentInput) -> ResidentDraft {
    let input = ResidentInput {
        name: row.name,
        community_id: row.community_id,
        citation: row.citation.or_else(|| current.citation.clone()),
        phone: row.phone.or_else(|| current.phone.clone()),
        id_number: row.id_number.or_else(|| current.id_number.clone()),
        birth_year: row.birth_year.or(current.birth_year),
        address: row.address.or_else(|| current.address.clone()),
    };
    // Every part was valid on its own (the row, or what is stored).
    ResidentDraft::parse(input).unwrap_or_else(|_| draft_of(current))
}

fn draft_of(m: &resident::Model) -> ResidentDraft {
    ResidentDraft {
        parsed: crate::domain::Parsed::trusting_stored(),
        name: m.name.clone(),
        pinyin: m.pinyin.clone(),
        community_id: m.community_id,
        citation: m.citation.clone(),
        private: crate::domain::resident::PrivateFields {
            phone: m.phone.clone(),
            id_number: m.id_number.clone(),
            birth_year: m.birth_year,
            address: m.address.clone(),
        },
    }
}

fn same(m: &resident::Model, draft: &ResidentDraft) -> bool {
    draft_of(m) == *draft
}

/// Apply a plan without problems: create and update its residents (each writes its search
/// outbox row in the store). Call inside the commit's transaction.
pub async fn apply(db: &impl ConnectionTrait, plan: &Plan) -> StoreResult<Vec<Applied>> {
    let mut applied = Vec::new();
    for p in &plan.planned {
        match (&p.action, &p.current) {
            (RowAction::Create, _) => applied.push(Applied {
                before: None,
                after: residents::insert(db, &p.draft).await?,
            }),
            (RowAction::Update, Some(current)) => applied.push(Applied {
                before: Some(current.clone()),
                after: residents::update(db, current.id, current.version, &p.draft).await?,
            }),
            _ => {}
        }
    }
    Ok(applied)
}
