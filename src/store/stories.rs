//! Stories (newsletter issues are in `issues.rs`). Whether a published story is public is
//! decided at read time by the domain rule (story consent, and an honour behind a recognition
//! story), so a withdrawal of consent unpublishes at once. Every change of a story writes a search
//! outbox row in the same transaction; so does every change that may turn the rule (see
//! `outbox::enqueue_stories_naming`), and the relay then puts the story into the index or takes
//! it out.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, NullOrdering, Query, SelectStatement, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Order, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};

use super::entities::{issue_story, nomination, recognition, resident, story, story_resident};
use super::outbox::{self, OutboxKind};
use super::reads::Scope;
use super::residents::Visibility;
use super::{consents, nominations, residents, Page, StoreError, StoreResult};
use crate::domain::consent::ConsentScope;
use crate::domain::naming;
use crate::domain::nomination::NominationState;
use crate::domain::story::{publication_problems, ResidentStanding, StoryDraft, HIDDEN_RESIDENT};
use crate::domain::ValidationErrors;

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";

pub fn themes(m: &story::Model) -> Vec<String> {
    m.themes
        .split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

fn stored_themes(themes: &[String]) -> String {
    // Leading and trailing commas let a theme be matched as `%,theme,%`.
    if themes.is_empty() {
        String::new()
    } else {
        format!(",{},", themes.join(","))
    }
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<story::Model> {
    super::reads::row("story", id);
    story::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("story"))
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> StoreResult<story::Model> {
    let found = story::Entity::find()
        .filter(story::Column::Slug.eq(slug))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("story"))?;
    super::reads::row("story", found.id);
    Ok(found)
}

pub async fn resident_ids(db: &impl ConnectionTrait, story_id: i64) -> StoreResult<Vec<i64>> {
    super::reads::row("story", story_id);
    Ok(story_resident::Entity::find()
        .select_only()
        .column(story_resident::Column::ResidentId)
        .filter(story_resident::Column::StoryId.eq(story_id))
        .order_by_asc(story_resident::Column::Position)
        .into_tuple()
        .all(db)
        .await?)
}

/// The residents each of these stories names, in their order, in one query.
pub async fn resident_ids_of(
    db: &impl ConnectionTrait,
    story_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Vec<i64>>> {
    let mut out: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    if story_ids.is_empty() {
        return Ok(out);
    }
    for id in story_ids {
        super::reads::row("story", *id);
    }
    let rows: Vec<(i64, i64)> = story_resident::Entity::find()
        .select_only()
        .column(story_resident::Column::StoryId)
        .column(story_resident::Column::ResidentId)
        .filter(story_resident::Column::StoryId.is_in(story_ids.to_vec()))
        .order_by_asc(story_resident::Column::StoryId)
        .order_by_asc(story_resident::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    for (story, resident) in rows {
        out.entry(story).or_default().push(resident);
    }
    Ok(out)
}

/// Which of these residents have an active consent to appear in stories, in one query.
pub async fn consenting_to_stories(
    db: &impl ConnectionTrait,
    resident_ids: &[i64],
) -> StoreResult<std::collections::HashSet<i64>> {
    if resident_ids.is_empty() {
        return Ok(Default::default());
    }
    let found: Vec<i64> = residents::Entity::find()
        .select_only()
        .column(residents::Column::Id)
        .filter(residents::Column::Id.is_in(resident_ids.to_vec()))
        .filter(residents::consent_exists(ConsentScope::Story))
        .into_tuple()
        .all(db)
        .await?;
    Ok(found.into_iter().collect())
}

/// Whether the resident has an active consent to appear in stories.
pub async fn consents_to_stories(db: &impl ConnectionTrait, resident_id: i64) -> StoreResult<bool> {
    Ok(residents::Entity::find_by_id(resident_id)
        .filter(residents::consent_exists(ConsentScope::Story))
        .count(db)
        .await?
        > 0)
}

/// Every id names a resident the writer may see; `already` (the story's current residents) stay
/// allowed.
async fn check_residents(
    db: &impl ConnectionTrait,
    ids: &[i64],
    already: &[i64],
    visibility: Visibility,
) -> StoreResult<()> {
    let new: Vec<i64> = ids
        .iter()
        .copied()
        .filter(|id| !already.contains(id))
        .collect();
    refuse_unseen_residents(db, "resident_ids", &new, visibility).await
}

/// Refuse (422 on `field`) ids that name no resident and, for the public view (editors), ids of
/// residents the public could not see — neither a public profile nor consent to appear in
/// stories — in the very same words, so that an editor cannot probe ids for residents who never
/// consented.
pub async fn refuse_unseen_residents(
    db: &impl ConnectionTrait,
    field: &str,
    ids: &[i64],
    visibility: Visibility,
) -> StoreResult<()> {
    let mut missing = residents::missing(db, ids).await?;
    if visibility == Visibility::Public {
        let visible = residents::public_subset(db, ids).await?;
        for id in ids {
            if !visible.contains(id)
                && !missing.contains(id)
                && !consents_to_stories(db, *id).await?
            {
                missing.push(*id);
            }
        }
        missing.sort_by_key(|id| ids.iter().position(|n| n == id));
    }
    if let Visibility::Within(_) = visibility {
        let reached = residents::get_many(db, ids, visibility).await?;
        for id in ids {
            if !reached.contains_key(id) && !missing.contains(id) {
                missing.push(*id);
            }
        }
        missing.sort_by_key(|id| ids.iter().position(|n| n == id));
    }
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing.iter().map(i64::to_string).collect();
    Err(StoreError::Invalid(ValidationErrors::single(
        field,
        format!("居民 {} 不存在", list.join("、")),
    )))
}

async fn write_residents(db: &impl ConnectionTrait, story_id: i64, ids: &[i64]) -> StoreResult<()> {
    story_resident::Entity::delete_many()
        .filter(story_resident::Column::StoryId.eq(story_id))
        .exec(db)
        .await?;
    for (i, resident_id) in ids.iter().enumerate() {
        story_resident::ActiveModel {
            story_id: Set(story_id),
            resident_id: Set(*resident_id),
            position: Set(i as i32),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// A new draft story. Call inside a transaction.
pub async fn insert(
    db: &impl ConnectionTrait,
    draft: &StoryDraft,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> StoreResult<story::Model> {
    check_residents(db, &draft.resident_ids, &[], visibility).await?;
    let base = naming::text_slug(&draft.title);
    let base: String = base
        .chars()
        .take(48)
        .collect::<String>()
        .trim_end_matches('-')
        .to_string();
    let taken = super::taken_slugs::<story::Entity>(db, story::Column::Slug, &base).await?;
    let m = story::ActiveModel {
        slug: Set(naming::unique_slug(&base, &taken)),
        title: Set(draft.title.clone()),
        subtitle: Set(draft.subtitle.clone()),
        section: Set(draft.section.clone()),
        themes: Set(stored_themes(&draft.themes)),
        byline: Set(draft.byline.clone()),
        body: Set(draft.body.clone()),
        recognition_story: Set(draft.recognition_story),
        state: Set(DRAFT.into()),
        featured: Set(draft.featured),
        published_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_residents(db, m.id, &draft.resident_ids).await?;
    outbox::enqueue(db, OutboxKind::Story, m.id).await?;
    Ok(m)
}

/// Replace a story's content if `version` is current. Call inside a transaction.
pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    version: i32,
    draft: &StoryDraft,
    visibility: Visibility,
    now: DateTime<Utc>,
) -> StoreResult<story::Model> {
    let already = resident_ids(db, id).await?;
    check_residents(db, &draft.resident_ids, &already, visibility).await?;
    let result = story::Entity::update_many()
        .col_expr(story::Column::Title, Expr::value(draft.title.clone()))
        .col_expr(story::Column::Subtitle, Expr::value(draft.subtitle.clone()))
        .col_expr(story::Column::Section, Expr::value(draft.section.clone()))
        .col_expr(
            story::Column::Themes,
            Expr::value(stored_themes(&draft.themes)),
        )
        .col_expr(story::Column::Byline, Expr::value(draft.byline.clone()))
        .col_expr(story::Column::Body, Expr::value(draft.body.clone()))
        .col_expr(
            story::Column::RecognitionStory,
            Expr::value(draft.recognition_story),
        )
        .col_expr(story::Column::Featured, Expr::value(draft.featured))
        .col_expr(story::Column::Version, Expr::value(version + 1))
        .col_expr(story::Column::UpdatedAt, Expr::value(now))
        .filter(story::Column::Id.eq(id))
        .filter(story::Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, id).await?.version,
        });
    }
    write_residents(db, id, &draft.resident_ids).await?;
    outbox::enqueue(db, OutboxKind::Story, id).await?;
    get(db, id).await
}

/// Publish (keeping the first publication date) or take back to draft.
pub async fn set_published(
    db: &impl ConnectionTrait,
    id: i64,
    published: bool,
    now: DateTime<Utc>,
) -> StoreResult<story::Model> {
    let current = get(db, id).await?;
    let mut m: story::ActiveModel = current.clone().into();
    m.state = Set(if published { PUBLISHED } else { DRAFT }.into());
    if published && current.published_at.is_none() {
        m.published_at = Set(Some(now));
    }
    if published {
        // An editor looked at it again and decided: the reason it was taken down is answered.
        m.attention = Set(None);
    }
    m.version = Set(current.version + 1);
    m.updated_at = Set(now);
    let m = m.update(db).await?;
    outbox::enqueue(db, OutboxKind::Story, id).await?;
    Ok(m)
}

/// Take every published story naming `resident_id` back to draft with `reason` for the editors.
/// Called before the links to the resident go (deletion) or their consents do (erasure): a story
/// whose named resident is no longer there must not pass the publication rule by naming no one.
/// Returns the ids of the stories taken down.
pub async fn unpublish_naming(
    db: &impl ConnectionTrait,
    resident_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<i64>> {
    let ids: Vec<i64> = story::Entity::find()
        .select_only()
        .column(story::Column::Id)
        .filter(story::Column::State.eq(PUBLISHED))
        .filter(
            story::Column::Id.in_subquery(
                Query::select()
                    .column(story_resident::Column::StoryId)
                    .from(story_resident::Entity)
                    .and_where(story_resident::Column::ResidentId.eq(resident_id))
                    .to_owned(),
            ),
        )
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    story::Entity::update_many()
        .col_expr(story::Column::State, Expr::value(DRAFT))
        .col_expr(story::Column::Attention, Expr::value(reason))
        .col_expr(
            story::Column::Version,
            Expr::col(story::Column::Version).add(1),
        )
        .col_expr(story::Column::UpdatedAt, Expr::value(now))
        .filter(story::Column::Id.is_in(ids.clone()))
        .exec(db)
        .await?;
    for id in &ids {
        outbox::enqueue(db, OutboxKind::Story, *id).await?;
    }
    Ok(ids)
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    let result = story::Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("story"));
    }
    outbox::enqueue(db, OutboxKind::Story, id).await?;
    Ok(())
}

/// Where each resident a story names stands (story consent; an honour behind them).
pub async fn standings(
    db: &impl ConnectionTrait,
    resident_ids: &[i64],
) -> StoreResult<Vec<ResidentStanding>> {
    let mut out = Vec::new();
    for id in resident_ids {
        let r = residents::get(db, *id, residents::Visibility::Staff).await?;
        let consents = super::consents::list_for_resident(db, *id).await?;
        let story_consent = consents
            .iter()
            .any(|c| c.scope == "story" && c.withdrawn_on.is_none());
        let recognised = recognition::Entity::find()
            .filter(recognition::Column::ResidentId.eq(*id))
            .filter(recognition::Column::RevokedAt.is_null())
            .one(db)
            .await?
            .is_some();
        let approved = nominations::list(
            db,
            nominations::ListFilter {
                after: None,
                limit: 1000,
                state: Some(NominationState::Approved),
                resident_id: Some(*id),
                nominator_id: None,
                hide_drafts_of_others: None,
                reach: crate::store::residents::Visibility::Staff,
            },
        )
        .await?;
        out.push(ResidentStanding {
            name: r.name,
            story_consent,
            honoured: recognised || !approved.items.is_empty(),
        });
    }
    Ok(out)
}

/// Why this story may not be public now (empty: it may).
pub async fn problems(db: &impl ConnectionTrait, m: &story::Model) -> StoreResult<Vec<String>> {
    problems_for(db, m, Visibility::Staff).await
}

/// [`problems`] in words the viewer may read: for the public view (editors) a resident the public
/// could not see is not named but called [`HIDDEN_RESIDENT`].
pub async fn problems_for(
    db: &impl ConnectionTrait,
    m: &story::Model,
    visibility: Visibility,
) -> StoreResult<Vec<String>> {
    let ids = resident_ids(db, m.id).await?;
    let mut standings = standings(db, &ids).await?;
    if visibility == Visibility::Public {
        for (id, standing) in ids.iter().zip(standings.iter_mut()) {
            if !residents::is_public(db, *id).await? && !standing.story_consent {
                standing.name = HIDDEN_RESIDENT.into();
            }
        }
    }
    Ok(publication_problems(m.recognition_story, &standings))
}

/// Whether the public may read it: published, and the publication rule holds today.
pub async fn is_public(db: &impl ConnectionTrait, m: &story::Model) -> StoreResult<bool> {
    Ok(m.state == PUBLISHED && problems(db, m).await?.is_empty())
}

/// The story row of the outer query may be read by the public now: the rule of [`is_public`]
/// (`domain::story::publication_problems`) in SQL, for the rules that run in the database (the
/// story lists, a story's photos). Published; every named resident with an active `story` consent; and for a
/// recognition story every named resident honoured — an unrevoked recognition or an approved
/// nomination. Keep the two in step: `tests/api/photos.rs` checks that they agree.
pub fn public_condition() -> Condition {
    // A resident this story names for whom `fails` holds (correlated on the named resident, so
    // each check is an index look-up per named resident, not a read of every holder).
    let named_with = |fails: SimpleExpr| {
        Query::select()
            .expr(Expr::val(1))
            .from(story_resident::Entity)
            .and_where(
                Expr::col((story_resident::Entity, story_resident::Column::StoryId))
                    .equals((story::Entity, story::Column::Id)),
            )
            .and_where(fails)
            .to_owned()
    };
    let named = (story_resident::Entity, story_resident::Column::ResidentId);
    let without_consent = named_with(consents::active_exists(ConsentScope::Story, named).not());
    let recognised = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(recognition::Entity)
            .and_where(
                Expr::col((recognition::Entity, recognition::Column::ResidentId)).equals(named),
            )
            .and_where(recognition::Column::RevokedAt.is_null())
            .to_owned(),
    );
    let approved = Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(nomination::Entity)
            .and_where(
                Expr::col((nomination::Entity, nomination::Column::ResidentId)).equals(named),
            )
            .and_where(nomination::Column::State.eq(NominationState::Approved.code()))
            .to_owned(),
    );
    let not_honoured = named_with(recognised.not().and(approved.not()));
    Condition::all()
        .add(story::Column::State.eq(PUBLISHED))
        .add(Expr::exists(without_consent).not())
        .add(
            Condition::any()
                .add(story::Column::RecognitionStory.eq(false))
                .add(Expr::exists(not_honoured).not()),
        )
}

/// [`public_condition`] as a subquery of story ids.
pub fn public_ids() -> SelectStatement {
    Query::select()
        .column(story::Column::Id)
        .from(story::Entity)
        .cond_where(public_condition())
        .to_owned()
}

#[derive(Default)]
pub struct Filter {
    pub after: Option<i64>,
    pub limit: u64,
    /// Only published stories the public may read (checked by the rule, not just the state).
    pub public_only: bool,
    pub featured: Option<bool>,
    pub theme: Option<String>,
    pub section: Option<String>,
    pub resident_id: Option<i64>,
    pub community_id: Option<i64>,
    /// Only stories naming a resident of this community or one below it (a site's stories).
    pub within: Option<i64>,
    pub issue_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Newest first (by publication date) instead of by id.
    pub newest_first: bool,
}

/// Stories matching the filter, one page of them from the database (keyset: the cursor is the
/// last story's id, in id order or in the newest-first order).
pub async fn list(db: &impl ConnectionTrait, f: Filter) -> StoreResult<Page<story::Model>> {
    let mut query = story::Entity::find();
    if let Some(featured) = f.featured {
        query = query.filter(story::Column::Featured.eq(featured));
    }
    if let Some(theme) = &f.theme {
        query = query.filter(story::Column::Themes.like(super::like_literal(
            "%",
            &format!(",{theme},"),
            "%",
        )));
    }
    if let Some(section) = &f.section {
        query = query.filter(story::Column::Section.eq(section.clone()));
    }
    if let Some(since) = f.since {
        query = query.filter(story::Column::PublishedAt.gte(since));
    }
    if let Some(until) = f.until {
        query = query.filter(story::Column::PublishedAt.lt(until));
    }
    if let Some(resident) = f.resident_id {
        query = query.filter(
            story::Column::Id.in_subquery(
                Query::select()
                    .column(story_resident::Column::StoryId)
                    .from(story_resident::Entity)
                    .and_where(story_resident::Column::ResidentId.eq(resident))
                    .to_owned(),
            ),
        );
    }
    if let Some(community) = f.community_id {
        query = query.filter(
            story::Column::Id.in_subquery(
                Query::select()
                    .column(story_resident::Column::StoryId)
                    .from(story_resident::Entity)
                    .and_where(
                        story_resident::Column::ResidentId.in_subquery(
                            Query::select()
                                .column(resident::Column::Id)
                                .from(resident::Entity)
                                .and_where(resident::Column::CommunityId.eq(community))
                                .to_owned(),
                        ),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(root) = f.within {
        query = query.filter(sea_orm::sea_query::Expr::cust(format!(
            "stories.id IN (SELECT story_residents.story_id FROM story_residents \
             JOIN residents ON residents.id = story_residents.resident_id WHERE {})",
            super::communities::subtree_sql("residents", "community_id", root)
        )));
    }
    if let Some(issue) = f.issue_id {
        query = query.filter(
            story::Column::Id.in_subquery(
                Query::select()
                    .column(issue_story::Column::StoryId)
                    .from(issue_story::Entity)
                    .and_where(issue_story::Column::IssueId.eq(issue))
                    .to_owned(),
            ),
        );
    }
    if f.public_only {
        // The publication rule in SQL (the same rule as `problems`): no story is loaded to be
        // thrown away, and no query runs per story.
        query = query.filter(public_condition());
    }
    query = if f.newest_first {
        // Keyset on (published_at, id), newest first; never-published drafts (staff only) last.
        if let Some(after) = f.after {
            query = query.filter(after_in_newest_order(db, after).await?);
        }
        query
            .order_by_with_nulls(story::Column::PublishedAt, Order::Desc, NullOrdering::Last)
            .order_by_desc(story::Column::Id)
    } else {
        query
            .apply_if(f.after, |q, after| q.filter(story::Column::Id.gt(after)))
            .order_by_asc(story::Column::Id)
    };
    let rows = query.limit(f.limit + 1).all(db).await?;
    let scope = f
        .resident_id
        .map_or(Scope::All, |r| Scope::Owner("resident", r));
    super::reads::rows("story", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, f.limit, |m| m.id))
}

/// The stories after story `after` in the newest-first order: published earlier, or at the
/// same moment with a smaller id; never-published ones come after all published ones.
async fn after_in_newest_order(db: &impl ConnectionTrait, after: i64) -> StoreResult<Condition> {
    let cursor = story::Entity::find_by_id(after)
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid(ValidationErrors::single(
                "cursor",
                "游标指向的报道已不存在，请从第一页重新开始",
            ))
        })?;
    Ok(match cursor.published_at {
        Some(at) => Condition::any()
            .add(story::Column::PublishedAt.lt(at))
            .add(
                Condition::all()
                    .add(story::Column::PublishedAt.eq(at))
                    .add(story::Column::Id.lt(after)),
            )
            .add(story::Column::PublishedAt.is_null()),
        None => Condition::all()
            .add(story::Column::PublishedAt.is_null())
            .add(story::Column::Id.lt(after)),
    })
}

pub async fn find_by_title(
    db: &impl ConnectionTrait,
    title: &str,
) -> StoreResult<Option<story::Model>> {
    Ok(story::Entity::find()
        .filter(story::Column::Title.eq(title))
        .one(db)
        .await?)
}
