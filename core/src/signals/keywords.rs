//! Case-insensitive keyword lists: the opt-out words of `marketing_averse` and the promo words
//! of `promo_engagement`.
//!
//! docs/signals.md: "compared case-insensitively (Unicode lower case) ... Plain substring match:
//! "stopped" matches "stop"." Keywords are lowered once, when the configuration is read; the
//! text of each event is lowered character by character while it is scanned, so matching never
//! allocates, whatever the script (chat text is mostly Chinese, where a `to_lowercase()` copy
//! per message would be the only allocation of the event).
//!
//! Lowering is per character (`char::to_lowercase`), on the keywords and on the text alike.
//! The one context-dependent rule of `str::to_lowercase`, Greek final sigma (Σ → ς at the end
//! of a word, σ elsewhere), is therefore not applied: a text "ΑΣ" lowers to "ασ" here.

use serde::{Deserialize, Serialize};

/// A non-empty set of lower-case keywords, matched as substrings of a text lowered the same way.
///
/// Deserialized from a list of strings: each is lowered, and an empty keyword is rejected (it
/// would match every text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Keywords(Vec<Box<str>>);

impl Keywords {
    /// Lowers each word; fails on an empty one.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Result<Self, EmptyKeyword> {
        words
            .into_iter()
            .enumerate()
            .map(|(index, word)| match lower(word.as_ref()) {
                lowered if lowered.is_empty() => Err(EmptyKeyword { index }),
                lowered => Ok(lowered.into_boxed_str()),
            })
            .collect::<Result<_, _>>()
            .map(Keywords)
    }

    /// The keywords, lowered.
    pub fn as_slice(&self) -> &[Box<str>] {
        &self.0
    }

    /// Whether `text`, lowered, contains one of the keywords.
    pub fn found_in(&self, text: &str) -> bool {
        let mut rest = text.chars().flat_map(char::to_lowercase);
        loop {
            if self.0.iter().any(|word| starts_with(rest.clone(), word)) {
                return true;
            }
            if rest.next().is_none() {
                return false;
            }
        }
    }
}

/// Whether the (lowered) character stream begins with `word`.
fn starts_with(mut chars: impl Iterator<Item = char>, word: &str) -> bool {
    word.chars().all(|expected| chars.next() == Some(expected))
}

fn lower(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).collect()
}

/// A keyword list contained an empty string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("keyword {index} is empty, and an empty keyword would match every text")]
pub struct EmptyKeyword {
    /// Position of the empty keyword in the list, from 0.
    pub index: usize,
}

impl TryFrom<Vec<String>> for Keywords {
    type Error = EmptyKeyword;

    fn try_from(words: Vec<String>) -> Result<Self, Self::Error> {
        Keywords::new(words)
    }
}

impl From<Keywords> for Vec<String> {
    fn from(keywords: Keywords) -> Self {
        keywords.0.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(words: &[&str]) -> Keywords {
        Keywords::new(words).unwrap()
    }

    #[test]
    fn plain_substrings_match_whatever_the_case() {
        let opt_out = keywords(&["stop", "unsubscribe", "退订"]);
        assert!(opt_out.found_in("STOP"));
        assert!(opt_out.found_in("I stopped reading"));
        assert!(opt_out.found_in("please UnSubscribe me"));
        assert!(opt_out.found_in("回复TD退订"));
        assert!(!opt_out.found_in("st op"));
        assert!(!opt_out.found_in(""));
        assert!(!opt_out.found_in("这个有优惠吗"));
    }

    #[test]
    fn a_match_may_start_after_a_false_start() {
        // "sto" begins a match that fails at 'o' → 'p'; the real one starts two letters later.
        assert!(keywords(&["stop"]).found_in("ststop"));
        assert!(keywords(&["sale"]).found_in("wholesale"));
    }

    #[test]
    fn keywords_are_lowered_when_configured() {
        let words = keywords(&["Deal", "ÉTÉ"]);
        assert_eq!(
            words.as_slice(),
            [Box::from("deal"), Box::from("été")].as_slice()
        );
        assert!(words.found_in("big DEALS"));
        assert!(words.found_in("soldes d'Été"));
    }

    #[test]
    fn lowering_that_changes_length_still_matches() {
        // 'İ' (U+0130) lowers to "i̇", two chars; the keyword is lowered the same way.
        let words = keywords(&["İstanbul"]);
        assert!(words.found_in("İSTANBUL trip"));
        assert!(!words.found_in("istanbul")); // no combining dot: a different word
    }

    #[test]
    fn empty_keywords_are_rejected() {
        assert_eq!(
            Keywords::new(["stop", ""]).unwrap_err(),
            EmptyKeyword { index: 1 }
        );
        let parsed: Result<Keywords, _> = serde_json::from_str(r#"["a", ""]"#);
        assert!(parsed
            .unwrap_err()
            .to_string()
            .contains("keyword 1 is empty"));
    }

    #[test]
    fn serializes_as_the_lowered_list() {
        let text = serde_json::to_string(&keywords(&["SALE", "券"])).unwrap();
        assert_eq!(text, r#"["sale","券"]"#);
    }
}
