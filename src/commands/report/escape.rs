//! Text into HTML. Every string the page shows goes through [`Escaped`]: user ids come from
//! the events, and the events come from anyone.

use std::fmt;

/// Displays the text with `& < > " '` as character references: safe in element content and
/// in double- or single-quoted attribute values alike.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        let hostile = r#"<script>alert("x")</script>' onload='x' & 雪"#;
        assert_eq!(
            Escaped(hostile).to_string(),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onload=&#39;x&#39; &amp; 雪"
        );
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(Escaped("u000042").to_string(), "u000042");
        assert_eq!(Escaped("").to_string(), "");
    }
}
