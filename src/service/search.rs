//! Search answers as the API and the search page show them: hits with highlighted snippets and
//! facet counts.

use poem_openapi::Object;

use crate::search::document::{KIND_RESIDENT, KIND_STORY};
use crate::search::{text, Scope, SearchDocument};

/// Document kinds that exist; recognitions may join.
pub const KINDS: &[&str] = &[KIND_RESIDENT, KIND_STORY];
const SNIPPET_CHARS: usize = 80;

#[derive(Debug, Object)]
pub struct SearchHit {
    /// `resident` or `story`.
    pub kind: String,
    /// The id of the resident or story.
    pub id: i64,
    pub slug: String,
    /// The public page: `/people/{slug}` for a resident, `/stories/{slug}` for a story.
    pub url: String,
    /// The resident's name, or the story's title.
    pub name: String,
    /// "sun jianwei" (empty for stories).
    pub pinyin: String,
    /// 普陀区 › 长寿路街道 › 音乐广场 (for a story, its first named resident's; empty when it names
    /// nobody).
    pub community_path: String,
    /// Where the query matched, HTML-escaped, matches wrapped in `<mark>…</mark>`.
    pub snippet: String,
    /// A resident's service summary lines ("无偿服务 12 年", "接待参访 52 批次"); a story's
    /// kicker (栏目) and byline ("小城大事", "记者 周晶").
    pub headlines: Vec<String>,
    /// A resident's service categories (接待参访); a story's theme tags (有德之士).
    pub categories: Vec<String>,
    /// Staff scope only: whether the resident is public (has an active profile consent); always
    /// true for stories.
    #[oai(skip_serializing_if_is_none)]
    pub public: Option<bool>,
}

/// How many of the matches have a value.
#[derive(Debug, Object)]
pub struct FacetCount {
    /// The value to pass back as the filter parameter.
    pub value: String,
    /// A readable name, for communities.
    #[oai(skip_serializing_if_is_none)]
    pub label: Option<String>,
    pub count: u64,
}

/// Counts over all matches (not only this page), per filter.
#[derive(Debug, Object)]
pub struct SearchFacets {
    pub kind: Vec<FacetCount>,
    /// By the resident's own community (a story's first named resident's); `value` is its id.
    pub community: Vec<FacetCount>,
    pub category: Vec<FacetCount>,
    pub year: Vec<FacetCount>,
}

#[derive(Debug, Object)]
pub struct SearchPage {
    pub hits: Vec<SearchHit>,
    /// Number of matches.
    pub total: u64,
    pub facets: SearchFacets,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub fn hit(doc: SearchDocument, words: &[String], scope: Scope) -> SearchHit {
    let body = doc.body();
    let snippet = text::snippet(
        if body.is_empty() {
            &doc.community_path
        } else {
            &body
        },
        words,
        SNIPPET_CHARS,
    );
    SearchHit {
        url: doc.url(),
        kind: doc.kind,
        id: doc.entity_id,
        slug: doc.slug,
        name: doc.name,
        pinyin: doc.pinyin,
        community_path: doc.community_path,
        snippet,
        headlines: doc.headlines,
        categories: doc.categories,
        public: (scope == Scope::Staff).then_some(doc.public),
    }
}
