//! Stories as every face shows them (the API, the pages, the feeds, the console, the issue
//! packs): the story with its linked residents as the viewer may see them and its photos.

use std::collections::HashMap;

use poem_openapi::Object;
use sea_orm::ConnectionTrait;

use super::photos::Photo;
use crate::domain::photo::OwnerKind;
use crate::markdown;
use crate::store::entities::story::Model;
use crate::store::photos::Reader;
use crate::store::residents::{self, Visibility};
use crate::store::{communities, photos, stories, StoreError};

/// A linked resident: the name always; the profile link only when their profile is public.
#[derive(Debug, Clone, Object)]
pub struct StoryResident {
    pub id: i64,
    pub name: String,
    pub slug: Option<String>,
    pub community: String,
}

#[derive(Debug, Object)]
pub struct Story {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub subtitle: Option<String>,
    /// 栏目 / kicker, e.g. 长寿先锋.
    pub section: Option<String>,
    /// Theme tags, e.g. 有德之士.
    pub themes: Vec<String>,
    /// e.g. 记者 周晶.
    pub byline: Option<String>,
    /// Markdown as written.
    pub body: String,
    /// The body rendered to sanitised HTML.
    pub body_html: String,
    pub recognition_story: bool,
    pub featured: bool,
    /// `draft` or `published`.
    pub state: String,
    pub published_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the story needs an editor's attention: set when it was taken back to draft because a
    /// resident it named was deleted or erased; cleared when it is published again.
    pub attention: Option<String>,
    pub resident_ids: Vec<i64>,
    pub residents: Vec<StoryResident>,
    /// The public page.
    pub url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// The story's public photos: its own (`owner_kind` = `story`) in upload order; when it has
    /// none, the public photos of the residents it names, in their order. The first is the lead
    /// photo of the story page, the feeds and the issue pack.
    pub photos: Vec<Photo>,
}

/// Photos a story shows at most (its own, or its residents').
const STORY_PHOTOS: usize = 50;

/// Each story's public photos: its own in upload order; when it has none, the public photos of
/// the residents it names, in their order. Four queries for any number of stories.
async fn stories_photos(
    db: &impl ConnectionTrait,
    story_ids: &[i64],
    named: &HashMap<i64, Vec<i64>>,
) -> Result<HashMap<i64, Vec<Photo>>, StoreError> {
    let own = photos::of_owners(
        db,
        OwnerKind::Story,
        story_ids,
        Reader::Public,
        STORY_PHOTOS,
    )
    .await?;
    let has_own = |id: &i64| own.get(id).is_some_and(|p| !p.is_empty());
    let mut borrowed: Vec<i64> = story_ids
        .iter()
        .filter(|id| !has_own(id))
        .flat_map(|id| named.get(id).into_iter().flatten().copied())
        .collect();
    borrowed.sort_unstable();
    borrowed.dedup();
    let of_residents = photos::of_owners(
        db,
        OwnerKind::Resident,
        &borrowed,
        Reader::Public,
        STORY_PHOTOS,
    )
    .await?;
    let mut shown: Vec<(i64, Vec<i64>)> = Vec::with_capacity(story_ids.len());
    let mut rows: HashMap<i64, crate::store::entities::photo::Model> = HashMap::new();
    for id in story_ids {
        let chosen: Vec<&crate::store::entities::photo::Model> = if has_own(id) {
            own[id].iter().collect()
        } else {
            named
                .get(id)
                .into_iter()
                .flatten()
                .flat_map(|r| of_residents.get(r).into_iter().flatten())
                .collect()
        };
        for m in &chosen {
            rows.entry(m.id).or_insert_with(|| (*m).clone());
        }
        shown.push((*id, chosen.iter().map(|m| m.id).collect()));
    }
    let mut rows: Vec<_> = rows.into_values().collect();
    rows.sort_by_key(|m| m.id);
    let views: HashMap<i64, Photo> = super::photos::views(db, rows, Visibility::Public)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    Ok(shown
        .into_iter()
        .map(|(story, ids)| {
            (
                story,
                ids.iter().filter_map(|p| views.get(p).cloned()).collect(),
            )
        })
        .collect())
}

