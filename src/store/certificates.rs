//! Certificates (证书): numbers taken from a counter row per year inside the issuing transaction,
//! the certificates themselves, and the failed public look-ups that throttle guessing.
//!
//! Numbering is gap-free and unique because the counter is bumped with one
//! `INSERT … ON CONFLICT DO UPDATE … RETURNING` in the issuing transaction: on PostgreSQL the
//! counter row stays locked until that transaction ends, so concurrent issuers take turns and a
//! rolled-back issue gives its number back; SQLite has one writer at a time. `UNIQUE(year, seq)`
//! and `UNIQUE(number)` stand behind it.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, Statement,
};

use super::entities::certificate::{ActiveModel, Column, Entity, Model};
use super::{Page, StoreError, StoreResult};
use crate::domain::certificate::{self, Settings};

/// The next sequence number of `year`. Run it as the first statement of the issuing transaction:
/// it takes the write lock (SQLite) or the counter row's lock (PostgreSQL) before anything is
/// read, so what the transaction reads afterwards is not overtaken by another issuer.
pub async fn next_seq(db: &impl ConnectionTrait, year: i32) -> StoreResult<i32> {
    let backend = db.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "INSERT INTO certificate_counters (year, last) VALUES ({placeholder}, 1) \
         ON CONFLICT (year) DO UPDATE SET last = certificate_counters.last + 1 RETURNING last"
    );
    let row = db
        .query_one(Statement::from_sql_and_values(backend, sql, [year.into()]))
        .await?
        .ok_or(StoreError::NotFound("certificate counter"))?;
    Ok(row.try_get::<i32>("", "last")?)
}

/// What a new certificate states.
pub struct NewCertificate<'a> {
    pub kind: &'a str,
    pub recognition_id: Option<i64>,
    pub resident_id: i64,
    pub holder_name: &'a str,
    pub title: &'a str,
    pub category: &'a str,
    pub citation: &'a str,
    pub issued_on: NaiveDate,
    pub issued_by: i64,
    /// 志愿服务记录证明 only (else `None`).
    pub hours: Option<HoursFacts<'a>>,
}

/// What a 志愿服务记录证明 states beyond an honour's certificate.
pub struct HoursFacts<'a> {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub hours: f64,
    /// As printed, e.g. `3101**********4411`; never the full number.
    pub masked_id_number: &'a str,
}

/// The issuing body and signatory of a certificate for `resident_id`: the settings, with the
/// names of the holder's district and 街道 filled in where they ask for them.
async fn issuer_of(
    db: &impl ConnectionTrait,
    resident_id: i64,
    settings: &Settings,
) -> StoreResult<(String, String)> {
    if !certificate::names_the_tree(&settings.issuing_body)
        && !certificate::names_the_tree(&settings.signatory)
    {
        return Ok((settings.issuing_body.clone(), settings.signatory.clone()));
    }
    let resident =
        super::residents::get(db, resident_id, super::residents::Visibility::Staff).await?;
    let path = super::communities::path(db, resident.community_id).await?;
    let named = |kind: crate::domain::community::CommunityKind| {
        path.iter()
            .find(|c| c.kind == kind.code())
            .map(|c| c.name.as_str())
    };
    let district = named(crate::domain::community::CommunityKind::District);
    let subdistrict = named(crate::domain::community::CommunityKind::Subdistrict);
    Ok((
        certificate::fill_issuer(&settings.issuing_body, district, subdistrict),
        certificate::fill_issuer(&settings.signatory, district, subdistrict),
    ))
}

/// Issue a certificate numbered `seq` of its year (from [`next_seq`] in the same transaction).
pub async fn insert(
    db: &impl ConnectionTrait,
    new: &NewCertificate<'_>,
    settings: &Settings,
    seq: i32,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let year = chrono::Datelike::year(&new.issued_on);
    let (issuing_body, signatory) = issuer_of(db, new.resident_id, settings).await?;
    Ok(ActiveModel {
        kind: Set(new.kind.into()),
        recognition_id: Set(new.recognition_id),
        resident_id: Set(new.resident_id),
        year: Set(year),
        seq: Set(seq),
        number: Set(certificate::number(&settings.prefix, year, seq)),
        verification_code: Set(certificate::new_verification_code()),
        holder_name: Set(new.holder_name.into()),
        title: Set(new.title.into()),
        category: Set(new.category.into()),
        citation: Set(new.citation.into()),
        issuing_body: Set(issuing_body),
        signatory: Set(signatory),
        issued_on: Set(new.issued_on),
        issued_by: Set(new.issued_by),
        superseded_by: Set(None),
        superseded_at: Set(None),
        revoked_at: Set(None),
        revoke_reason: Set(None),
        period_start: Set(new.hours.as_ref().map(|h| h.period_start)),
        period_end: Set(new.hours.as_ref().map(|h| h.period_end)),
        hours: Set(new.hours.as_ref().map(|h| h.hours)),
        masked_id_number: Set(new.hours.as_ref().map(|h| h.masked_id_number.to_string())),
        version: Set(1),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> StoreResult<Model> {
    Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("certificate"))
}

pub async fn by_code(db: &impl ConnectionTrait, code: &str) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::VerificationCode.eq(code))
        .one(db)
        .await?)
}

