//! The public pages: the home page, the honour roll, recognition pages (and their print view) and
//! communities; the 公示 board is in `notices.rs`, stories and issues in `stories.rs`. Everything shown passes the same public rule as the API: an active profile consent.

use std::collections::BTreeMap;

use askama::Template;
use poem::web::{Data, Path};
use poem::{handler, Response};
use sea_orm::ConnectionTrait;

use super::notices::{open_notices, NoticeItem};
use super::stories::{latest_stories, StoryItem};
use super::{html, timeline, Meta, Site, WebError};
use crate::domain::consent::ConsentScope;
use crate::domain::measure::{format_number, Measure};
use crate::domain::partial_date::PartialDate;
use crate::domain::service_record::RecordKind;
use crate::domain::summary::ServiceSummary;
use crate::markdown;
use crate::state::AppState;
use crate::store::entities::{community, resident};
use crate::store::residents::{self, Visibility};
use crate::store::{categories, communities, consents, recognitions, service_records, StoreError};

/// A public photo as pages show it.
pub struct PhotoItem {
    pub thumbnail: String,
    pub page: String,
    pub width: i32,
    pub height: i32,
    pub caption: String,
    pub credit: String,
    pub alt: String,
}

/// The public photos a resident owns, first one first (the portrait).
pub async fn resident_photos(
    state: &AppState,
    resident_id: i64,
) -> Result<Vec<PhotoItem>, WebError> {
    let rows = crate::store::photos::list(
        &state.db,
        crate::store::photos::ListFilter {
            owner: Some(crate::domain::photo::Owner {
                kind: crate::domain::photo::OwnerKind::Resident,
                id: resident_id,
            }),
            after: None,
            limit: 100,
            visibility: crate::store::photos::Reader::Public,
        },
    )
    .await?;
    let views = crate::service::photos::views(&state.db, rows.items, Visibility::Public)
        .await
        .map_err(|_| WebError::Internal("photos of a resident".into()))?;
    Ok(views
        .into_iter()
        .map(|p| {
            let caption = p.caption.unwrap_or_default();
            PhotoItem {
                alt: p.alt.unwrap_or_else(|| caption.clone()),
                thumbnail: p.derivatives.thumbnail.url,
                page: p.derivatives.page.url,
                width: p.derivatives.page.width,
                height: p.derivatives.page.height,
                caption,
                credit: p.credit.unwrap_or_default(),
            }
        })
        .collect())
}

/// One honour as lists show it.
pub struct HonourItem {
    pub photo: Option<String>,
    pub name: String,
    pub slug: String,
    pub community: String,
    pub title: String,
    pub category: String,
    pub recognised_on: String,
}

pub struct HonourGroup {
    pub heading: String,
    pub items: Vec<HonourItem>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    meta: Meta,
    groups: Vec<HonourGroup>,
    notices: Vec<NoticeItem>,
    stories: Vec<StoryItem>,
}

async fn community_path(db: &impl ConnectionTrait, id: i64) -> Result<String, StoreError> {
    Ok(path_label(&communities::path(db, id).await?))
}

/// `普陀区 › 长寿路街道 › 音乐广场`: a community's path, root first.
fn path_label(path: &[community::Model]) -> String {
    path.iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" › ")
}

/// How many honours a list page shows at most: the newest ones. The whole roll is in the API
/// (`GET /api/v1/recognitions`, paged) and in search.
pub const HONOURS_SHOWN: u64 = 200;

