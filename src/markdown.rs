//! Markdown of citations and bios, rendered to HTML and sanitised: no scripts, no event handlers,
//! no `javascript:` links, whatever the source says.

use pulldown_cmark::{html, Options, Parser};

fn options() -> Options {
    Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES
}

/// Images come only from the site's own photo store: an outside image would tell another server
/// who reads the page, feed or pack (and could change after publication).
pub fn is_own_media(src: &str) -> bool {
    src.starts_with("/media/") && !src.contains("..")
}

fn is_safe_link(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // Relative links (no scheme before the first `/`, `?` or `#`).
        None => true,
        Some((scheme, _)) if scheme.contains(['/', '?', '#']) => true,
        Some((scheme, _)) => ["http", "https", "mailto"].contains(&scheme),
    }
}

/// Markdown → safe HTML. Links get `rel="noopener noreferrer nofollow"`; only http(s) and mailto
/// URLs survive; images only from the site's own `/media/`.
pub fn to_safe_html(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, options());
    let mut raw = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut raw, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .attribute_filter(|element, attribute, value| {
            if element == "img" && (attribute == "src" || attribute == "srcset") {
                return is_own_media(value).then(|| value.into());
            }
            Some(value.into())
        })
        .clean(&raw)
        .to_string()
}

/// Markdown → Markdown held to the same rules as [`to_safe_html`], for the issue pack (whose layout
/// tools may render Markdown with raw HTML): raw HTML is removed, a link with another scheme is
/// left as its text, an image not from `/media/` as its alt text.
pub fn to_safe_markdown(markdown: &str) -> String {
    use pulldown_cmark::{Event, Tag, TagEnd};
    // Byte ranges of the source to replace, and with what.
    let mut cuts: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut pending: Option<(std::ops::Range<usize>, String)> = None;
    for (event, range) in Parser::new_ext(markdown, options()).into_offset_iter() {
        match event {
            Event::Html(_) | Event::InlineHtml(_) => cuts.push((range, String::new())),
            Event::Start(Tag::Link { dest_url, .. }) if !is_safe_link(&dest_url) => {
                pending.get_or_insert((range, String::new()));
            }
            Event::Start(Tag::Image { dest_url, .. }) if !is_own_media(&dest_url) => {
                pending.get_or_insert((range, String::new()));
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = pending.as_mut() {
                    text.push_str(&escape_markdown(&t));
                }
            }
            Event::End(TagEnd::Link | TagEnd::Image)
                if pending.as_ref().is_some_and(|(r, _)| r.end <= range.end) =>
            {
                cuts.extend(pending.take());
            }
            _ => {}
        }
    }
    cuts.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    for (range, replacement) in cuts {
        if range.start < at {
            continue; // inside a range already cut
        }
        out.push_str(&markdown[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&markdown[at..]);
    out
}

/// Text that Markdown shows as written: every ASCII punctuation mark backslash-escaped.
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
    fn images_only_from_the_sites_own_media() {
        let html = to_safe_html("![a](https://tracker.example/p.gif) ![b](/media/ab12.jpg) <img src=\"//evil.example/x.png\">");
        assert!(
            !html.contains("tracker.example") && !html.contains("evil.example"),
            "{html}"
        );
        assert!(html.contains(r#"src="/media/ab12.jpg""#), "{html}");
    }

    #[test]
    fn markdown_for_the_pack_loses_what_the_html_loses() {
        let md = to_safe_markdown(
            "编者按 **好人**<script>alert(1)</script>\n\n[点我](vbscript:msgbox) [报道](https://example.org/a) \
             <javascript:alert(2)> ![外链](https://tracker.example/p.gif) ![照片](/media/ab.jpg)\n\n\
             <div onclick=\"x()\">块</div>\n",
        );
        for bad in [
            "<script",
            "vbscript:",
            "javascript:",
            "tracker.example",
            "<div",
            "onclick",
        ] {
            assert!(!md.contains(bad), "{bad} in {md}");
        }
        for kept in [
            "**好人**",
            "点我",
            "[报道](https://example.org/a)",
            "外链",
            "![照片](/media/ab.jpg)",
        ] {
            assert!(md.contains(kept), "{kept} missing from {md}");
        }
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
