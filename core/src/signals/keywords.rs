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
//!
//! # How a text is searched
//!
//! All keywords are searched at once, by an Aho-Corasick DFA built with the configuration
//! (one state transition per byte of text, whatever the number of keywords), in one of two
//! ways:
//!
//! - **ASCII text** (most search queries) is searched as it is, with the automaton's own
//!   search loop and prefilter, ASCII case folded by the automaton. That equals searching the
//!   lowered text because an ASCII character lowers to its ASCII lower case and to nothing
//!   else, and a lowered keyword holds no ASCII capital; a keyword with a non-ASCII character
//!   (whether configured so or lowered from one, like "İ" → "i̇") can never match ASCII text.
//! - **Other text** is lowered while it streams through the automaton: the search state is
//!   carried from byte to byte, so the bytes of each lowered character are fed to it as they
//!   come and nothing is copied. Lowering into a buffer would need chunks with an overlap of
//!   the longest keyword (or an allocation for long texts) to find matches across a chunk's
//!   edge; feeding the automaton byte by byte has no edges. Characters whose lowering the
//!   Unicode tables would have to be searched for are the slow case: the CJK block
//!   (U+3000–U+9FFF, three UTF-8 bytes with a lead byte 0xE3–0xE9, no case at all) is fed
//!   as it is without a table lookup, and so is ASCII, whose case the automaton folds; any
//!   other character goes through `char::to_lowercase`, which may give a character of another
//!   length in bytes (KELVIN SIGN "K", 3 bytes, lowers to ASCII "k") or two characters ("İ").

use aho_corasick::automaton::Automaton;
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, Input, MatchKind};
use serde::{Deserialize, Serialize};

/// A non-empty set of lower-case keywords, matched as substrings of a text lowered the same way.
///
/// Deserialized from a list of strings: each is lowered, and an empty keyword is rejected (it
/// would match every text). Two lists are equal when their lowered words are, in order.
#[derive(Clone, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Keywords {
    words: Vec<Box<str>>,
    /// Every word of `words`, as bytes, ASCII case-insensitively (see the module's doc).
    automaton: DFA,
}

impl Keywords {
    /// Lowers each word and builds the automaton that finds them; fails on an empty word.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Result<Self, KeywordsError> {
        let words: Vec<Box<str>> = words
            .into_iter()
            .enumerate()
            .map(|(index, word)| match lower(word.as_ref()) {
                lowered if lowered.is_empty() => Err(KeywordsError::Empty { index }),
                lowered => Ok(lowered.into_boxed_str()),
            })
            .collect::<Result<_, _>>()?;
        let automaton = DFA::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .build(words.iter().map(|word| word.as_bytes()))
            .map_err(|source| KeywordsError::TooLarge {
                words: words.len(),
                bytes: words.iter().map(|word| word.len()).sum(),
                source,
            })?;
        Ok(Keywords { words, automaton })
    }

    /// The keywords, lowered.
    pub fn as_slice(&self) -> &[Box<str>] {
        &self.words
    }

    /// Whether `text`, lowered, contains one of the keywords.
    pub fn found_in(&self, text: &str) -> bool {
        if text.is_ascii() {
            self.automaton
                .try_find(&Input::new(text).earliest(true))
                .expect("an unanchored search of a DFA built unanchored does not fail")
                .is_some()
        } else {
            self.found_in_lowered_stream(text)
        }
    }

    /// [`Keywords::found_in`] for text with non-ASCII characters: lowers each character as it
    /// feeds its bytes to the automaton.
    fn found_in_lowered_stream(&self, text: &str) -> bool {
        let automaton = &self.automaton;
        let mut state = automaton
            .start_state(Anchored::No)
            .expect("the DFA is built for unanchored searches");
        let mut step = |byte: u8| {
            state = automaton.next_state(Anchored::No, state, byte);
            automaton.is_match(state)
        };
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(&lead) = bytes.get(at) {
            if lead < 0x80 {
                // ASCII: the automaton folds its case.
                if step(lead) {
                    return true;
                }
                at += 1;
            } else if CASELESS_LEADS.contains(&lead) {
                // U+3000–U+9FFF, always three bytes in valid UTF-8: no case to lower.
                if step(lead) || step(bytes[at + 1]) || step(bytes[at + 2]) {
                    return true;
                }
                at += 3;
            } else {
                let c = text[at..]
                    .chars()
                    .next()
                    .expect("`at` is on a char boundary");
                let mut utf8 = [0; 4];
                for lowered in c.to_lowercase() {
                    if lowered.encode_utf8(&mut utf8).bytes().any(&mut step) {
                        return true;
                    }
                }
                at += c.len_utf8();
            }
        }
        false
    }
}

/// The lead bytes of the three-byte UTF-8 sequences of U+3000–U+9FFF (CJK symbols, kana, CJK
/// ideographs), none of which has a lower case other than itself (tested below).
const CASELESS_LEADS: std::ops::RangeInclusive<u8> = 0xE3..=0xE9;

fn lower(word: &str) -> String {
    word.chars().flat_map(char::to_lowercase).collect()
}

impl PartialEq for Keywords {
    fn eq(&self, other: &Self) -> bool {
        self.words == other.words
    }
}

impl Eq for Keywords {}

impl std::fmt::Debug for Keywords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Keywords").field(&self.words).finish()
    }
}

/// A keyword list that cannot be matched.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeywordsError {
    #[error("keyword {index} is empty, and an empty keyword would match every text")]
    Empty {
        /// Position of the empty keyword in the list, from 0.
        index: usize,
    },
    #[error("{words} keywords of {bytes} bytes in all are too many to search at once")]
    TooLarge {
        words: usize,
        bytes: usize,
        #[source]
        source: aho_corasick::BuildError,
    },
}

