//! Search documents and how they are built from the database. A document carries only what a
//! public page may show — name, community path, public citation, summary headlines, record titles,
//! categories, years — plus pinyin derived from the name. Private fields (phone, ID number, birth
//! year, address) are never read into it.
//!
//! Kinds: residents now; recognitions and stories join with their own `kind` and builder, sharing
//! the same fields (a story's title in `name`, its text in `citation`).

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::IndexOp;
use crate::domain::naming;
use crate::domain::service_record::RecordKind;
use crate::domain::summary::ServiceSummary;
use crate::store::entities::{community, resident, service_record};
use crate::store::outbox::OutboxKind;
use crate::store::{residents, service_records, StoreResult};

pub const KIND_RESIDENT: &str = "resident";

/// Today in Shanghai (UTC+8, no daylight saving): ongoing periods in the headlines and the years
/// of a document count up to it.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDocument {
    /// `{kind}-{entity_id}`: `resident-12`.
    pub id: String,
    /// `resident` (later also `recognition`, `story`).
    pub kind: String,
    pub entity_id: i64,
    /// False when the resident has no active profile consent: only the staff scope sees it.
    pub public: bool,
    pub slug: String,
    pub name: String,
    /// "sun jianwei"
    pub pinyin: String,
    /// "sunjianwei"
    pub pinyin_joined: String,
    /// "sjw"
    pub initials: String,
    pub community_id: i64,
    /// The community and every community above it, for the `community` filter.
    pub community_ids: Vec<i64>,
    /// 普陀区 › 长寿路街道 › 音乐广场
    pub community_path: String,
    /// The public citation as plain text.
    pub citation: Option<String>,
    /// 无偿服务 12 年, 接待参访 52 批次, …
    pub headlines: Vec<String>,
    /// Titles (and organisations) of the service records.
    pub records: Vec<String>,
    /// 接待参访, 项目, … (recognitions will add 敬业奉献 and the like).
    pub categories: Vec<String>,
    /// Every year the service records cover.
    pub years: Vec<i32>,
}

impl SearchDocument {
    pub fn doc_id(kind: &str, entity_id: i64) -> String {
        format!("{kind}-{entity_id}")
    }

    /// The running text a hit's snippet is cut from, and that the engines index as the body.
    pub fn body(&self) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if let Some(citation) = &self.citation {
            parts.push(citation);
        }
        parts.extend(self.headlines.iter().map(String::as_str));
        parts.extend(self.records.iter().map(String::as_str));
        parts.join("。")
    }

    /// Community path and categories: searchable, but not snippet material.
    pub fn context(&self) -> String {
        let mut parts = vec![self.community_path.clone()];
        parts.extend(self.categories.iter().cloned());
        parts.join(" ")
    }

    /// All pinyin forms, for the pinyin field: "sun jianwei sunjianwei sjw".
    pub fn pinyin_text(&self) -> String {
        format!("{} {} {}", self.pinyin, self.pinyin_joined, self.initials)
    }
}

/// Markdown as the plain text a snippet shows: emphasis marks, heading and quote markers and link
/// targets dropped.
pub fn plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for line in markdown.lines() {
        let line = line
            .trim_start()
            .trim_start_matches('#')
            .trim_start_matches('>')
            .trim();
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        let mut rest = line;
        // [text](url) → text
        while let Some(open) = rest.find('[') {
            let Some(close) = rest[open..].find("](").map(|i| open + i) else {
                break;
            };
            let Some(end) = rest[close..].find(')').map(|i| close + i) else {
                break;
            };
            out.push_str(&rest[..open]);
            out.push_str(&rest[open + 1..close]);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
    }
    out.chars()
        .filter(|c| !matches!(c, '*' | '`' | '_'))
        .collect()
}

/// What the database says the index should hold for these subjects: an upsert per existing
/// resident, a delete per resident that no longer exists.
pub async fn ops_for(
    db: &impl ConnectionTrait,
    subjects: &[(OutboxKind, i64)],
    today: NaiveDate,
) -> StoreResult<Vec<IndexOp>> {
    let mut resident_ids: Vec<i64> = Vec::new();
    let mut communities: Option<Vec<community::Model>> = None;
    for (kind, id) in subjects {
        match kind {
            OutboxKind::Resident => resident_ids.push(*id),
            OutboxKind::Community => {
                if communities.is_none() {
                    communities = Some(community::Entity::find().all(db).await?);
                }
                let tree = communities.as_deref().unwrap_or_default();
                resident_ids.extend(residents_under(db, tree, *id).await?);
            }
        }
    }
    resident_ids.sort_unstable();
    resident_ids.dedup();
    let mut ops = Vec::with_capacity(resident_ids.len());
    for chunk in resident_ids.chunks(500) {
        for (id, doc) in residents_documents(db, chunk, today).await? {
            ops.push(match doc {
                Some(doc) => IndexOp::Upsert(doc),
                None => IndexOp::Delete(SearchDocument::doc_id(KIND_RESIDENT, id)),
            });
        }
    }
    Ok(ops)
}