/// The certificate with this number, if it was issued to `holder_name`: a number alone does
/// not say whom it names.
pub async fn by_number_and_name(
    db: &impl ConnectionTrait,
    number: &str,
    holder_name: &str,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Number.eq(number))
        .filter(Column::HolderName.eq(holder_name))
        .one(db)
        .await?)
}

/// The standing certificate (neither revoked nor superseded) of a recognition, if any.
pub async fn standing_of_recognition(
    db: &impl ConnectionTrait,
    recognition_id: i64,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::RecognitionId.eq(recognition_id))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::SupersededBy.is_null())
        .one(db)
        .await?)
}

/// The standing 志愿服务记录证明 of a resident for exactly this period, if any.
pub async fn standing_for_period(
    db: &impl ConnectionTrait,
    resident_id: i64,
    period_start: NaiveDate,
    period_end: NaiveDate,
) -> StoreResult<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Kind.eq("hours"))
        .filter(Column::ResidentId.eq(resident_id))
        .filter(Column::PeriodStart.eq(period_start))
        .filter(Column::PeriodEnd.eq(period_end))
        .filter(Column::RevokedAt.is_null())
        .filter(Column::SupersededBy.is_null())
        .one(db)
        .await?)
}

pub struct ListFilter {
    pub after: Option<i64>,
    pub limit: u64,
    pub year: Option<i32>,
    pub recognition_id: Option<i64>,
    pub resident_id: Option<i64>,
    pub kind: Option<String>,
    /// Only certificates of residents this reader reaches.
    pub reach: super::residents::Visibility,
}

/// Certificates in the order they were issued (by id), keyset-paginated.
pub async fn list(db: &impl ConnectionTrait, f: ListFilter) -> StoreResult<Page<Model>> {
    let rows = Entity::find()
        .order_by_asc(Column::Id)
        .limit(f.limit + 1)
        .apply_if(f.after, |q, a| q.filter(Column::Id.gt(a)))
        .apply_if(f.year, |q, y| q.filter(Column::Year.eq(y)))
        .apply_if(f.recognition_id, |q, r| {
            q.filter(Column::RecognitionId.eq(r))
        })
        .apply_if(f.resident_id, |q, r| q.filter(Column::ResidentId.eq(r)))
        .apply_if(f.kind, |q, k| q.filter(Column::Kind.eq(k)))
        .apply_if(
            f.reach.reach_condition("certificates", "resident_id"),
            |q, c| q.filter(c),
        )
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, f.limit, |m| m.id))
}

