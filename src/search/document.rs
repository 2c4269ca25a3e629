//! Search documents and how they are built from the database. A document carries only what a
//! public page may show — name, community path, public citation, summary headlines, record titles,
//! categories, years — plus pinyin derived from the name. Private fields (phone, ID number, birth
//! year, address) are never read into it.
//!
//! Kinds: residents and published stories; recognitions may join with their own `kind` and
//! builder, sharing the same fields. A story's document holds its title in `name`, its subtitle in
//! `citation`, its kicker (栏目) and byline in `headlines`, its body as plain text in `records`,
//! its theme tags in `categories`, its publication year in `years`, and the communities of the
//! residents it names. Only stories public under the publication rule are indexed at all: a draft
//! or an unconsented story has no document, not even for the staff scope.

use std::collections::{BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};

use super::IndexOp;
use crate::domain::naming;
use crate::domain::service_record::RecordKind;
use crate::domain::summary::ServiceSummary;
use crate::store::entities::{community, resident, service_record, story, story_resident};
use crate::store::outbox::OutboxKind;
use crate::store::{residents, service_records, stories, StoreResult};

pub const KIND_RESIDENT: &str = "resident";
pub const KIND_STORY: &str = "story";

/// Today in Shanghai (UTC+8, no daylight saving): ongoing periods in the headlines and the years
/// of a document count up to it.
pub fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchDocument {
    /// `{kind}-{entity_id}`: `resident-12`.
    pub id: String,
    /// `resident` or `story` (later also `recognition`).
    pub kind: String,
    pub entity_id: i64,
    /// False when the resident has no active profile consent: only the staff scope sees it.
    /// Stories are indexed only while public, so always true for them.
    pub public: bool,
    /// `sun-jianwei` (a resident's page `/people/{slug}`) or a story's (`/stories/{slug}`).
    pub slug: String,
    pub name: String,
    /// "sun jianwei"
    pub pinyin: String,
    /// "sunjianwei"
    pub pinyin_joined: String,
    /// "sjw"
    pub initials: String,
    /// The resident's community; a story's first named resident's (none when it names nobody).
    pub community_id: Option<i64>,
    /// The community and every community above it, for the `community` filter (for a story, of
    /// every resident it names).
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

    /// The public page of the hit: `/people/{slug}` or `/stories/{slug}`.
    pub fn url(&self) -> String {
        match self.kind.as_str() {
            KIND_STORY => format!("/stories/{}", self.slug),
            _ => format!("/people/{}", self.slug),
        }
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
    let mut story_ids: Vec<i64> = Vec::new();
    let mut communities: Option<Vec<community::Model>> = None;
    for (kind, id) in subjects {
        match kind {
            OutboxKind::Resident => resident_ids.push(*id),
            OutboxKind::Story => story_ids.push(*id),
            OutboxKind::Community => {
                if communities.is_none() {
                    communities = Some(community::Entity::find().all(db).await?);
                }
                let tree = communities.as_deref().unwrap_or_default();
                let within = residents_under(db, tree, *id).await?;
                // A story's document carries the communities of the residents it names.
                story_ids.extend(stories_naming(db, &within).await?);
                resident_ids.extend(within);
            }
        }
    }
    let mut ops = Vec::with_capacity(resident_ids.len() + story_ids.len());
    for (kind, mut ids) in [(KIND_RESIDENT, resident_ids), (KIND_STORY, story_ids)] {
        ids.sort_unstable();
        ids.dedup();
        for chunk in ids.chunks(500) {
            let docs = if kind == KIND_STORY {
                stories_documents(db, chunk).await?
            } else {
                residents_documents(db, chunk, today).await?
            };
            for (id, doc) in docs {
                ops.push(match doc {
                    Some(doc) => IndexOp::Upsert(doc),
                    None => IndexOp::Delete(SearchDocument::doc_id(kind, id)),
                });
            }
        }
    }
    Ok(ops)
}

/// Stories naming any of these residents.
async fn stories_naming(db: &impl ConnectionTrait, resident_ids: &[i64]) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::new();
    for chunk in resident_ids.chunks(500) {
        let found: Vec<i64> = story_resident::Entity::find()
            .select_only()
            .column(story_resident::Column::StoryId)
            .filter(story_resident::Column::ResidentId.is_in(chunk.to_vec()))
            .into_tuple()
            .all(db)
            .await?;
        ids.extend(found);
    }
    Ok(ids)
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

/// The community and the ones above it, from the top: 普陀区, 长寿路街道, 音乐广场.
fn community_path(
    communities: &HashMap<i64, community::Model>,
    start: i64,
) -> Vec<&community::Model> {
    let mut path = Vec::new();
    let mut next = Some(start);
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
    path
}

/// 普陀区 › 长寿路街道 › 音乐广场
fn path_text(path: &[&community::Model]) -> String {
    path.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" › ")
}