/// Residents in the community or anywhere below it.
async fn residents_under(
    db: &impl ConnectionTrait,
    tree: &[community::Model],
    root: i64,
) -> StoreResult<Vec<i64>> {
    let mut within = vec![root];
    let mut i = 0;
    while i < within.len() {
        let parent = within[i];
        let children: Vec<i64> = tree
            .iter()
            .filter(|c| c.parent_id == Some(parent) && !within.contains(&c.id))
            .map(|c| c.id)
            .collect();
        within.extend(children);
        i += 1;
    }
    Ok(resident::Entity::find()
        .select_only()
        .column(resident::Column::Id)
        .filter(resident::Column::CommunityId.is_in(within))
        .into_tuple()
        .all(db)
        .await?)
}

/// Documents of the given residents, in the order of `ids`; `None` for ids that are not residents.
pub async fn residents_documents(
    db: &impl ConnectionTrait,
    ids: &[i64],
    today: NaiveDate,
) -> StoreResult<Vec<(i64, Option<SearchDocument>)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let people = resident::Entity::find()
        .filter(resident::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    let public: BTreeSet<i64> = residents::public_subset(db, ids)
        .await?
        .into_iter()
        .collect();
    let records = service_record::Entity::find()
        .filter(service_record::Column::ResidentId.is_in(ids.to_vec()))
        .order_by_asc(service_record::Column::StartDate)
        .order_by_asc(service_record::Column::Id)
        .all(db)
        .await?;
    let mut records_of: HashMap<i64, Vec<service_record::Model>> = HashMap::new();
    for r in records {
        records_of.entry(r.resident_id).or_default().push(r);
    }
    let communities: HashMap<i64, community::Model> = community::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut by_id: HashMap<i64, resident::Model> = people.into_iter().map(|p| (p.id, p)).collect();
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let doc = match by_id.remove(id) {
            None => None,
            Some(person) => {
                let records = records_of.remove(id).unwrap_or_default();
                Some(resident_document(
                    person,
                    public.contains(id),
                    &records,
                    &communities,
                    today,
                )?)
            }
        };
        out.push((*id, doc));
    }
    Ok(out)
}

fn resident_document(
    person: resident::Model,
    public: bool,
    records: &[service_record::Model],
    communities: &HashMap<i64, community::Model>,
    today: NaiveDate,
) -> StoreResult<SearchDocument> {
    let mut path = Vec::new();
    let mut next = Some(person.community_id);
    while let Some(id) = next {
        let Some(node) = communities.get(&id) else {
            break;
        };
        path.push(node);
        next = node.parent_id;
        if path.len() > 8 {
            break; // a cycle; the tree has four levels
        }
    }
    path.reverse();

    let facts = records
        .iter()
        .map(service_records::facts)
        .collect::<Result<Vec<_>, _>>()?;
    let summary = ServiceSummary::derive(&facts, today);
    let kinds: BTreeSet<usize> = facts
        .iter()
        .filter_map(|f| RecordKind::ALL.iter().position(|k| *k == f.kind))
        .collect();
    let mut years = BTreeSet::new();
    for f in &facts {
        let first = f.period.start.year();
        let last = f
            .period
            .end
            .map_or(today.year(), |end| end.year())
            .max(first);
        years.extend(first..=last.min(first + 100));
    }
    let titles = records
        .iter()
        .map(|r| match &r.organisation {
            Some(org) if !r.title.contains(org.as_str()) => format!("{}（{org}）", r.title),
            _ => r.title.clone(),
        })
        .collect();
    let pinyin = person.pinyin.clone();
    Ok(SearchDocument {
        id: SearchDocument::doc_id(KIND_RESIDENT, person.id),
        kind: KIND_RESIDENT.to_string(),
        entity_id: person.id,
        public,
        slug: person.slug,
        pinyin_joined: pinyin.split_whitespace().collect(),
        initials: naming::initials(&person.name),
        pinyin,
        name: person.name,
        community_id: person.community_id,
        community_ids: path.iter().map(|c| c.id).collect(),
        community_path: path
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" › "),
        citation: person
            .citation
            .as_deref()
            .map(plain_text)
            .filter(|c| !c.is_empty()),
        headlines: summary.headlines,
        records: titles,
        categories: kinds
            .into_iter()
            .map(|i| RecordKind::ALL[i].label().to_string())
            .collect(),
        years: years.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn markdown_becomes_plain_text() {
        assert_eq!(
            plain_text("# 标题\n\n作为**音乐广场业委会委员**，见[报道](https://x.cn/a)。"),
            "标题 作为音乐广场业委会委员，见报道。"
        );
    }
}
