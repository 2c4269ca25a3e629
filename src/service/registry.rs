//! The registry's records as every face shows them: residents (private fields only for staff who
//! may read them), communities and consents.

use poem_openapi::Object;

use crate::domain::consent::ConsentScope;
use crate::store::entities::{community, consent, resident};
use crate::store::residents::Visibility;
use crate::store::{communities, StoreError, StoreResult};

/// Refuse (422 on `community_id`, as for a community that does not exist) to file a resident
/// under a community the member of staff does not reach.
pub async fn check_community_reached(
    db: &impl sea_orm::ConnectionTrait,
    reach: Visibility,
    community_id: i64,
) -> StoreResult<()> {
    if let Visibility::Within(root) = reach {
        if !communities::is_within(db, community_id, root).await? {
            let mut errors = crate::domain::ValidationErrors::default();
            errors.add("community_id", format!("社区 {community_id} 不存在"));
            return Err(StoreError::Invalid(errors));
        }
    }
    Ok(())
}

/// An object of resident `resident_id` (a nomination, a certificate, …) exists for this reader
/// only when the resident does: otherwise it is `what` not found (404), as if it never existed.
pub async fn reach_resident(
    db: &impl sea_orm::ConnectionTrait,
    reach: Visibility,
    resident_id: i64,
    what: &'static str,
) -> StoreResult<()> {
    if matches!(reach, Visibility::Within(_)) {
        match crate::store::residents::get(db, resident_id, reach).await {
            Ok(_) => {}
            Err(StoreError::NotFound(_)) => return Err(StoreError::NotFound(what)),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Refuse (422 on `field`, as for a resident that does not exist) a reference to a resident the
/// member of staff does not reach.
pub async fn check_resident_reached(
    db: &impl sea_orm::ConnectionTrait,
    reach: Visibility,
    field: &str,
    resident_id: i64,
) -> StoreResult<()> {
    match reach_resident(db, reach, resident_id, "resident").await {
        Err(StoreError::NotFound(_)) => {
            let mut errors = crate::domain::ValidationErrors::default();
            errors.add(field, format!("居民 {resident_id} 不存在"));
            Err(StoreError::Invalid(errors))
        }
        other => other,
    }
}

/// A resident. `phone`, `id_number`, `birth_year` and `address` are private: they appear only in
/// answers to staff, and are absent (not null) for everyone else.
#[derive(Debug, Object)]
pub struct Resident {
    pub id: i64,
    pub name: String,
    /// Derived from the name: "sun jianwei".
    pub pinyin: String,
    /// URL slug from the pinyin, unique: `sun-jianwei`, `sun-jianwei-2`. Stays when the name changes.
    pub slug: String,
    pub community_id: i64,
    /// Public citation / bio (Markdown).
    pub citation: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub phone: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub id_number: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    pub birth_year: Option<i32>,
    #[oai(skip_serializing_if_is_none)]
    pub address: Option<String>,
    /// When the resident was erased on request (PIPL Art. 47); staff only ever see this.
    #[oai(skip_serializing_if_is_none)]
    pub erased_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Resident {
    pub fn view(m: resident::Model, visibility: Visibility) -> Self {
        let staff = visibility.is_staff();
        Resident {
            id: m.id,
            name: m.name,
            pinyin: m.pinyin,
            slug: m.slug,
            community_id: m.community_id,
            citation: m.citation,
            phone: m.phone.filter(|_| staff),
            id_number: m.id_number.filter(|_| staff),
            birth_year: m.birth_year.filter(|_| staff),
            address: m.address.filter(|_| staff),
            erased_at: m.erased_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct Community {
    pub id: i64,
    pub name: String,
    /// `district` (区), `subdistrict` (街道), `residential_area` (居民区) or `compound` (小区).
    pub kind: String,
    pub parent_id: Option<i64>,
    /// URL slug from the pinyin of the name, unique.
    pub slug: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<community::Model> for Community {
    fn from(m: community::Model) -> Self {
        Community {
            id: m.id,
            name: m.name,
            kind: m.kind,
            parent_id: m.parent_id,
            slug: m.slug,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct Consent {
    pub id: i64,
    pub resident_id: i64,
    pub scope: ConsentScope,
    /// Version of the consent text the resident signed.
    pub text_version: String,
    pub signed_on: chrono::NaiveDate,
    pub recorded_by: String,
    pub evidence: Option<String>,
    /// Set once withdrawn (撤回); the scope is then no longer consented.
    pub withdrawn_on: Option<chrono::NaiveDate>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<consent::Model> for Consent {
    type Error = StoreError;
    fn try_from(m: consent::Model) -> StoreResult<Self> {
        let scope = m.scope.parse().map_err(|()| {
            StoreError::Corrupt(format!("consent {}: unknown scope {:?}", m.id, m.scope))
        })?;
        Ok(Consent {
            id: m.id,
            resident_id: m.resident_id,
            scope,
            text_version: m.text_version,
            signed_on: m.signed_on,
            recorded_by: m.recorded_by,
            evidence: m.evidence,
            withdrawn_on: m.withdrawn_on,
            created_at: m.created_at,
        })
    }
}
