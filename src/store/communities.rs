//! Communities: the 区 › 街道 › 居民区 › 小区 tree.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entities::community::{ActiveModel, Column, Entity, Model};
use super::entities::resident;
use super::outbox::{self, OutboxKind};
use super::reads::Scope;
use super::{now, Page, StoreError, StoreResult};
use crate::domain::community::{CommunityDraft, CommunityKind};
use crate::domain::naming;
use crate::domain::ValidationErrors;

/// `table.column` (a community id of the outer query) is `root` or a community below it: the
/// subtree walked down in SQL by a recursive query (one statement on both databases, its size the
/// subtree's, never the registry's; `communities.parent_id` is indexed).
pub fn in_subtree(table: &str, column: &str, root: i64) -> sea_orm::sea_query::SimpleExpr {
    // `root` is an integer, written into the statement; the CAST keeps PostgreSQL's recursive
    // term and its seed the same type.
    Expr::cust(subtree_sql(table, column, root))
}

/// The SQL of [`in_subtree`], for conditions written as SQL.
pub fn subtree_sql(table: &str, column: &str, root: i64) -> String {
    format!(
        r#""{table}"."{column}" IN (WITH RECURSIVE subtree(id) AS (SELECT CAST({root} AS BIGINT) UNION ALL SELECT communities.id FROM communities JOIN subtree ON communities.parent_id = subtree.id) SELECT id FROM subtree)"#
    )
}

/// Whether community `id` is `root` or below it.
pub async fn is_within(db: &impl ConnectionTrait, id: i64, root: i64) -> StoreResult<bool> {
    Ok(Entity::find_by_id(id)
        .filter(in_subtree("communities", "id", root))
        .count(db)
        .await?
        > 0)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    super::reads::row("community", id);
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("community"))
}

/// The communities with these ids, in one query.
pub async fn get_many(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Model>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    for id in ids {
        super::reads::row("community", *id);
    }
    let rows = Entity::find()
        .filter(Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|m| (m.id, m)).collect())
}

/// The first `limit` communities of `kind`, oldest first (a page's identity asks for two: is
/// there exactly one?).
pub async fn first_of_kind(
    db: &impl ConnectionTrait,
    kind: CommunityKind,
    limit: u64,
) -> StoreResult<Vec<Model>> {
    first_where(db, Column::Kind.eq(kind.code()), limit).await
}

/// The first `limit` communities (by id) meeting `condition`, read as a list of the whole tree.
async fn first_where(
    db: &impl ConnectionTrait,
    condition: sea_orm::sea_query::SimpleExpr,
    limit: u64,
) -> StoreResult<Vec<Model>> {
    let rows = Entity::find()
        .filter(condition)
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    super::reads::rows("community", Scope::All, rows.iter().map(|m| m.id));
    Ok(rows)
}

pub async fn find_by_slug(db: &impl ConnectionTrait, slug: &str) -> StoreResult<Option<Model>> {
    let found = Entity::find().filter(Column::Slug.eq(slug)).one(db).await?;
    if let Some(c) = &found {
        super::reads::row("community", c.id);
    }
    Ok(found)
}

pub async fn list(
    db: &impl ConnectionTrait,
    after: Option<i64>,
    limit: u64,
    parent_id: Option<i64>,
    kind: Option<CommunityKind>,
) -> StoreResult<Page<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id).limit(limit + 1);
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    if let Some(parent) = parent_id {
        query = query.filter(Column::ParentId.eq(parent));
    }
    if let Some(kind) = kind {
        query = query.filter(Column::Kind.eq(kind.code()));
    }
    let rows = query.all(db).await?;
    let scope = parent_id.map_or(Scope::All, Scope::Community);
    super::reads::rows("community", scope, rows.iter().map(|m| m.id));
    Ok(Page::from_rows(rows, limit, |m| m.id))
}

/// `table.column` (a user id of the outer query) names an account granted inside the subtree
/// under `root`: a scoped admin's view of tokens and of the audit log.
pub fn granted_within(table: &str, column: &str, root: i64) -> sea_orm::sea_query::SimpleExpr {
    Expr::cust(format!(
        r#""{table}"."{column}" IN (SELECT users.id FROM users WHERE {})"#,
        subtree_sql("users", "community_id", root)
    ))
}

/// The communities of `root`'s subtree (itself included), in id order, at most `limit`.
pub async fn subtree(db: &impl ConnectionTrait, root: i64, limit: u64) -> StoreResult<Vec<Model>> {
    first_where(db, in_subtree("communities", "id", root), limit).await
}

/// Parent must exist and be one level up; reported on `parent_id` as a validation error.
async fn check_parent(db: &impl ConnectionTrait, draft: &CommunityDraft) -> StoreResult<()> {
    let Some(parent_id) = draft.parent_id else {
        return Ok(());
    };
    let parent = Entity::find_by_id(parent_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            StoreError::Invalid(ValidationErrors::single(
                "parent_id",
                format!("上级社区 {parent_id} 不存在"),
            ))
        })?;
    let parent_kind = parent
        .kind
        .parse::<CommunityKind>()
        .map_err(|()| StoreError::Conflict("bad kind in database".into()))?;
    draft.check_parent(parent_kind).map_err(StoreError::Invalid)
}

