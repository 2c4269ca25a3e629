//! Text analysis shared by both engines: traditional→simplified and width normalisation, Chinese
//! word segmentation (jieba), name n-grams, the words of a query, and highlighted snippets.

use std::sync::OnceLock;

use jieba_rs::Jieba;

use crate::domain::naming;

/// The segmenter, loaded once per process (its dictionary takes a moment to parse).
pub fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// The form text is indexed and searched in: simplified characters (孫建偉 → 孙建伟), ASCII for
/// full-width letters and digits (ｓｊｗ → sjw), lower case, pinyin as a keyboard types it (tone
/// marks dropped, `ü` and `u:` written `v`: `lǚ` → `lv`). Applied to documents and queries alike.
pub fn normalize(text: &str) -> String {
    let simplified = fast2s::convert(text);
    let out: String = simplified
        .chars()
        .map(|c| match c {
            // Full-width ASCII forms and the ideographic space.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .map(toneless)
        .collect();
    if out.contains("u:") {
        keyboard_u_colon(&out)
    } else {
        out
    }
}

/// `lu:e` → `lve`, `nu:` → `nv` where the `l` or `n` begins a word (so `menu:` stays).
fn keyboard_u_colon(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
        if starts_word
            && matches!(chars[i], 'l' | 'n')
            && chars.get(i + 1) == Some(&'u')
            && chars.get(i + 2) == Some(&':')
        {
            out.push(chars[i]);
            out.push('v');
            i += 3;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// A pinyin vowel without its tone mark; `ü` in any tone as `v`. Other characters unchanged.
fn toneless(c: char) -> char {
    match c {
        'ā' | 'á' | 'ǎ' | 'à' => 'a',
        'ē' | 'é' | 'ě' | 'è' => 'e',
        'ī' | 'í' | 'ǐ' | 'ì' => 'i',
        'ō' | 'ó' | 'ǒ' | 'ò' => 'o',
        'ū' | 'ú' | 'ǔ' | 'ù' => 'u',
        'ü' | 'ǖ' | 'ǘ' | 'ǚ' | 'ǜ' => 'v',
        'ń' | 'ň' | 'ǹ' => 'n',
        _ => c,
    }
}

/// What a name's pinyin is indexed as, for every way the name may be read
/// ([`naming::name_readings`]): each syllable, the surname as one word (`zhuge`, `ouyang`), the
/// given name joined (`jianwei`), the whole name joined (`sunjianwei`), the initials (`sjw`) and
/// the surname with the given name's initials (`sunjw`). `whole` holds the joined whole names,
/// for the exact match that ranks first.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PinyinKeys {
    pub words: Vec<String>,
    pub whole: Vec<String>,
}

impl PinyinKeys {
    pub fn of(name: &str) -> PinyinKeys {
        let mut keys = PinyinKeys::default();
        let push = |list: &mut Vec<String>, s: String| {
            if !s.is_empty() && !list.contains(&s) {
                list.push(s);
            }
        };
        for r in naming::name_readings(&normalize(name)) {
            let initials = |syllables: &[String]| -> String {
                syllables.iter().filter_map(|s| s.chars().next()).collect()
            };
            let surname = r.surname.concat();
            let given = r.given.concat();
            for s in r.surname.iter().chain(&r.given) {
                push(&mut keys.words, s.clone());
            }
            push(&mut keys.words, surname.clone());
            push(&mut keys.words, given.clone());
            push(&mut keys.words, format!("{surname}{given}"));
            let all: Vec<String> = r.surname.iter().chain(&r.given).cloned().collect();
            push(&mut keys.words, initials(&all));
            if !surname.is_empty() {
                push(&mut keys.words, format!("{surname}{}", initials(&r.given)));
            }
            push(&mut keys.whole, format!("{surname}{given}"));
        }
        keys
    }

    /// Every beginning of every word (`s`, `su`, `sun`, …): the last word of a query, still being
    /// typed, matches these.
    pub fn prefixes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for word in &self.words {
            for (end, _) in word.char_indices().skip(1).chain([(word.len(), ' ')]) {
                let prefix = &word[..end];
                if !out.iter().any(|p| p == prefix) {
                    out.push(prefix.to_string());
                }
            }
        }
        out
    }
}

/// A query word that may be pinyin: Latin letters only.
pub fn is_pinyin_word(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_alphabetic())
}

/// A CJK ideograph (the blocks names and ordinary text use).
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn is_word_char(c: char) -> bool {
    is_han(c) || c.is_alphanumeric()
}

/// Words of already-normalised text for the index: jieba's search mode, which gives a long word
/// and the dictionary words inside it (智慧社区 → 智慧, 社区, 智慧社区). Punctuation and spaces
/// are dropped.
pub fn index_words(normalized: &str) -> Vec<&str> {
    jieba()
        .cut_for_search(normalized, true)
        .into_iter()
        .map(|t| t.word)
        .filter(|w| w.chars().any(is_word_char))
        .collect()
}

/// The words of a query, each of which a hit must contain: jieba's default mode (the longest
/// words), punctuation and spaces dropped, duplicates removed. `sun jianwei` → `sun`, `jianwei`.
pub fn query_words(normalized: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for token in jieba().cut(normalized, true) {
        let word: String = token.word.chars().filter(|c| is_word_char(*c)).collect();
        if !word.is_empty() && !words.contains(&word) {
            words.push(word);
        }
    }
    words
}

/// Pairs of adjacent Chinese characters with their character position, for the substring
/// fallback: a word the segmenter split differently in a document still matches as the phrase
/// of its bigrams. 智慧社区 → (智慧,0) (慧社,1) (社区,2).
pub fn bigrams(normalized: &str) -> Vec<(String, usize)> {
    let chars: Vec<char> = normalized.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len().saturating_sub(1) {
        if is_han(chars[i]) && is_han(chars[i + 1]) {
            out.push((chars[i..i + 2].iter().collect(), i));
        }
    }
    out
}

/// What a name is indexed as, so that any part of it finds it however the segmenter cuts the
/// query: every run of its characters (孙建伟 → 孙 建 伟 孙建 建伟 孙建伟; 欧阳美玲 also 阳美玲);
/// past eight characters only single characters, pairs and the whole. Latin names by word.
pub fn name_grams(normalized: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    };
    for run in normalized.split(|c: char| !is_word_char(c)) {
        let chars: Vec<char> = run.chars().collect();
        if chars.iter().all(|c| !is_han(*c)) {
            push(run.to_string());
            continue;
        }
        let longest = if chars.len() <= 8 { chars.len() } else { 2 };
        for len in 1..=longest {
            for part in chars.windows(len) {
                push(part.iter().collect());
            }
        }
        push(run.to_string());
    }
    out
}

