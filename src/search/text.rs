//! Text analysis shared by both engines: traditional→simplified and width normalisation, Chinese
//! word segmentation (jieba), name n-grams, the words of a query, and highlighted snippets.

use std::sync::OnceLock;

use jieba_rs::Jieba;

/// The segmenter, loaded once per process (its dictionary takes a moment to parse).
pub fn jieba() -> &'static Jieba {
    static JIEBA: OnceLock<Jieba> = OnceLock::new();
    JIEBA.get_or_init(Jieba::new)
}

/// The form text is indexed and searched in: simplified characters (孫建偉 → 孙建伟), ASCII for
/// full-width letters and digits (ｓｊｗ → sjw), lower case. Applied to documents and queries alike.
pub fn normalize(text: &str) -> String {
    let simplified = fast2s::convert(text);
    simplified
        .chars()
        .map(|c| match c {
            // Full-width ASCII forms and the ideographic space.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
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
