//! The embedded index's schema and analysers. Every text field is analysed from the normalised
//! text (simplified characters, lower case), so traditional characters find simplified ones.

use tantivy::schema::{
    Facet, FacetOptions, Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing,
    TextOptions, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{Index, TantivyDocument};

use crate::search::text;
use crate::search::SearchDocument;

pub const WORDS: &str = "youde_words";
pub const NAME: &str = "youde_name";
pub const BIGRAMS: &str = "youde_bigrams";

/// The fields, looked up once.
#[derive(Clone, Copy)]
pub struct Fields {
    /// `resident-12`: what upserts and deletes address.
    pub id: Field,
    /// The whole [`SearchDocument`] as JSON; the only stored field.
    pub stored: Field,
    pub kind: Field,
    /// 1 when public.
    pub public: Field,
    /// Community ids, the resident's and every one above it.
    pub within: Field,
    /// `/kind/…`, `/community/…`, `/category/…`, `/year/…` for counts and filters.
    pub facets: Field,
    /// The whole normalised name without spaces: an exact match ranks first.
    pub name_exact: Field,
    /// Characters, pairs of characters and the whole name.
    pub name: Field,
    /// A name's pinyin words in every reading ([`text::PinyinKeys`]).
    pub pinyin: Field,
    /// Every beginning of those words, for the query's last word while it is being typed.
    pub pinyin_prefix: Field,
    /// The whole name's pinyin joined, per reading: an exact pinyin match ranks first.
    pub pinyin_exact: Field,
    /// jieba words of the body, community path and categories.
    pub body: Field,
    /// Adjacent-character pairs of the same text, with positions, for substring phrases.
    pub bigrams: Field,
}

fn text_field(tokenizer: &str, record: IndexRecordOption) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(record),
    )
}

pub fn schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field("id", STRING);
    b.add_text_field("stored", STORED);
    b.add_text_field("kind", STRING);
    b.add_u64_field("public", NumericOptions::default().set_indexed());
    b.add_u64_field("within", NumericOptions::default().set_indexed());
    b.add_facet_field("facets", FacetOptions::default());
    b.add_text_field("name_exact", STRING);
    b.add_text_field("name", text_field(NAME, IndexRecordOption::WithFreqs));
    b.add_text_field(
        "pinyin",
        text_field("default", IndexRecordOption::WithFreqs),
    );
    b.add_text_field(
        "pinyin_prefix",
        text_field("default", IndexRecordOption::Basic),
    );
    b.add_text_field("pinyin_exact", STRING);
    b.add_text_field("body", text_field(WORDS, IndexRecordOption::WithFreqs));
    b.add_text_field(
        "bigrams",
        text_field(BIGRAMS, IndexRecordOption::WithFreqsAndPositions),
    );
    b.build()
}

/// Whether an index on disk has every field of [`schema`] (one written by an older version may
/// not: it is then rebuilt from the database rather than opened).
pub fn is_current(schema_on_disk: &Schema) -> bool {
    schema()
        .fields()
        .all(|(_, entry)| schema_on_disk.get_field(entry.name()).is_ok())
}

pub fn fields(schema: &Schema) -> Fields {
    let f = |name: &str| schema.get_field(name).expect("field of our own schema");
    Fields {
        id: f("id"),
        stored: f("stored"),
        kind: f("kind"),
        public: f("public"),
        within: f("within"),
        facets: f("facets"),
        name_exact: f("name_exact"),
        name: f("name"),
        pinyin: f("pinyin"),
        pinyin_prefix: f("pinyin_prefix"),
        pinyin_exact: f("pinyin_exact"),
        body: f("body"),
        bigrams: f("bigrams"),
    }
}

/// Analysers are not stored in the index: every opened `Index` needs them registered.
pub fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register(WORDS, TextAnalyzer::from(Analyzer(Kind::Words)));
    manager.register(NAME, TextAnalyzer::from(Analyzer(Kind::Name)));
    manager.register(BIGRAMS, TextAnalyzer::from(Analyzer(Kind::Bigrams)));
}

pub fn facet(group: &str, value: &str) -> Facet {
    Facet::from_path([group, value])
}

/// The engine's form of a document.
pub fn to_tantivy(f: &Fields, doc: &SearchDocument) -> TantivyDocument {
    let mut d = TantivyDocument::new();
    d.add_text(f.id, &doc.id);
    d.add_text(
        f.stored,
        serde_json::to_string(doc).expect("documents serialise"),
    );
    d.add_text(f.kind, &doc.kind);
    d.add_u64(f.public, u64::from(doc.public));
    for id in &doc.community_ids {
        d.add_u64(f.within, *id as u64);
    }
    d.add_facet(f.facets, facet("kind", &doc.kind));
    if let Some(community) = doc.community_id {
        d.add_facet(f.facets, facet("community", &community.to_string()));
    }
    for c in &doc.categories {
        d.add_facet(f.facets, facet("category", c));
    }
    for y in &doc.years {
        d.add_facet(f.facets, facet("year", &y.to_string()));
    }
    d.add_text(f.name_exact, text::compact(&text::normalize(&doc.name)));
    d.add_text(f.name, &doc.name);
    // Titles of stories have no pinyin: `sjw` finds people, not headlines.
    if !doc.pinyin.is_empty() {
        let keys = text::PinyinKeys::of(&doc.name);
        d.add_text(f.pinyin, keys.words.join(" "));
        d.add_text(f.pinyin_prefix, keys.prefixes().join(" "));
        for whole in &keys.whole {
            d.add_text(f.pinyin_exact, whole);
        }
    }
    let all = format!("{}\n{}", doc.body(), doc.context());
    d.add_text(f.body, &all);
    d.add_text(f.bigrams, &all);
    d
}

#[derive(Clone, Copy)]
enum Kind {
    Words,
    Name,
    Bigrams,
}

/// One of our three analysers; each normalises first, then cuts.
#[derive(Clone, Copy)]
struct Analyzer(Kind);

impl Tokenizer for Analyzer {
    type TokenStream<'a> = Tokens;

    fn token_stream<'a>(&'a mut self, input: &'a str) -> Tokens {
        let normalized = text::normalize(input);
        // Offsets are not used (snippets are cut from the stored text), positions only by bigrams.
        let tokens: Vec<(usize, String)> = match self.0 {
            Kind::Words => text::index_words(&normalized)
                .into_iter()
                .map(String::from)
                .enumerate()
                .collect(),
            Kind::Name => text::name_grams(&normalized)
                .into_iter()
                .enumerate()
                .collect(),
            Kind::Bigrams => text::bigrams(&normalized)
                .into_iter()
                .map(|(g, p)| (p, g))
                .collect(),
        };
        Tokens {
            tokens: tokens
                .into_iter()
                .map(|(position, text)| Token {
                    offset_from: 0,
                    offset_to: 0,
                    position,
                    text,
                    position_length: 1,
                })
                .collect(),
            next: 0,
        }
    }
}

pub struct Tokens {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}