/// The whole text without spaces or punctuation: the key an exact name match compares.
pub fn compact(normalized: &str) -> String {
    normalized.chars().filter(|c| is_word_char(*c)).collect()
}

/// A snippet of `text` of at most about `max_chars` characters around the first place a query
/// word occurs, HTML-escaped, with every occurrence of a query word wrapped in `<mark>…</mark>`.
/// Matching is on the normalised text, so a traditional-character query highlights simplified
/// text. Without any occurrence, the start of the text.
pub fn snippet(text: &str, words: &[String], max_chars: usize) -> String {
    let original: Vec<char> = text.chars().collect();
    // Normalisation maps character to character (fast2s converts one ideograph to one), except
    // for the rare letter whose lower case is longer: those positions fall back to the original.
    let normalized: Vec<char> = original
        .iter()
        .map(|c| {
            let n = normalize(&c.to_string());
            let mut it = n.chars();
            match (it.next(), it.next()) {
                (Some(single), None) => single,
                _ => *c,
            }
        })
        .collect();
    let mut marked = vec![false; original.len()];
    let mut longest_first: Vec<Vec<char>> = words
        .iter()
        .map(|w| w.chars().collect::<Vec<_>>())
        .filter(|w| !w.is_empty())
        .collect();
    longest_first.sort_by_key(|w| std::cmp::Reverse(w.len()));
    let mut first_hit: Option<usize> = None;
    for word in &longest_first {
        let mut i = 0;
        while i + word.len() <= normalized.len() {
            if normalized[i..i + word.len()] == word[..] {
                marked[i..i + word.len()].iter_mut().for_each(|m| *m = true);
                first_hit = Some(first_hit.map_or(i, |f| f.min(i)));
                i += word.len();
            } else {
                i += 1;
            }
        }
    }
    let start = match first_hit {
        Some(hit) if hit > max_chars / 4 => hit - max_chars / 4,
        _ => 0,
    };
    let end = (start + max_chars).min(original.len());
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut open = false;
    for i in start..end {
        if marked[i] && !open {
            out.push_str("<mark>");
            open = true;
        } else if !marked[i] && open {
            out.push_str("</mark>");
            open = false;
        }
        match original[i] {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    if open {
        out.push_str("</mark>");
    }
    if end < original.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traditional_and_full_width_become_simplified_ascii() {
        assert_eq!(normalize("孫建偉"), "孙建伟");
        assert_eq!(normalize("智慧社區 業委會"), "智慧社区 业委会");
        assert_eq!(normalize("ＳＪＷ"), "sjw");
        assert_eq!(normalize("Sun JianWei"), "sun jianwei");
    }

    #[test]
    fn pinyin_as_keyboards_type_it() {
        assert_eq!(normalize("Lǚ Lüè"), "lv lve");
        assert_eq!(normalize("lu:e NU:"), "lve nv");
        assert_eq!(normalize("sūn jiànwěi"), "sun jianwei");
        assert_eq!(normalize("menu: 菜单"), "menu: 菜单");
    }

    #[test]
    fn pinyin_keys_cover_units_readings_and_prefixes() {
        let keys = PinyinKeys::of("诸葛长乐");
        for word in [
            "zhuge",
            "zhugechangle",
            "zhugezhangyue",
            "changle",
            "zgcl",
            "zhugecl",
            "yue",
        ] {
            assert!(keys.words.contains(&word.to_string()), "{word}: {keys:?}");
        }
        // The reading pages show comes first; the others follow.
        assert_eq!(
            keys.whole[0],
            naming::person_pinyin("诸葛长乐").replace(' ', "")
        );
        assert!(keys.whole.contains(&"zhugechangle".to_string()), "{keys:?}");
        let prefixes = keys.prefixes();
        for p in ["z", "zhug", "zhugezh", "chan"] {
            assert!(prefixes.contains(&p.to_string()), "{p}");
        }
        assert!(!prefixes.contains(&"ge".to_string()) || keys.words.contains(&"ge".to_string()));
    }

    #[test]
    fn query_words_drop_spaces_and_punctuation() {
        assert_eq!(query_words("sun jianwei"), vec!["sun", "jianwei"]);
        assert_eq!(query_words("，sjw。"), vec!["sjw"]);
        assert!(query_words("  ，。 ").is_empty());
        let words = query_words("智慧社区");
        assert_eq!(words.concat(), "智慧社区");
    }

    #[test]
    fn names_are_findable_by_any_part() {
        let grams = name_grams("孙建伟");
        for part in ["孙", "建", "伟", "孙建", "建伟", "孙建伟"] {
            assert!(
                grams.contains(&part.to_string()),
                "{part} missing from {grams:?}"
            );
        }
        assert!(name_grams("欧阳美玲").contains(&"阳美玲".to_string()));
        assert_eq!(name_grams("anna müller"), vec!["anna", "müller"]);
    }

    #[test]
    fn bigrams_carry_their_positions() {
        let b = bigrams("智慧社区");
        assert_eq!(
            b,
            vec![("智慧".into(), 0), ("慧社".into(), 1), ("社区".into(), 2)]
        );
        assert!(bigrams("a 智").is_empty());
    }

    #[test]
    fn snippets_escape_and_mark_every_occurrence() {
        let s = snippet(
            "<b>智慧社区</b>建成；智慧社区工作室",
            &["智慧社区".to_string()],
            80,
        );
        assert_eq!(
            s,
            "&lt;b&gt;<mark>智慧社区</mark>&lt;/b&gt;建成；<mark>智慧社区</mark>工作室"
        );
        // A traditional query word highlights the simplified text.
        let s = snippet("音乐广场智慧社区", &[normalize("社區")], 80);
        assert_eq!(s, "音乐广场智慧<mark>社区</mark>");
        let long = "甲".repeat(100) + "智慧" + &"乙".repeat(100);
        let s = snippet(&long, &["智慧".to_string()], 40);
        assert!(
            s.starts_with('…') && s.ends_with('…') && s.contains("<mark>智慧</mark>"),
            "{s}"
        );
    }
}
