//! Escaping untrusted text for the page: history values are arbitrary
//! strings, and none may end an element, open a tag or run a script.

use serde::Serialize;

/// Escapes text for HTML element content and quoted attribute values.
pub fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\u{2028}' => out.push_str("&#x2028;"),
            '\u{2029}' => out.push_str("&#x2029;"),
            c => out.push(c),
        }
    }
    out
}

/// Serializes `value` as JSON safe to embed in a `<script>` element: `<`,
/// `>` and `&` are written as `\u` escapes (so no `</script>` or `<!--`
/// can appear), and so are U+2028 and U+2029 (line terminators in older
/// JavaScript). The escapes occur only inside JSON strings, where they
/// mean the same characters, so `JSON.parse` gives back the same data.
pub fn script_json<T: Serialize>(value: &T) -> String {
    let json = serde_json::to_string(value).unwrap_or_else(|_| "null".to_string());
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escapes_every_character_that_opens_markup_or_ends_a_quote() {
        assert_eq!(
            html(r#"</script><img src=x onerror="alert('1')">&"#),
            "&lt;/script&gt;&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn script_json_has_no_tag_and_parses_back_to_the_same_text() {
        let evil = "</script><img src=x onerror=alert(1)>&\u{2028}\u{2029}<!--";
        let out = script_json(&evil);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!out.contains(bad), "{out} contains {bad:?}");
        }
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, evil);
    }
}
