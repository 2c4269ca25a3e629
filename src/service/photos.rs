//! Photos as every face shows them: the API's answers, the pages' galleries, the console's lists
//! and the stories' lead photos, each with its renditions and the residents it shows.

use std::collections::HashMap;

use poem_openapi::Object;
use sea_orm::ConnectionTrait;

use crate::domain::policy::Action;
use crate::media::processing::Variant;
use crate::service::auth::Viewer;
use crate::store::entities::{photo::Model, photo_file};
use crate::store::photos::{self, Reader};
use crate::store::residents::{self, Visibility};
use crate::store::{StoreError, StoreResult};

/// One stored rendition.
#[derive(Debug, Clone, Object)]
pub struct Derivative {
    /// Where to fetch it: `/media/<sha256>.jpg`, cacheable for ever.
    pub url: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
}

/// The renditions of a photo, all JPEG without any metadata (no EXIF, no GPS).
#[derive(Debug, Clone, Object)]
pub struct Derivatives {
    /// About 320 px on the long edge.
    pub thumbnail: Derivative,
    /// About 1280 px on the long edge.
    pub page: Derivative,
    /// Up to 2480 px on the long edge (A4 at 300 dpi); smaller originals are not upscaled.
    pub print: Derivative,
}

#[derive(Debug, Clone, Object)]
pub struct Photo {
    pub id: i64,
    /// `resident`, `activity` or `story`.
    pub owner_kind: String,
    pub owner_id: i64,
    pub caption: Option<String>,
    /// Who took it, e.g. "记者 周晶".
    pub credit: Option<String>,
    /// Text alternative for readers who cannot see the picture.
    pub alt: Option<String>,
    /// Partial date: `2019`, `2019-08` or `2019-08-30`.
    pub taken_on: Option<String>,
    /// Residents shown. Anonymous readers see only public residents.
    pub resident_ids: Vec<i64>,
    /// Upright size of the uploaded picture, in pixels.
    pub width: i32,
    pub height: i32,
    pub derivatives: Derivatives,
    /// Staff only: whether the public can see the photo right now.
    #[oai(skip_serializing_if_is_none)]
    pub public: Option<bool>,
    /// Staff only: the token that uploaded it.
    #[oai(skip_serializing_if_is_none)]
    pub uploaded_by: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn derivative(files: &[&photo_file::Model], variant: Variant) -> StoreResult<Derivative> {
    let file = files
        .iter()
        .find(|f| f.variant == variant.code())
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "photo {:?}: the {} rendition row is missing",
                files.first().map(|f| f.photo_id),
                variant.code()
            ))
        })?;
    Ok(Derivative {
        url: format!("/media/{}", file.object_key),
        width: file.width,
        height: file.height,
        bytes: file.size_bytes,
    })
}

/// The answers for `rows`, loading their files and residents in two queries.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<Model>,
    visibility: Visibility,
) -> StoreResult<Vec<Photo>> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let files = photos::files(db, &ids).await?;
    let mut shown: HashMap<i64, Vec<i64>> = HashMap::new();
    for (photo_id, resident_id) in photos::residents_shown(db, &ids).await? {
        shown.entry(photo_id).or_default().push(resident_id);
    }
    // Which photos this reader sees as staff: all, none, or (scoped staff) those of residents
    // they reach; the others as the public does.
    let as_staff: std::collections::HashSet<i64> = match visibility {
        Visibility::Public => Default::default(),
        Visibility::Staff => ids.iter().copied().collect(),
        Visibility::Within(_) => {
            let owners: Vec<i64> = rows.iter().filter_map(|m| m.resident_id).collect();
            let reached = residents::get_many(db, &owners, visibility).await?;
            rows.iter()
                .filter(|m| m.resident_id.is_some_and(|r| reached.contains_key(&r)))
                .map(|m| m.id)
                .collect()
        }
    };
    // Who of everyone shown is public, in one query for all the photos.
    let public_shown: std::collections::HashSet<i64> = if visibility != Visibility::Staff {
        let all: Vec<i64> = shown.values().flatten().copied().collect();
        residents::public_subset(db, &all)
            .await?
            .into_iter()
            .collect()
    } else {
        Default::default()
    };
    // Scoped staff: of the people pictured, those they reach (and the public ones) are named.
    let shown_reached: std::collections::HashSet<i64> = match visibility {
        Visibility::Within(_) => {
            let all: Vec<i64> = shown.values().flatten().copied().collect();
            residents::get_many(db, &all, visibility)
                .await?
                .into_keys()
                .collect()
        }
        Visibility::Public | Visibility::Staff => Default::default(),
    };
    // Whether each photo staff see is public, in one query for all of them.
    let staff_ids: Vec<i64> = as_staff.iter().copied().collect();
    let public_photos = photos::public_among(db, &staff_ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let own: Vec<&photo_file::Model> = files.iter().filter(|f| f.photo_id == m.id).collect();
        let mut resident_ids = shown.remove(&m.id).unwrap_or_default();
        let (public, uploaded_by) = if as_staff.contains(&m.id) {
            if let Visibility::Within(_) = visibility {
                resident_ids.retain(|id| shown_reached.contains(id) || public_shown.contains(id));
            }
            (
                Some(public_photos.contains(&m.id)),
                Some(m.uploaded_by.clone()),
            )
        } else {
            resident_ids.retain(|id| public_shown.contains(id));
            (None, None)
        };
        let owner = photos::owner_of(&m)
            .ok_or_else(|| StoreError::Corrupt(format!("photo {}: no valid owner", m.id)))?;
        out.push(Photo {
            id: m.id,
            owner_kind: owner.kind.code().to_string(),
            owner_id: owner.id,
            caption: m.caption,
            credit: m.credit,
            alt: m.alt,
            taken_on: m.taken_on,
            resident_ids,
            width: m.width,
            height: m.height,
            derivatives: Derivatives {
                thumbnail: derivative(&own, Variant::Thumbnail)?,
                page: derivative(&own, Variant::Page)?,
                print: derivative(&own, Variant::Print)?,
            },
            public,
            uploaded_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        });
    }
    Ok(out)
}

/// One photo's answer: see [`views`].
pub async fn view(
    db: &impl ConnectionTrait,
    m: Model,
    visibility: Visibility,
) -> StoreResult<Photo> {
    Ok(views(db, vec![m], visibility).await?.remove(0))
}

/// How the caller reads photos: staff see all, editors also every story's own photos (drafts
/// included), everyone else what is public.
pub fn reader(viewer: &Viewer) -> Reader {
    let visibility = viewer.visibility();
    if visibility.is_staff() {
        visibility.into()
    } else if viewer.may(Action::EditStories) {
        Reader::Editor
    } else {
        Reader::Public
    }
}