impl TryFrom<Vec<String>> for Keywords {
    type Error = KeywordsError;

    fn try_from(words: Vec<String>) -> Result<Self, Self::Error> {
        Keywords::new(words)
    }
}

impl From<Keywords> for Vec<String> {
    fn from(keywords: Keywords) -> Self {
        keywords.words.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn keywords(words: &[&str]) -> Keywords {
        Keywords::new(words).unwrap()
    }

    /// The definition, tried at every position: whether the lowered `text` has one of `words`
    /// (lowered already) at some position. The oracle of the automaton.
    fn naive_found_in(words: &[Box<str>], text: &str) -> bool {
        let starts_with = |mut chars: std::iter::FlatMap<_, _, _>, word: &str| {
            word.chars().all(|expected| chars.next() == Some(expected))
        };
        let mut rest = text.chars().flat_map(char::to_lowercase);
        loop {
            if words.iter().any(|word| starts_with(rest.clone(), word)) {
                return true;
            }
            if rest.next().is_none() {
                return false;
            }
        }
    }

    #[test]
    fn plain_substrings_match_whatever_the_case() {
        let opt_out = keywords(&["stop", "unsubscribe", "退订"]);
        assert!(opt_out.found_in("STOP"));
        assert!(opt_out.found_in("I stopped reading"));
        assert!(opt_out.found_in("please UnSubscribe me"));
        assert!(opt_out.found_in("回复TD退订"));
        assert!(opt_out.found_in("回复STOP退"));
        assert!(!opt_out.found_in("st op"));
        assert!(!opt_out.found_in(""));
        assert!(!opt_out.found_in("这个有优惠吗"));
    }

    #[test]
    fn a_match_may_start_after_a_false_start() {
        // "sto" begins a match that fails at 'o' → 'p'; the real one starts two letters later.
        assert!(keywords(&["stop"]).found_in("ststop"));
        assert!(keywords(&["sale"]).found_in("wholesale"));
        assert!(keywords(&["stop"]).found_in("ststöp ststop"));
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
    fn characters_that_lower_to_ascii_match_ascii_keywords() {
        // KELVIN SIGN (U+212A) lowers to ASCII 'k', in the text and in a keyword alike.
        let words = keywords(&["kit"]);
        assert!(words.found_in("\u{212A}IT"));
        assert!(keywords(&["\u{212A}it"]).found_in("KIT"));
        // ASCII text never holds the two chars of a lowered 'İ'.
        assert!(!keywords(&["İ"]).found_in("I i"));
        assert!(keywords(&["İ"]).found_in("i\u{307}"));
    }

    #[test]
    fn the_cjk_block_has_no_case() {
        for c in '\u{3000}'..='\u{9FFF}' {
            assert!(c.to_lowercase().eq([c]), "{c:?} lowers to something else");
            let mut utf8 = [0; 4];
            let lead = c.encode_utf8(&mut utf8).as_bytes()[0];
            assert!(CASELESS_LEADS.contains(&lead), "{c:?}");
        }
        // And the lead bytes are those of the block alone.
        assert_eq!('\u{2FFF}'.encode_utf8(&mut [0; 4]).as_bytes()[0], 0xE2);
        assert_eq!('\u{A000}'.encode_utf8(&mut [0; 4]).as_bytes()[0], 0xEA);
    }

    #[test]
    fn empty_keywords_are_rejected() {
        assert!(matches!(
            Keywords::new(["stop", ""]).unwrap_err(),
            KeywordsError::Empty { index: 1 }
        ));
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
        let back: Keywords = serde_json::from_str(&text).unwrap();
        assert_eq!(back, keywords(&["sale", "券"]));
        assert_ne!(back, keywords(&["券", "sale"]));
    }

    /// Characters whose lowering is interesting: ASCII of both cases, characters that lower to
    /// ASCII or to two characters or to another length in bytes, Greek sigmas, CJK; then any
    /// character at all.
    fn interesting_char() -> impl Strategy<Value = char> {
        const CHOSEN: [char; 35] = [
            'a', 'A', 'i', 'I', 'k', 'K', 's', 'S', 't', 'T', ' ', '1',        //
            '\u{212A}', // KELVIN SIGN, lowers to 'k'
            '\u{2126}', // OHM SIGN, lowers to 'ω'
            'ω', 'İ', '\u{307}', 'ß', '\u{1E9E}', 'Σ', 'σ', 'ς', 'É', 'é', //
            'Ａ', 'ａ', 'Ⱥ', 'ⱥ', // fullwidth A; Ⱥ (2 bytes) lowers to ⱥ (3 bytes)
            '退', '订', '优', '惠', '\u{3000}', '\u{9FFF}', '\u{A000}', //
        ];
        prop_oneof![
            6 => proptest::sample::select(CHOSEN.as_slice()),
            1 => any::<char>(),
        ]
    }

    fn string(chars: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = String> {
        proptest::collection::vec(interesting_char(), chars)
            .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn the_automaton_agrees_with_the_definition(
            words in proptest::collection::vec(string(1..=3), 1..4),
            text in string(0..=16),
            noise in string(0..=4),
            embed in any::<bool>(),
        ) {
            let keywords = Keywords::new(&words).unwrap();
            // Half the texts contain a keyword, with its case changed, between other chars.
            let text = if embed {
                let upper: String = words[0].chars().flat_map(char::to_uppercase).collect();
                format!("{text}{upper}{noise}")
            } else {
                text
            };
            prop_assert_eq!(
                keywords.found_in(&text),
                naive_found_in(keywords.as_slice(), &text),
                "words {:?}, text {:?}", keywords.as_slice(), text
            );
        }
    }
}
