//! Notices of the 公示 board as every face describes them (the API's list and answers, the board
//! page, the sitemap): each with its nomination, resident, category and community path, loaded
//! for all of them at once — a fixed number of queries however many notices there are.

use sea_orm::ConnectionTrait;

use crate::store::entities::{nomination, public_notice, resident};
use crate::store::residents::{self, Visibility};
use crate::store::{categories, communities, nominations, StoreError, StoreResult};

/// A notice with what its answers show.
pub struct Described {
    pub notice: public_notice::Model,
    pub nomination: nomination::Model,
    pub resident: resident::Model,
    pub category: String,
    /// The community path from the root, `普陀区 › 长寿路街道 › 音乐广场`.
    pub community: String,
}

/// The notices in the order given; those whose resident `visibility` may not see are left out.
pub async fn describe(
    db: &impl ConnectionTrait,
    rows: Vec<public_notice::Model>,
    visibility: Visibility,
) -> StoreResult<Vec<Described>> {
    let nomination_ids: Vec<i64> = rows.iter().map(|n| n.nomination_id).collect();
    let nominations = nominations::get_many(db, &nomination_ids).await?;
    let resident_ids: Vec<i64> = nominations.values().map(|n| n.resident_id).collect();
    let people = residents::get_many(db, &resident_ids, visibility).await?;
    let categories = categories::by_id(db).await?;
    let community_ids: Vec<i64> = people.values().map(|r| r.community_id).collect();
    let paths = communities::paths(db, &community_ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for notice in rows {
        let nomination = nominations
            .get(&notice.nomination_id)
            .ok_or(StoreError::NotFound("nomination"))?;
        let Some(resident) = people.get(&nomination.resident_id) else {
            continue;
        };
        let category = categories
            .get(&nomination.category_id)
            .ok_or(StoreError::NotFound("category"))?;
        let community = paths
            .get(&resident.community_id)
            .map(|path| {
                path.iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" › ")
            })
            .unwrap_or_default();
        out.push(Described {
            notice,
            nomination: nomination.clone(),
            resident: resident.clone(),
            category: category.name.clone(),
            community,
        });
    }
    Ok(out)
}
