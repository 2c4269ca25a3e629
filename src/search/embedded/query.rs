//! Queries on the embedded index. Every query word must match (in the name, the pinyin, the body's
//! words, or as a substring of the body through its character pairs); an exact name match and name
//! matches weigh most. Filters never change the ranking.

use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{Searcher, TantivyDocument, Term};

use super::schema::{facet, Fields};
use crate::search::{text, Facets, Scope, SearchDocument, SearchError, SearchQuery, SearchResults};

const EXACT_NAME_BOOST: f32 = 20.0;
const NAME_BOOST: f32 = 4.0;
const PINYIN_BOOST: f32 = 3.0;
const SUBSTRING_BOOST: f32 = 0.5;
/// The last word as the beginning of a pinyin word: weaker than the whole word.
const PREFIX_BOOST: f32 = 1.5;

fn term(field: tantivy::schema::Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

fn boosted(query: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(query, boost))
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

/// The ways one query word can match; the `last` word of a query also as the beginning of a
/// pinyin word, since it may still be being typed (`chenxiaoy`).
fn word_clause(f: &Fields, word: &str, last: bool) -> Box<dyn Query> {
    let mut options: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Should, boosted(term(f.name, word), NAME_BOOST)),
        (Occur::Should, term(f.body, word)),
    ];
    if word.chars().all(|c| c.is_ascii_alphanumeric()) {
        options.push((Occur::Should, boosted(term(f.pinyin, word), PINYIN_BOOST)));
    }
    if last && text::is_pinyin_word(word) {
        options.push((
            Occur::Should,
            boosted(term(f.pinyin_prefix, word), PREFIX_BOOST),
        ));
    }
    let grams = text::bigrams(word);
    let chars = word.chars().count();
    if grams.len() + 1 == chars {
        // The word is all Chinese: it also matches wherever it occurs as a substring.
        let substring: Box<dyn Query> = match grams.len() {
            0 => return Box::new(BooleanQuery::new(options)),
            1 => term(f.bigrams, &grams[0].0),
            _ => Box::new(PhraseQuery::new_with_offset(
                grams
                    .iter()
                    .map(|(g, p)| (*p, Term::from_field_text(f.bigrams, g)))
                    .collect(),
            )),
        };
        options.push((Occur::Should, boosted(substring, SUBSTRING_BOOST)));
    }
    Box::new(BooleanQuery::new(options))
}

pub fn build(f: &Fields, query: &SearchQuery) -> Option<Box<dyn Query>> {
    let words = text::query_words(&query.text);
    if words.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (Occur::Must, word_clause(f, w, i + 1 == words.len())))
        .collect();
    let whole = text::compact(&query.text);
    let exact_field = if text::is_pinyin_word(&whole) {
        f.pinyin_exact
    } else {
        f.name_exact
    };
    clauses.push((
        Occur::Should,
        boosted(term(exact_field, &whole), EXACT_NAME_BOOST),
    ));
    if query.scope == Scope::Public {
        let public = TermQuery::new(Term::from_field_u64(f.public, 1), IndexRecordOption::Basic);
        clauses.push(filter(Box::new(public)));
    }
    if let Some(kind) = &query.kind {
        clauses.push(filter(Box::new(TermQuery::new(
            Term::from_field_text(f.kind, kind),
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(community) = query.community {
        let within = TermQuery::new(
            Term::from_field_u64(f.within, community as u64),
            IndexRecordOption::Basic,
        );
        clauses.push(filter(Box::new(within)));
    }
    let facet_filter = |group: &str, value: &str| {
        filter(Box::new(TermQuery::new(
            Term::from_facet(f.facets, &facet(group, value)),
            IndexRecordOption::Basic,
        )))
    };
    if let Some(category) = &query.category {
        clauses.push(facet_filter("category", category));
    }
    if let Some(year) = query.year {
        clauses.push(facet_filter("year", &year.to_string()));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

fn engine_error(e: tantivy::TantivyError) -> SearchError {
    SearchError::Unavailable(format!("embedded index: {e}"))
}

pub fn stored(f: &Fields, doc: &TantivyDocument) -> Result<serde_json::Value, SearchError> {
    let json = doc
        .get_first(f.stored)
        .and_then(|v| v.as_str())
        .unwrap_or("{}");
    serde_json::from_str(json).map_err(|e| SearchError::Rejected(format!("stored document: {e}")))
}

pub fn run(
    searcher: &Searcher,
    f: &Fields,
    query: &SearchQuery,
) -> Result<SearchResults, SearchError> {
    let Some(q) = build(f, query) else {
        return Ok(SearchResults {
            hits: vec![],
            total: 0,
            facets: Facets::default(),
        });
    };
    let mut facets = FacetCollector::for_field("facets");
    for group in ["kind", "community", "category", "year"] {
        facets.add_facet(tantivy::schema::Facet::from_path([group]));
    }
    let top = TopDocs::with_limit(query.limit.max(1))
        .and_offset(query.offset)
        .order_by_score();
    let (top, total, counts) = searcher
        .search(&*q, &(top, Count, facets))
        .map_err(engine_error)?;
    let mut hits = Vec::with_capacity(top.len());
    for (_score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).map_err(engine_error)?;
        let doc: SearchDocument = serde_json::from_value(stored(f, &doc)?)
            .map_err(|e| SearchError::Rejected(format!("stored document: {e}")))?;
        hits.push(doc);
    }
    let group = |name: &str| -> Vec<(String, u64)> {
        counts
            .get(tantivy::schema::Facet::from_path([name]))
            .filter_map(|(facet, count)| facet.to_path().last().map(|v| (v.to_string(), count)))
            .collect()
    };
    let facets = Facets {
        kind: group("kind"),
        community: group("community")
            .into_iter()
            .filter_map(|(v, n)| v.parse().ok().map(|id| (id, n)))
            .collect(),
        category: group("category"),
        year: group("year")
            .into_iter()
            .filter_map(|(v, n)| v.parse().ok().map(|y| (y, n)))
            .collect(),
    };
    Ok(SearchResults {
        hits,
        total: total as u64,
        facets: facets.sorted(),
    })
}
