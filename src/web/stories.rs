//! Stories and newsletter issues as public pages, and the latest stories other pages list.

use askama::Template;
use poem::web::{Data, Path};
use poem::{handler, Response};

use super::{html, Meta, WebError};
use crate::domain::partial_date::PartialDate;
use crate::markdown;
use crate::state::AppState;
use crate::store::residents::Visibility;

/// A story as lists show it.
pub struct StoryItem {
    pub slug: String,
    pub title: String,
    pub section: String,
    pub byline: String,
    pub published_on: String,
}

fn story_item(s: &crate::service::stories::Story) -> StoryItem {
    StoryItem {
        slug: s.slug.clone(),
        title: s.title.clone(),
        section: s.section.clone().unwrap_or_default(),
        byline: s.byline.clone().unwrap_or_default(),
        published_on: s
            .published_at
            .map(|t| {
                PartialDate::from_date((t + chrono::Duration::hours(8)).date_naive()).to_chinese()
            })
            .unwrap_or_default(),
    }
}

/// Public stories, newest first, optionally about one resident or about the residents of one
/// subtree (a site's).
pub async fn latest_stories(
    state: &AppState,
    resident_id: Option<i64>,
    within: Option<i64>,
    limit: u64,
) -> Result<Vec<StoryItem>, WebError> {
    let rows = crate::store::stories::list(
        &state.db,
        crate::store::stories::Filter {
            limit,
            public_only: true,
            resident_id,
            within,
            newest_first: true,
            ..Default::default()
        },
    )
    .await?;
    let stories = crate::service::stories::views_as(
        &state.db,
        &state.public_url,
        rows.items,
        Visibility::Public,
    )
    .await?;
    Ok(stories.iter().map(story_item).collect())
}

#[derive(Template)]
#[template(path = "story.html")]
struct StoryPage {
    meta: Meta,
    story: crate::service::stories::Story,
    published_on: String,
    issues: Vec<(i64, String)>,
}

#[handler]
pub async fn story_page(
    state: Data<&AppState>,
    Path(slug): Path<String>,
) -> Result<Response, WebError> {
    let m = crate::store::stories::find_by_slug(&state.db, &slug).await?;
    if !crate::store::stories::is_public(&state.db, &m).await? {
        return Err(WebError::NotFound);
    }
    let story = crate::service::stories::view(&state.db, &state.public_url, m).await?;
    let issues = crate::store::issues::published_with(&state.db, story.id)
        .await?
        .into_iter()
        .map(|issue| (issue.id, issue.name))
        .collect();
    let description = story
        .subtitle
        .clone()
        .unwrap_or_else(|| markdown::to_plain_summary(&story.body, 120));
    let meta = Meta::new(
        &super::deployment_site(&state).await?,
        &state,
        &format!("/stories/{}", story.slug),
        &story.title,
        &description,
    );
    let published_on = story_item(&story).published_on;
    html(&StoryPage {
        meta,
        story,
        published_on,
        issues,
    })
}

#[derive(Template)]
#[template(path = "issue.html")]
struct IssuePage {
    meta: Meta,
    name: String,
    date: String,
    theme: String,
    note_html: String,
    stories: Vec<StoryItem>,
    pack_url: String,
}

#[handler]
pub async fn issue_page(state: Data<&AppState>, Path(id): Path<i64>) -> Result<Response, WebError> {
    let issue = crate::store::issues::get(&state.db, id).await?;
    if issue.state != crate::store::stories::PUBLISHED {
        return Err(WebError::NotFound);
    }
    let mut public = Vec::new();
    for story_id in crate::store::issues::story_ids(&state.db, id).await? {
        let m = crate::store::stories::get(&state.db, story_id).await?;
        if crate::store::stories::is_public(&state.db, &m).await? {
            public.push(m);
        }
    }
    let stories =
        crate::service::stories::views_as(&state.db, &state.public_url, public, Visibility::Public)
            .await?;
    let items: Vec<StoryItem> = stories.iter().map(story_item).collect();
    let description = issue
        .editors_note
        .as_deref()
        .map(|n| markdown::to_plain_summary(n, 120))
        .unwrap_or_default();
    let page = IssuePage {
        meta: Meta::new(
            &super::deployment_site(&state).await?,
            &state,
            &format!("/issues/{id}"),
            &issue.name,
            &description,
        ),
        name: issue.name,
        date: PartialDate::from_date(issue.issue_date).to_chinese(),
        theme: issue.theme.unwrap_or_default(),
        note_html: issue
            .editors_note
            .as_deref()
            .map(markdown::to_safe_html)
            .unwrap_or_default(),
        stories: items,
        pack_url: format!("/api/v1/issues/{id}/pack"),
    };
    html(&page)
}