/// The story as the public sees it (pages, feeds): see [`view_as`].
pub async fn view(
    db: &impl ConnectionTrait,
    public_url: &str,
    m: Model,
) -> Result<Story, StoreError> {
    view_as(db, public_url, m, Visibility::Public).await
}

/// The story for a viewer: see [`views_as`].
pub async fn view_as(
    db: &impl ConnectionTrait,
    public_url: &str,
    m: Model,
    visibility: Visibility,
) -> Result<Story, StoreError> {
    let mut one = views_as(db, public_url, vec![m], visibility).await?;
    Ok(one.remove(0))
}

/// Stories for a viewer, in the order given, in a fixed number of queries however many there are
/// (lists, feeds, issue pages and packs). A linked resident shows their name and community to
/// staff who may read private data, and otherwise only when the public may see them — a public
/// profile, or consent to appear in stories; editors see the others as [`HIDDEN_RESIDENT`], as
/// the public would.
///
/// [`HIDDEN_RESIDENT`]: crate::domain::story::HIDDEN_RESIDENT
pub async fn views_as(
    db: &impl ConnectionTrait,
    public_url: &str,
    rows: Vec<Model>,
    visibility: Visibility,
) -> Result<Vec<Story>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let named = stories::resident_ids_of(db, &ids).await?;
    let mut everyone: Vec<i64> = named.values().flatten().copied().collect();
    everyone.sort_unstable();
    everyone.dedup();
    let people = residents::get_many(db, &everyone, Visibility::Staff).await?;
    let public = residents::get_many(db, &everyone, Visibility::Public).await?;
    let consenting = stories::consenting_to_stories(db, &everyone).await?;
    // Scoped staff see, beyond what the public sees, only the residents they reach.
    let reached = match visibility {
        Visibility::Within(_) => Some(residents::get_many(db, &everyone, visibility).await?),
        Visibility::Public | Visibility::Staff => None,
    };
    let mut community_ids: Vec<i64> = people.values().map(|r| r.community_id).collect();
    community_ids.sort_unstable();
    community_ids.dedup();
    let places = communities::get_many(db, &community_ids).await?;
    let mut photos = stories_photos(db, &ids, &named).await?;
    let mut out = Vec::with_capacity(rows.len());
    for m in rows {
        let resident_ids = named.get(&m.id).cloned().unwrap_or_default();
        let mut linked = Vec::new();
        for id in &resident_ids {
            let Some(r) = people.get(id) else { continue };
            let is_public = public.contains_key(id);
            let staff_sees = match &reached {
                Some(reached) => reached.contains_key(id),
                None => visibility.is_staff(),
            };
            let shown = is_public || staff_sees || consenting.contains(id);
            linked.push(if shown {
                StoryResident {
                    id: r.id,
                    name: r.name.clone(),
                    slug: is_public.then(|| r.slug.clone()),
                    community: places
                        .get(&r.community_id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                }
            } else {
                StoryResident {
                    id: r.id,
                    name: crate::domain::story::HIDDEN_RESIDENT.into(),
                    slug: None,
                    community: String::new(),
                }
            });
        }
        out.push(Story {
            id: m.id,
            url: format!("{public_url}/stories/{}", m.slug),
            slug: m.slug.clone(),
            themes: stories::themes(&m),
            body_html: markdown::to_safe_html(&m.body),
            photos: photos.remove(&m.id).unwrap_or_default(),
            title: m.title,
            subtitle: m.subtitle,
            section: m.section,
            byline: m.byline,
            body: m.body,
            recognition_story: m.recognition_story,
            featured: m.featured,
            state: m.state,
            published_at: m.published_at,
            attention: m.attention,
            resident_ids,
            residents: linked,
            created_at: m.created_at,
            updated_at: m.updated_at,
        });
    }
    Ok(out)
}
