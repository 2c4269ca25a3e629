//! Honour categories: the five national ones (fixed) and local ones that admins manage.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use super::entities::category::{ActiveModel, Column, Entity, Model};
use super::{StoreError, StoreResult};

pub async fn list(db: &impl ConnectionTrait, include_inactive: bool) -> StoreResult<Vec<Model>> {
    let mut query = Entity::find().order_by_asc(Column::Id);
    if !include_inactive {
        query = query.filter(Column::Active.eq(true));
    }
    Ok(query.all(db).await?)
}

/// Every category by id (a handful of rows), for lists that name one per item.
pub async fn by_id(
    db: &impl ConnectionTrait,
) -> StoreResult<std::collections::HashMap<i64, Model>> {
    let rows = list(db, true).await?;
    for c in &rows {
        super::reads::row("category", c.id);
    }
    Ok(rows.into_iter().map(|c| (c.id, c)).collect())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    super::reads::row("category", id);
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("category"))
}

pub async fn find_by_code(db: &impl ConnectionTrait, code: &str) -> StoreResult<Option<Model>> {
    Ok(Entity::find().filter(Column::Code.eq(code)).one(db).await?)
}

pub async fn insert_local(
    db: &impl ConnectionTrait,
    code: &str,
    name: &str,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    if find_by_code(db, code).await?.is_some() {
        return Err(StoreError::Conflict(format!("类别代码“{code}”已存在")));
    }
    let model = ActiveModel {
        code: Set(code.to_string()),
        name: Set(name.to_string()),
        origin: Set("local".into()),
        active: Set(true),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    };
    Ok(model.insert(db).await?)
}

/// Rename or (de)activate a local category; the national ones are fixed.
pub async fn update_local(
    db: &impl ConnectionTrait,
    id: i64,
    name: &str,
    active: bool,
) -> StoreResult<Model> {
    let category = get(db, id).await?;
    if category.origin != "local" {
        return Err(StoreError::Conflict("全国性类别不能修改".into()));
    }
    let version = category.version;
    let mut model: ActiveModel = category.into();
    model.name = Set(name.to_string());
    model.active = Set(active);
    model.version = Set(version + 1);
    Ok(model.update(db).await?)
}
