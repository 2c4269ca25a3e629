//! Recognitions (表彰) as every face shows them: the resident, their community and the category,
//! read for a whole page at once.

use poem_openapi::Object;
use sea_orm::ConnectionTrait;

use crate::store::entities::recognition::Model;
use crate::store::residents::{self, Visibility};
use crate::store::{categories, communities, StoreError};

#[derive(Debug, Object)]
pub struct Recognition {
    pub id: i64,
    pub nomination_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub resident_slug: String,
    pub community_id: i64,
    pub community_name: String,
    pub category_code: String,
    pub category_name: String,
    /// e.g. "2019年度长寿路街道有德之士".
    pub title: String,
    pub year: i32,
    pub citation: String,
    pub recognised_on: chrono::NaiveDate,
    /// Staff only: set when revoked.
    #[oai(skip_serializing_if_is_none)]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    #[oai(skip_serializing_if_is_none)]
    pub revoke_reason: Option<String>,
}

pub async fn view(db: &impl ConnectionTrait, r: Model) -> Result<Recognition, StoreError> {
    Ok(views(db, vec![r]).await?.remove(0))
}

/// The answers for a page of recognitions: their residents, communities and categories loaded
/// in three queries for the whole page, not three per item.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<Model>,
) -> Result<Vec<Recognition>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|r| r.resident_id).collect();
    let people = residents::get_many(db, &ids, Visibility::Staff).await?;
    let community_ids: Vec<i64> = people.values().map(|p| p.community_id).collect();
    let community_names = communities::names(db, &community_ids).await?;
    let categories = categories::by_id(db).await?;
    rows.into_iter()
        .map(|r| {
            let resident = people
                .get(&r.resident_id)
                .ok_or(StoreError::NotFound("resident"))?;
            let category = categories
                .get(&r.category_id)
                .ok_or(StoreError::NotFound("category"))?;
            Ok(Recognition {
                id: r.id,
                nomination_id: r.nomination_id,
                resident_id: resident.id,
                resident_name: resident.name.clone(),
                resident_slug: resident.slug.clone(),
                community_id: resident.community_id,
                community_name: community_names
                    .get(&resident.community_id)
                    .cloned()
                    .ok_or(StoreError::NotFound("community"))?,
                category_code: category.code.clone(),
                category_name: category.name.clone(),
                title: r.title,
                year: r.year,
                citation: r.citation,
                recognised_on: r.recognised_on,
                revoked_at: r.revoked_at,
                revoke_reason: r.revoke_reason,
            })
        })
        .collect()
}
