//! Markdown of citations and bios, rendered to HTML and sanitised: no scripts, no event handlers,
//! no `javascript:` links, whatever the source says.

use pulldown_cmark::{html, Options, Parser};

/// Markdown → safe HTML. Links get `rel="noopener noreferrer nofollow"`; only http(s) and mailto
/// URLs survive.
pub fn to_safe_html(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES,
    );
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

/// Plain text of the first paragraph, for page descriptions (no markup at all).
pub fn to_plain_summary(markdown: &str, max_chars: usize) -> String {
    use pulldown_cmark::{Event, Tag, TagEnd};
    let mut text = String::new();
    // Text between inline <script>/<style> tags is code, not prose.
    let mut in_code_tag = false;
    for event in Parser::new(markdown) {
        match event {
            Event::InlineHtml(tag) | Event::Html(tag) => {
                let tag = tag.trim_start().to_ascii_lowercase();
                if tag.starts_with("<script") || tag.starts_with("<style") {
                    in_code_tag = true;
                } else if tag.starts_with("</script") || tag.starts_with("</style") {
                    in_code_tag = false;
                }
            }
            Event::Text(_) | Event::Code(_) if in_code_tag => {}
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(TagEnd::Paragraph) if !text.is_empty() => break,
            Event::Start(Tag::Paragraph) => {}
            _ => {}
        }
    }
    let mut out: String = text.chars().take(max_chars).collect();
    if text.chars().count() > max_chars {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_javascript_links_are_removed() {
        let html = to_safe_html("**好人**<script>alert(1)</script> [点我](javascript:alert(2)) <img src=x onerror=alert(3)>");
        assert!(html.contains("<strong>好人</strong>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onerror"));
    }

    #[test]
    fn links_are_kept_safe() {
        let html = to_safe_html("[报道](https://example.org/a)");
        assert!(html.contains(r#"href="https://example.org/a""#));
        assert!(html.contains("nofollow"));
    }

    #[test]
    fn summaries_are_plain_text() {
        assert_eq!(
            to_plain_summary("**12 年**无偿服务\n\n第二段", 100),
            "12 年无偿服务"
        );
        assert_eq!(to_plain_summary("一二三四五", 3), "一二三…");
        assert_eq!(
            to_plain_summary("好人<script>alert(1)</script>好事", 100),
            "好人好事"
        );
    }
}
