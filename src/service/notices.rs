//! Notices of the 公示 board as every face describes them (the API's list and answers, the board
//! page, the sitemap): each with its nomination, resident, category and community path, loaded
//! for all of them at once — a fixed number of queries however many notices there are — and the
//! one way to object to a notice.

use chrono::{DateTime, Duration, Utc};
use poem_openapi::Object;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::domain::nomination::ObjectionState;
use crate::domain::validation::{required_text, ValidationErrors};
use crate::store::entities::{nomination, objection, public_notice, resident};
use crate::store::residents::{self, Visibility};
use crate::store::{categories, communities, nominations, throttle, StoreError, StoreResult};

/// A public notice as the public sees it.
#[derive(Debug, Object)]
pub struct Notice {
    pub id: i64,
    pub nomination_id: i64,
    pub resident_id: i64,
    pub resident_name: String,
    pub resident_slug: String,
    /// 普陀区 › 长寿路街道 › 音乐广场
    pub community: String,
    pub category: String,
    pub honour_title: String,
    pub year: i32,
    /// 推荐理由.
    pub citation: String,
    pub opens_at: chrono::DateTime<chrono::Utc>,
    pub closes_at: chrono::DateTime<chrono::Utc>,
    /// Whether objections are still accepted.
    pub open: bool,
    /// Days left, rounded up: 7 when just opened, 1 on the last day, 0 once closed.
    pub days_left: i64,
}

/// An objection as reviewers see it, with the objector's private name and contact.
#[derive(Debug, Object)]
pub struct Objection {
    pub id: i64,
    pub notice_id: i64,
    pub receipt_code: String,
    pub objector_name: String,
    pub objector_contact: String,
    pub content: String,
    pub state: ObjectionState,
    pub resolution_note: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TryFrom<&objection::Model> for Objection {
    type Error = StoreError;
    fn try_from(o: &objection::Model) -> StoreResult<Self> {
        Ok(Objection {
            id: o.id,
            notice_id: o.notice_id,
            receipt_code: o.receipt_code.clone(),
            objector_name: o.objector_name.clone(),
            objector_contact: o.objector_contact.clone(),
            content: o.content.clone(),
            state: nominations::objection_state(o)?,
            resolution_note: o.resolution_note.clone(),
            created_at: o.created_at,
            decided_at: o.decided_at,
        })
    }
}

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

/// Objections accepted per client address per hour.
pub const OBJECTIONS_PER_ADDRESS_PER_HOUR: u64 = 5;

fn receipt_code() -> String {
    // Unambiguous characters (no 0/O, 1/I): easy to read out over the phone.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let bytes: [u8; 10] = rand::random();
    let code: String = bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect();
    format!("YD-{}-{}", &code[..5], &code[5..])
}

/// What an objector sends: the API's JSON and the notice page's form alike.
pub struct ObjectionText<'a> {
    /// 真实姓名, at most 40 characters.
    pub name: &'a str,
    /// 联系方式, at most 100 characters.
    pub contact: &'a str,
    /// 异议内容, at most 5,000 characters.
    pub content: &'a str,
}

/// Why an objection was not filed.
#[derive(Debug)]
pub enum ObjectionRefused {
    /// Fields missing, too long or holding control characters (`name`, `contact`, `content`).
    Invalid(ValidationErrors),
    /// The address has filed [`OBJECTIONS_PER_ADDRESS_PER_HOUR`] within the hour.
    TooMany,
    Store(StoreError),
}

impl From<StoreError> for ObjectionRefused {
    fn from(err: StoreError) -> Self {
        ObjectionRefused::Store(err)
    }
}

impl From<sea_orm::DbErr> for ObjectionRefused {
    fn from(err: sea_orm::DbErr) -> Self {
        ObjectionRefused::Store(err.into())
    }
}

/// File an objection to the open notice `notice_id` from `address` (the client's address as the
/// throttles count it): check the text, then store it with its audit event, unless the address
/// has filed [`OBJECTIONS_PER_ADDRESS_PER_HOUR`] within the hour. The count and the insert run
/// under the address's throttle lock, so objections sent at once are counted before any is
/// accepted. The one way to object, for the API and the objection form on the notice page.
pub async fn file_objection(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    notice_id: i64,
    text: ObjectionText<'_>,
    address: &str,
) -> Result<objection::Model, ObjectionRefused> {
    let mut errors = ValidationErrors::default();
    let name = required_text(&mut errors, "name", text.name, 40);
    let contact = required_text(&mut errors, "contact", text.contact, 100);
    let content = required_text(&mut errors, "content", text.content, 5000);
    if !errors.is_empty() {
        return Err(ObjectionRefused::Invalid(errors));
    }
    let (name, contact, content) = (name.as_str(), contact.as_str(), content.as_str());
    let code = receipt_code();
    let lock = throttle::lock(db, &[format!("objections:{address}")]).await?;
    let recent =
        nominations::objections_from_address_since(&lock, address, now - Duration::hours(1))
            .await?;
    if recent >= OBJECTIONS_PER_ADDRESS_PER_HOUR {
        lock.release().await?;
        return Err(ObjectionRefused::TooMany);
    }
    let txn = lock.begin().await?;
    let o = nominations::insert_objection(
        &txn,
        nominations::NewObjection {
            notice_id,
            receipt_code: &code,
            objector_name: name,
            objector_contact: contact,
            content,
            address_hash: address,
        },
        now,
    )
    .await?;
    let event = crate::store::audit::Event {
        action: "objection.file",
        entity_kind: "objection",
        entity_id: o.id,
        before: None,
        after: Some(serde_json::json!({ "notice_id": notice_id, "receipt_code": code })),
    };
    crate::store::audit::record(
        &txn,
        &crate::store::audit::Actor::system("公众"),
        event,
        now,
    )
    .await?;
    txn.commit().await?;
    lock.release().await?;
    Ok(o)
}