/// Mark `old` as replaced by `new_id` (a reissue). Refuses one that is no longer standing.
pub async fn supersede(
    db: &impl ConnectionTrait,
    old: &Model,
    new_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    refuse_unless_standing(old)?;
    let mut active: ActiveModel = old.clone().into();
    active.superseded_by = Set(Some(new_id));
    active.superseded_at = Set(Some(now));
    active.version = Set(old.version + 1);
    Ok(active.update(db).await?)
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Model> {
    let current = get(db, id).await?;
    if current.revoked_at.is_some() {
        return Err(StoreError::Conflict("该证书已撤销".into()));
    }
    let version = current.version;
    let mut active: ActiveModel = current.into();
    active.revoked_at = Set(Some(now));
    active.revoke_reason = Set(Some(reason.to_string()));
    active.version = Set(version + 1);
    Ok(active.update(db).await?)
}

/// Revoke every certificate of a recognition not yet revoked (the recognition was revoked);
/// returns them as they were and as they are now.
pub async fn revoke_of_recognition(
    db: &impl ConnectionTrait,
    recognition_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(Model, Model)>> {
    let open = Entity::find()
        .filter(Column::RecognitionId.eq(recognition_id))
        .filter(Column::RevokedAt.is_null())
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let mut changed = Vec::with_capacity(open.len());
    for before in open {
        let after = revoke(db, before.id, reason, now).await?;
        changed.push((before, after));
    }
    Ok(changed)
}

/// A resident's information was erased (PIPL Art. 47): revoke every certificate of theirs not yet
/// revoked, and clear the masked ID number from all of them (the verify page then states the
/// name, what was certified and that it is revoked). Returns the changed ones as they were and
/// as they are now.
pub async fn withdraw_for_erasure(
    db: &impl ConnectionTrait,
    resident_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(Model, Model)>> {
    let theirs = Entity::find()
        .filter(Column::ResidentId.eq(resident_id))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    let mut changed = Vec::new();
    for before in theirs {
        if before.revoked_at.is_some() && before.masked_id_number.is_none() {
            continue;
        }
        let mut active: ActiveModel = before.clone().into();
        if before.revoked_at.is_none() {
            active.revoked_at = Set(Some(now));
            active.revoke_reason = Set(Some(reason.to_string()));
        }
        active.masked_id_number = Set(None);
        active.version = Set(before.version + 1);
        let after = active.update(db).await?;
        changed.push((before, after));
    }
    Ok(changed)
}

/// A certificate that was revoked or reissued cannot be reissued again.
pub fn refuse_unless_standing(m: &Model) -> StoreResult<()> {
    if m.revoked_at.is_some() {
        return Err(StoreError::Conflict("该证书已撤销，不能补发".into()));
    }
    if m.superseded_by.is_some() {
        return Err(StoreError::Conflict(
            "该证书已被新证书替代，请补发最新的证书".into(),
        ));
    }
    Ok(())
}

/// Failed public look-ups from `address_hash` since `since`.
pub async fn misses_since(
    db: &impl ConnectionTrait,
    address_hash: &str,
    since: DateTime<Utc>,
) -> StoreResult<u64> {
    use super::entities::certificate_lookup_miss as miss;
    Ok(miss::Entity::find()
        .filter(miss::Column::AddressHash.eq(address_hash))
        .filter(miss::Column::At.gt(since))
        .count(db)
        .await?)
}

/// Record a failed look-up, and forget those older than `forget_before` (they decide nothing
/// any more), so the table holds one window's worth.
pub async fn record_miss(
    db: &impl ConnectionTrait,
    address_hash: &str,
    now: DateTime<Utc>,
    forget_before: DateTime<Utc>,
) -> StoreResult<()> {
    use super::entities::certificate_lookup_miss as miss;
    miss::Entity::delete_many()
        .filter(miss::Column::At.lt(forget_before))
        .exec(db)
        .await?;
    miss::ActiveModel {
        address_hash: Set(address_hash.into()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The number of the certificate that replaced this one, if it was reissued.
pub async fn successor_number(db: &impl ConnectionTrait, m: &Model) -> StoreResult<Option<String>> {
    let Some(id) = m.superseded_by else {
        return Ok(None);
    };
    Ok(Entity::find_by_id(id)
        .select_only()
        .column(Column::Number)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// The seal in use: the latest uploaded.
pub async fn current_seal(
    db: &impl ConnectionTrait,
) -> StoreResult<Option<super::entities::certificate_seal::Model>> {
    use super::entities::certificate_seal as seal;
    Ok(seal::Entity::find()
        .order_by_desc(seal::Column::Id)
        .one(db)
        .await?)
}

/// What an uploaded seal is, once its file is stored.
pub struct NewSeal<'a> {
    pub object_key: &'a str,
    pub sha256: &'a str,
    pub width: u32,
    pub height: u32,
    pub size_bytes: usize,
    pub uploaded_by: i64,
}

/// Record an uploaded seal; from now on it is the one in use.
pub async fn insert_seal(
    db: &impl ConnectionTrait,
    new: &NewSeal<'_>,
    now: DateTime<Utc>,
) -> StoreResult<super::entities::certificate_seal::Model> {
    use super::entities::certificate_seal as seal;
    Ok(seal::ActiveModel {
        object_key: Set(new.object_key.into()),
        sha256: Set(new.sha256.into()),
        width: Set(new.width as i32),
        height: Set(new.height as i32),
        size_bytes: Set(new.size_bytes as i64),
        uploaded_by: Set(new.uploaded_by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}