/// The newest public honours (at most [`HONOURS_SHOWN`]), newest year first, grouped by year and
/// category. A fixed number of queries whatever the number of honours: residents, categories,
/// communities and portraits are each loaded for the whole list at once.
async fn honour_groups(
    state: &AppState,
    resident_id: Option<i64>,
    community_id: Option<i64>,
    within: Option<i64>,
) -> Result<Vec<HonourGroup>, WebError> {
    let mut rows = recognitions::list(
        &state.db,
        recognitions::ListFilter {
            after: None,
            limit: HONOURS_SHOWN,
            resident_id,
            community_id,
            year: None,
            visibility: Visibility::Public,
            within,
            newest_first: true,
        },
    )
    .await?
    .items;
    // In the order they were recognised, within each group.
    rows.reverse();
    let mut ids: Vec<i64> = rows.iter().map(|r| r.resident_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let people = residents::get_many(&state.db, &ids, Visibility::Public).await?;
    let categories = categories::by_id(&state.db).await?;
    let mut community_ids: Vec<i64> = people.values().map(|r| r.community_id).collect();
    community_ids.sort_unstable();
    community_ids.dedup();
    let community_names = communities::names(&state.db, &community_ids).await?;
    let portraits = portraits(state, &ids).await?;
    let mut groups: BTreeMap<(std::cmp::Reverse<i32>, String), Vec<HonourItem>> = BTreeMap::new();
    for r in rows {
        // Public a moment ago in the list's query; a withdrawal in between leaves them out.
        let Some(resident) = people.get(&r.resident_id) else {
            continue;
        };
        let category = categories
            .get(&r.category_id)
            .map(|c| c.name.clone())
            .ok_or(StoreError::NotFound("category"))?;
        groups
            .entry((std::cmp::Reverse(r.year), category.clone()))
            .or_default()
            .push(HonourItem {
                photo: portraits.get(&resident.id).cloned(),
                name: resident.name.clone(),
                slug: resident.slug.clone(),
                community: community_names
                    .get(&resident.community_id)
                    .cloned()
                    .unwrap_or_default(),
                title: r.title,
                category,
                recognised_on: PartialDate::from_date(r.recognised_on).to_chinese(),
            });
    }
    Ok(groups
        .into_iter()
        .map(|((year, category), items)| HonourGroup {
            heading: format!("{}年度 · {category}", year.0),
            items,
        })
        .collect())
}

/// The portrait thumbnail (first public photo) of each of the given residents that has one.
async fn portraits(
    state: &AppState,
    resident_ids: &[i64],
) -> Result<std::collections::HashMap<i64, String>, WebError> {
    let mut first: BTreeMap<i64, i64> = BTreeMap::new();
    for p in crate::store::photos::public_of_residents(&state.db, resident_ids).await? {
        if let Some(resident) = p.resident_id {
            first.entry(resident).or_insert(p.id);
        }
    }
    let photo_ids: Vec<i64> = first.values().copied().collect();
    let thumbnails: std::collections::HashMap<i64, String> =
        crate::store::photos::files(&state.db, &photo_ids)
            .await?
            .into_iter()
            .filter(|f| f.variant == crate::media::processing::Variant::Thumbnail.code())
            .map(|f| (f.photo_id, format!("/media/{}", f.object_key)))
            .collect();
    Ok(first
        .into_iter()
        .filter_map(|(resident, photo)| Some((resident, thumbnails.get(&photo)?.clone())))
        .collect())
}

#[handler]
pub async fn home(state: Data<&AppState>) -> Result<Response, WebError> {
    let site = super::deployment_site(&state).await?;
    site_home(&state, site).await
}

/// `/s/{slug}`: the home page of a 街道's or a district's own site, with the honours and open
/// notices of its subtree only (a district's aggregates its 街道).
#[handler]
pub async fn site_page(
    req: &poem::Request,
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    site_home(&state, super::site_of(&state, req, &slug).await?).await
}

async fn site_home(state: &AppState, site: Site) -> Result<Response, WebError> {
    let page = HomePage {
        meta: Meta::new(
            &site,
            state,
            "/",
            &format!("光荣榜 · {}", site.honours()),
            &format!("{}表彰的有德之士：他们的服务经历、荣誉和事迹。", site.name),
        ),
        groups: honour_groups(state, None, None, site.community_id).await?,
        notices: open_notices(state, site.community_id).await?,
        stories: latest_stories(state, None, site.community_id, 5).await?,
    };
    html(&page)
}

/// One service record as the page lists it.
pub struct RecordItem {
    pub when: String,
    pub kind: String,
    pub title: String,
    pub organisation: String,
    pub measures: String,
    pub unpaid: bool,
    pub evidence: String,
    /// 已核实: verified by a member of staff other than the recorder, on this day.
    pub verified_on: Option<String>,
}

pub struct Person {
    pub name: String,
    pub pinyin: String,
    pub slug: String,
    pub community: String,
    pub community_slug: String,
    pub citation_html: String,
    pub headline: String,
    /// 志愿服务时长: "共 102.5 小时", empty without hours.
    pub hours_total: String,
    /// "2019年 42.5 小时", one per year with hours.
    pub hours_by_year: Vec<String>,
    /// "一星志愿者", empty below 100 hours.
    pub star_level: String,
    pub honours: Vec<HonourItem>,
    pub records: Vec<RecordItem>,
    pub timeline: Option<timeline::Timeline>,
    pub stories: Vec<StoryItem>,
    /// The first photo is the portrait; all of them make the gallery.
    pub photos: Vec<PhotoItem>,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    meta: Meta,
    person: Person,
}

#[derive(Template)]
#[template(path = "person_print.html")]
struct PrintPage {
    meta: Meta,
    person: Person,
    qr_svg: String,
    url: String,
}

fn when(start: PartialDate, end: Option<PartialDate>, known_until: Option<PartialDate>) -> String {
    match end {
        None => match known_until {
            Some(known) => format!(
                "{} 至 {}（最后核实）",
                start.to_chinese(),
                known.to_chinese()
            ),
            None => format!("{} 至今", start.to_chinese()),
        },
        Some(end) if end == start => start.to_chinese(),
        Some(end) => format!("{} — {}", start.to_chinese(), end.to_chinese()),
    }
}

/// The resident behind a public slug; 410 when their profile consent was withdrawn, 404 when it
/// never was public.
async fn public_resident(state: &AppState, slug: &str) -> Result<resident::Model, WebError> {
    match residents::find_by_slug(&state.db, slug, Visibility::Public).await {
        Ok(r) => Ok(r),
        Err(StoreError::NotFound(_)) => {
            if let Ok(r) = residents::find_by_slug(&state.db, slug, Visibility::Staff).await {
                if r.erased_at.is_some() {
                    return Err(WebError::Gone);
                }
                let withdrawn = consents::list_for_resident(&state.db, r.id)
                    .await?
                    .iter()
                    .any(|c| c.scope == ConsentScope::Profile.code() && c.withdrawn_on.is_some());
                if withdrawn {
                    return Err(WebError::Gone);
                }
            }
            Err(WebError::NotFound)
        }
        Err(e) => Err(e.into()),
    }
}

async fn person(state: &AppState, slug: &str) -> Result<(Person, String), WebError> {
    let r = public_resident(state, slug).await?;
    let path = communities::path(&state.db, r.community_id).await?;
    let community_slug = path.last().map(|c| c.slug.clone()).unwrap_or_default();
    let mut rows = service_records::list_for_resident(&state.db, r.id).await?;
    rows.sort_by(|a, b| (&a.start_date, a.id).cmp(&(&b.start_date, b.id)));
    let facts = rows
        .iter()
        .map(service_records::facts)
        .collect::<Result<Vec<_>, _>>()?;
    let summary = ServiceSummary::derive(&facts, state.clock.today());
    let titles: Vec<String> = rows.iter().map(|m| m.title.clone()).collect();
    let records = rows
        .iter()
        .zip(&facts)
        .map(|(m, f)| {
            let measures: Vec<String> = f.measures.iter().map(Measure::to_chinese).collect();
            RecordItem {
                when: when(f.period.start, f.period.end, f.known_until),
                kind: f.kind.label().to_string(),
                title: m.title.clone(),
                organisation: m.organisation.clone().unwrap_or_default(),
                measures: measures.join("、"),
                unpaid: f.unpaid && f.kind != RecordKind::Activity,
                evidence: m.evidence.clone().unwrap_or_default(),
                verified_on: m
                    .verified_by
                    .as_ref()
                    .and(m.verified_on)
                    .map(|d| d.to_string()),
            }
        })
        .collect();
    let honours = honour_groups(state, Some(r.id), None, None)
        .await?
        .into_iter()
        .flat_map(|g| g.items)
        .collect();
    let description = match &r.citation {
        Some(c) => markdown::to_plain_summary(c, 120),
        None => summary.headlines.join(" · "),
    };
    Ok((
        Person {
            name: r.name,
            pinyin: r.pinyin,
            slug: r.slug,
            community: path_label(&path),
            community_slug,
            citation_html: r
                .citation
                .as_deref()
                .map(markdown::to_safe_html)
                .unwrap_or_default(),
            headline: summary.headline_line(),
            hours_total: match summary.hours.total {
                0.0 => String::new(),
                total => format!("共 {} 小时", format_number(total)),
            },
            hours_by_year: summary
                .hours
                .by_year
                .iter()
                .map(|(year, hours)| format!("{year}年 {} 小时", format_number(*hours)))
                .collect(),
            star_level: summary
                .hours
                .star_level
                .map(|l| l.label().to_string())
                .unwrap_or_default(),
            honours,
            records,
            timeline: timeline::layout(&facts, &titles, state.clock.today()),
            stories: latest_stories(state, Some(r.id), None, 20).await?,
            photos: resident_photos(state, r.id).await?,
        },
        description,
    ))
}

#[handler]
pub async fn person_page(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let (person, description) = person(&state, &slug).await?;
    let site = super::deployment_site(&state).await?;
    let title = match site == Site::generic() {
        true => format!("{} · 有德之士", person.name),
        false => format!("{} · 有德之士 · {}", person.name, site.name),
    };
    let mut meta = Meta::new(
        &site,
        &state,
        &format!("/people/{}", person.slug),
        &title,
        &description,
    );
    // The portrait, for the card a share in WeChat shows.
    meta.image = person
        .photos
        .first()
        .map(|p| format!("{}{}", state.public_url, p.page));
    html(&PersonPage { meta, person })
}

#[handler]
pub async fn person_print(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let (person, description) = person(&state, &slug).await?;
    let url = format!(
        "{}/people/{}",
        state.public_url.trim_end_matches('/'),
        person.slug
    );
    let qr_svg = super::qr_svg(&url)?;
    let title = format!("{} · 打印版", person.name);
    let site = super::deployment_site(&state).await?;
    let meta = Meta::new(
        &site,
        &state,
        &format!("/people/{}/print", person.slug),
        &title,
        &description,
    );
    html(&PrintPage {
        meta,
        person,
        qr_svg,
        url,
    })
}

/// How many residents a community page lists at most (the first registered); the rest are in
/// the API (`GET /api/v1/residents?community_id=`, paged) and in search.
pub const PEOPLE_SHOWN: u64 = 200;

pub struct Neighbour {
    pub name: String,
    pub slug: String,
    pub headline: String,
}

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    meta: Meta,
    name: String,
    path: String,
    children: Vec<(String, String)>,
    people: Vec<Neighbour>,
    groups: Vec<HonourGroup>,
}