pub async fn insert(db: &impl ConnectionTrait, draft: &CommunityDraft) -> StoreResult<Model> {
    check_parent(db, draft).await?;
    let base = naming::text_slug(&draft.name);
    let taken = super::taken_slugs::<Entity>(db, Column::Slug, &base).await?;
    let now = now();
    let model = ActiveModel {
        name: Set(draft.name.clone()),
        kind: Set(draft.kind.code().to_string()),
        parent_id: Set(draft.parent_id),
        slug: Set(naming::unique_slug(&base, &taken)),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

pub async fn update(
    db: &impl ConnectionTrait,
    id: i64,
    expected_version: i32,
    draft: &CommunityDraft,
) -> StoreResult<Model> {
    let current = get(db, id).await?;
    if current.version != expected_version {
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    if draft.parent_id == Some(id) {
        return Err(StoreError::Invalid(ValidationErrors::single(
            "parent_id",
            "社区不能是自己的上级",
        )));
    }
    check_parent(db, draft).await?;
    if draft.kind.code() != current.kind {
        let children = Entity::find()
            .filter(Column::ParentId.eq(id))
            .count(db)
            .await?;
        if children > 0 {
            return Err(StoreError::Conflict(
                "该社区下还有下级社区，不能更改层级".into(),
            ));
        }
    }
    let result = Entity::update_many()
        .col_expr(Column::Name, Expr::value(draft.name.clone()))
        .col_expr(Column::Kind, Expr::value(draft.kind.code()))
        .col_expr(Column::ParentId, Expr::value(draft.parent_id))
        .col_expr(Column::Version, Expr::value(expected_version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now()))
        .filter(Column::Id.eq(id))
        .filter(Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        let current = get(db, id).await?;
        return Err(StoreError::VersionMismatch {
            current: current.version,
        });
    }
    // Its name shows in the community path of everyone in it and below it.
    outbox::enqueue(db, OutboxKind::Community, id).await?;
    get(db, id).await
}

pub async fn delete(db: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    get(db, id).await?;
    let children = Entity::find()
        .filter(Column::ParentId.eq(id))
        .count(db)
        .await?;
    let residents = resident::Entity::find()
        .filter(resident::Column::CommunityId.eq(id))
        .count(db)
        .await?;
    if children > 0 || residents > 0 {
        return Err(StoreError::Conflict(format!(
            "该社区下还有 {children} 个下级社区和 {residents} 位居民，不能删除"
        )));
    }
    let staff = super::entities::user::Entity::find()
        .filter(super::entities::user::Column::CommunityId.eq(id))
        .count(db)
        .await?;
    if staff > 0 {
        return Err(StoreError::Conflict(format!(
            "有 {staff} 个工作人员账号的权限范围是该社区，请先调整他们的范围"
        )));
    }
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// The path from the root down to this community: 普陀区 › 长寿路街道 › 音乐广场.
pub async fn path(db: &impl ConnectionTrait, id: i64) -> StoreResult<Vec<Model>> {
    super::reads::row("community", id);
    // One statement: the chain of parents walked up in SQL (the tree has four levels; the depth
    // bound stops a cycle).
    let rows = Entity::find()
        .filter(Expr::cust(format!(
            "communities.id IN (WITH RECURSIVE up(id, depth) AS (SELECT CAST({id} AS BIGINT), 0 \
             UNION ALL SELECT communities.parent_id, up.depth + 1 FROM communities JOIN up \
             ON communities.id = up.id WHERE communities.parent_id IS NOT NULL AND up.depth < 8) \
             SELECT id FROM up)"
        )))
        .all(db)
        .await?;
    let mut by_id: std::collections::HashMap<i64, Model> =
        rows.into_iter().map(|m| (m.id, m)).collect();
    let mut path = Vec::new();
    let mut next = Some(id);
    while let Some(node) = next.and_then(|id| by_id.remove(&id)) {
        super::reads::row("community", node.id);
        next = node.parent_id;
        path.push(node);
    }
    if path.is_empty() {
        return Err(StoreError::NotFound("community"));
    }
    path.reverse();
    Ok(path)
}

pub async fn count(db: &impl ConnectionTrait) -> StoreResult<u64> {
    Ok(Entity::find().count(db).await?)
}

/// Names of the given communities (ids that do not exist are left out).
pub async fn names(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, String>> {
    Ok(get_many(db, ids)
        .await?
        .into_iter()
        .map(|(id, c)| (id, c.name))
        .collect())
}

/// The path from the root of each of the given communities, in one query per level of the tree.
pub async fn paths(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Vec<Model>>> {
    let mut known: std::collections::HashMap<i64, Model> = Default::default();
    let mut wanted: Vec<i64> = ids.to_vec();
    // The tree has four levels; more rounds than that would be a cycle.
    for _ in 0..8 {
        wanted.retain(|id| !known.contains_key(id));
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            break;
        }
        let found = get_many(db, &wanted).await?;
        wanted = found.values().filter_map(|c| c.parent_id).collect();
        known.extend(found);
    }
    let mut out = std::collections::HashMap::new();
    for id in ids {
        let mut path = Vec::new();
        let mut next = Some(*id);
        while let Some(node) = next.and_then(|id| known.get(&id)) {
            path.push(node.clone());
            next = node.parent_id;
            if path.len() > 8 {
                break;
            }
        }
        path.reverse();
        out.insert(*id, path);
    }
    Ok(out)
}
