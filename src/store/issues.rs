//! Newsletter issues (期): a name, a date, an editor's note and an ordered list of stories. An
//! issue is published as a whole; which of its stories the public may read is still each
//! story's own publication rule (`stories::public_condition`).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::entities::{issue_story, newsletter_issue as issue, story};
use super::reads::Scope;
use super::stories::{DRAFT, PUBLISHED};
use super::{Page, StoreError, StoreResult};
use crate::domain::story::IssueDraft;
use crate::domain::ValidationErrors;

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<issue::Model> {
    super::reads::row("issue", id);
    issue::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("issue"))
}

pub async fn story_ids(db: &impl ConnectionTrait, issue_id: i64) -> StoreResult<Vec<i64>> {
    super::reads::row("issue", issue_id);
    Ok(issue_story::Entity::find()
        .select_only()
        .column(issue_story::Column::StoryId)
        .filter(issue_story::Column::IssueId.eq(issue_id))
        .order_by_asc(issue_story::Column::Position)
        .into_tuple()
        .all(db)
        .await?)
}

async fn write_stories(
    db: &impl ConnectionTrait,
    issue_id: i64,
    story_ids: &[i64],
) -> StoreResult<()> {
    for id in story_ids {
        if story::Entity::find_by_id(*id).one(db).await?.is_none() {
            return Err(StoreError::Invalid(ValidationErrors::single(
                "story_ids",
                format!("报道 {id} 不存在"),
            )));
        }
    }
    issue_story::Entity::delete_many()
        .filter(issue_story::Column::IssueId.eq(issue_id))
        .exec(db)
        .await?;
    for (i, story_id) in story_ids.iter().enumerate() {
        issue_story::ActiveModel {
            issue_id: Set(issue_id),
            story_id: Set(*story_id),
            position: Set(i as i32),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

pub async fn insert(
    db: &impl ConnectionTrait,
    draft: &IssueDraft,
    now: DateTime<Utc>,
) -> StoreResult<issue::Model> {
    let m = issue::ActiveModel {
        name: Set(draft.name.clone()),
        issue_date: Set(draft.date),
        theme: Set(draft.theme.clone()),
        editors_note: Set(draft.editors_note.clone()),
        state: Set(DRAFT.into()),
        published_at: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    write_stories(db, m.id, &draft.story_ids).await?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    version: i32,
    draft: &IssueDraft,
    now: DateTime<Utc>,
) -> StoreResult<issue::Model> {
    let result = issue::Entity::update_many()
        .col_expr(issue::Column::Name, Expr::value(draft.name.clone()))
        .col_expr(issue::Column::IssueDate, Expr::value(draft.date))
        .col_expr(issue::Column::Theme, Expr::value(draft.theme.clone()))
        .col_expr(
            issue::Column::EditorsNote,
            Expr::value(draft.editors_note.clone()),
        )
        .col_expr(issue::Column::Version, Expr::value(version + 1))
        .col_expr(issue::Column::UpdatedAt, Expr::value(now))
        .filter(issue::Column::Id.eq(id))
        .filter(issue::Column::Version.eq(version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::VersionMismatch {
            current: get(db, id).await?.version,
        });
    }
    write_stories(db, id, &draft.story_ids).await?;
    get(db, id).await
}

pub async fn set_published(
    db: &impl ConnectionTrait,
    id: i64,
    published: bool,
    now: DateTime<Utc>,
) -> StoreResult<issue::Model> {
    let current = get(db, id).await?;
    let mut m: issue::ActiveModel = current.clone().into();
    m.state = Set(if published { PUBLISHED } else { DRAFT }.into());
    if published && current.published_at.is_none() {
        m.published_at = Set(Some(now));
    }
    m.version = Set(current.version + 1);
    m.updated_at = Set(now);
    Ok(m.update(db).await?)
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    let result = issue::Entity::delete_by_id(id).exec(db).await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound("issue"));
    }
    Ok(())
}

pub async fn list(
    db: &impl ConnectionTrait,
    published_only: bool,
    after: Option<i64>,
    limit: u64,
) -> StoreResult<Page<issue::Model>> {
    let mut query = issue::Entity::find()
        .order_by_asc(issue::Column::Id)
        .limit(limit + 1);
    if published_only {
        query = query.filter(issue::Column::State.eq(PUBLISHED));
    }
    if let Some(after) = after {
        query = query.filter(issue::Column::Id.gt(after));
    }
    let rows = query.all(db).await?;
    super::reads::rows("issue", Scope::All, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, limit, |m| m.id))
}

/// The published issues that carry story `story_id`, in id order.
pub async fn published_with(
    db: &impl ConnectionTrait,
    story_id: i64,
) -> StoreResult<Vec<issue::Model>> {
    let rows = issue::Entity::find()
        .filter(issue::Column::State.eq(PUBLISHED))
        .filter(
            issue::Column::Id.in_subquery(
                Query::select()
                    .column(issue_story::Column::IssueId)
                    .from(issue_story::Entity)
                    .and_where(issue_story::Column::StoryId.eq(story_id))
                    .to_owned(),
            ),
        )
        .order_by_asc(issue::Column::Id)
        .all(db)
        .await?;
    // An issue's change names the issue; one taking up this story is a new member of the list.
    super::reads::rows("issue", Scope::All, rows.iter().map(|m| m.id));
    Ok(rows)
}

pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> StoreResult<Option<issue::Model>> {
    Ok(issue::Entity::find()
        .filter(issue::Column::Name.eq(name))
        .one(db)
        .await?)
}