#[handler]
pub async fn community_page(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let c = communities::find_by_slug(&state.db, &slug)
        .await?
        .ok_or(WebError::NotFound)?;
    let children = communities::list(&state.db, None, 1000, Some(c.id), None)
        .await?
        .items;
    let residents = residents::list(
        &state.db,
        residents::ListFilter {
            after: None,
            limit: PEOPLE_SHOWN,
            community_id: Some(c.id),
            within: None,
            visibility: Visibility::Public,
        },
    )
    .await?;
    let ids: Vec<i64> = residents.items.iter().map(|r| r.id).collect();
    let mut records: BTreeMap<i64, Vec<_>> = BTreeMap::new();
    for m in service_records::list_for_residents(&state.db, &ids).await? {
        records.entry(m.resident_id).or_default().push(m);
    }
    let mut people = Vec::new();
    for r in residents.items {
        let rows = records.remove(&r.id).unwrap_or_default();
        let facts = rows
            .iter()
            .map(service_records::facts)
            .collect::<Result<Vec<_>, _>>()?;
        let summary = ServiceSummary::derive(&facts, state.clock.today());
        people.push(Neighbour {
            name: r.name,
            slug: r.slug,
            headline: summary.headline_line(),
        });
    }
    let path = community_path(&state.db, c.id).await?;
    let description = format!("{path}的有德之士和荣誉。");
    let page = CommunityPage {
        meta: Meta::new(
            &super::deployment_site(&state).await?,
            &state,
            &format!("/communities/{}", c.slug),
            &format!("{} · 有德之士", c.name),
            &description,
        ),
        name: c.name,
        path,
        children: children.into_iter().map(|c| (c.name, c.slug)).collect(),
        people,
        groups: honour_groups(&state, None, Some(c.id), None).await?,
    };
    html(&page)
}