/// Documents of the given stories, in the order of `ids`; `None` for ids that are not stories or
/// are not public now (a draft, or a story whose named residents withdrew their story consent or
/// lack the honour a recognition story needs): those must not be in the index.
pub async fn stories_documents(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<Vec<(i64, Option<SearchDocument>)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut by_id: HashMap<i64, story::Model> = story::Entity::find()
        .filter(story::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    let mut communities: Option<HashMap<i64, community::Model>> = None;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(m) = by_id.remove(id) else {
            out.push((*id, None));
            continue;
        };
        if !stories::is_public(db, &m).await? {
            out.push((*id, None));
            continue;
        }
        if communities.is_none() {
            communities = Some(
                community::Entity::find()
                    .all(db)
                    .await?
                    .into_iter()
                    .map(|c| (c.id, c))
                    .collect(),
            );
        }
        let tree = communities.as_ref().expect("loaded above");
        let named = stories::resident_ids(db, m.id).await?;
        let homes: HashMap<i64, i64> = resident::Entity::find()
            .select_only()
            .column(resident::Column::Id)
            .column(resident::Column::CommunityId)
            .filter(resident::Column::Id.is_in(named.clone()))
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        let homes: Vec<i64> = named.iter().filter_map(|r| homes.get(r).copied()).collect();
        out.push((*id, Some(story_document(m, &homes, tree))));
    }
    Ok(out)
}

/// `homes`: the communities of the residents the story names, in their order.
fn story_document(
    m: story::Model,
    homes: &[i64],
    communities: &HashMap<i64, community::Model>,
) -> SearchDocument {
    let mut within: Vec<i64> = Vec::new();
    for home in homes {
        for c in community_path(communities, *home) {
            if !within.contains(&c.id) {
                within.push(c.id);
            }
        }
    }
    let lead_path = homes
        .first()
        .map(|home| path_text(&community_path(communities, *home)))
        .unwrap_or_default();
    let published = m
        .published_at
        .map(|t| (t + chrono::Duration::hours(8)).year());
    let themes = stories::themes(&m);
    SearchDocument {
        id: SearchDocument::doc_id(KIND_STORY, m.id),
        kind: KIND_STORY.to_string(),
        entity_id: m.id,
        public: true,
        slug: m.slug,
        name: m.title,
        // Titles are not names: no pinyin, so `sjw` finds people, not headlines.
        pinyin: String::new(),
        pinyin_joined: String::new(),
        initials: String::new(),
        community_id: homes.first().copied(),
        community_ids: within,
        community_path: lead_path,
        citation: m
            .subtitle
            .as_deref()
            .map(plain_text)
            .filter(|t| !t.is_empty()),
        headlines: [m.section, m.byline]
            .into_iter()
            .flatten()
            .filter(|t| !t.trim().is_empty())
            .collect(),
        records: Some(plain_text(&m.body))
            .filter(|t| !t.is_empty())
            .into_iter()
            .collect(),
        categories: themes,
        years: published.into_iter().collect(),
    }
}

fn resident_document(
    person: resident::Model,
    public: bool,
    records: &[service_record::Model],
    communities: &HashMap<i64, community::Model>,
    today: NaiveDate,
) -> StoreResult<SearchDocument> {
    let path = community_path(communities, person.community_id);

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
        community_id: Some(person.community_id),
        community_ids: path.iter().map(|c| c.id).collect(),
        community_path: path_text(&path),
        citation: person
            .citation
            .as_deref()
            .map(plain_text)
            .filter(|c| !c.is_empty()),
        records: titles,
        // The star level (三星志愿者) is a category too, so the category facet counts it.
        categories: kinds
            .into_iter()
            .map(|i| RecordKind::ALL[i].label().to_string())
            .chain(summary.hours.star_level.map(|l| l.label().to_string()))
            .collect(),
        headlines: summary.headlines,
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
