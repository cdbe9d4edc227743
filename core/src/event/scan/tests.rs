use proptest::prelude::*;
use serde_json::Value;

use super::*;

/// The scanner's verdict on a whole payload: its one value, then nothing else.
fn scan(text: &str) -> Result<Raw<'_>, JsonError> {
    let mut scanner = Scanner::new(text);
    let raw = scanner.value()?;
    scanner.end()?;
    Ok(raw)
}

/// Whether serde_json reads `text` as a `Value`: the definition of valid JSON here.
fn serde_accepts(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok()
}

#[test]
fn agrees_with_serde_json_on_the_grammar() {
    let cases = [
        "0",
        "-0",
        "01",
        "-",
        "-a",
        "1.",
        ".5",
        "1.5",
        "1e5",
        "1E+5",
        "1e-5",
        "1e",
        "1e+",
        "+1",
        "1.5e3.2",
        "0x10",
        "true",
        "tru",
        "True",
        "nulll",
        "null",
        "false",
        "\"\"",
        "\"a",
        "\"a\"\"",
        "\"\\\"",
        "\"\\x\"",
        "\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"",
        "\"\u{7f}\"",
        "\"\u{1f}\"",
        "\"\t\"",
        "[]",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1,[2,[3]],{}]",
        "{}",
        "{,}",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\" : 1 , \"b\" : [ ] }",
        "{1:2}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1]",
        "[1}",
        " \t\r\n{} \t\r\n",
        "{} {}",
        "{}x",
        "",
        "   ",
        "\u{feff}{}",
        "NaN",
        "Infinity",
        "-Infinity",
    ];
    for text in cases {
        assert_eq!(scan(text).is_ok(), serde_accepts(text), "{text:?}");
    }
}

#[test]
fn raw_values_keep_their_text_and_type() {
    let cases = [
        ("\"a\\nb\"", JsonType::String, true),
        ("\"ab\"", JsonType::String, false),
        ("-12.5e3", JsonType::Number, false),
        ("true", JsonType::Boolean, false),
        ("null", JsonType::Null, false),
        ("[1, {\"a\": [\"\\u0041\"]}]", JsonType::Array, false),
        ("{\"a\": \"\\u0041\"}", JsonType::Object, false),
    ];
    for (text, kind, escaped) in cases {
        let padded = format!(" {text} ");
        let raw = scan(&padded).unwrap();
        assert_eq!(
            raw,
            Raw {
                text,
                kind,
                escaped
            }
        );
    }
}

#[test]
fn escapes_are_unescaped_as_serde_json_does() {
    for json in [
        r#""plain""#,
        r#""\"\\\/\b\f\n\r\t""#,
        r#""\u0041\u00e9\u7528\uFFFF""#,
        r#""\ud83d\ude00 and \uD83D\uDE00""#,
        r#""\udbff\udfff""#,
        r#""a\u0000b""#,
        r#""用户 \u7528""#,
    ] {
        let content = &json[1..json.len() - 1];
        let expected: String = serde_json::from_str(json).unwrap();
        assert_eq!(unescape(content).unwrap(), expected, "{json}");
        assert_eq!(scan(json).unwrap().escaped, content.contains('\\'));
    }
}

#[test]
fn lone_surrogates_are_invalid_wherever_they_are() {
    for escape in [
        r"\ud800",
        r"\udbff",
        r"\udc00",
        r"\udfff",
        r"\ud800\u0041",
        r"\ud800\ud800",
        r"\udc00\ud800",
        r"\ud800\n",
        r"\ud800x",
    ] {
        for text in [
            format!(r#""{escape}""#),
            format!(r#"{{"{escape}": 1}}"#),
            format!(r#"[1, {{"a": ["x{escape}y"]}}]"#),
        ] {
            assert!(!serde_accepts(&text), "{text}");
            let error = scan(&text).unwrap_err();
            assert_eq!(error.problem, Problem::LoneSurrogate, "{text}");
        }
    }
}

#[test]
fn truncated_and_malformed_unicode_escapes_are_invalid() {
    for text in [
        r#""\u""#,
        r#""\u12""#,
        r#""\u12g4""#,
        r#""\ud83d\u""#,
        r#""\u"#,
    ] {
        assert!(!serde_accepts(text), "{text}");
        assert!(scan(text).is_err(), "{text}");
    }
}

#[test]
fn nesting_is_bounded_as_in_serde_json() {
    for (open, close) in [("[", "]"), ("{\"a\":", "}"), ("[{\"a\":", "}]")] {
        for depth in [1, 63, 126, 127, 128, 129, 400] {
            let text = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            let levels = depth * open.matches(['[', '{']).count();
            assert_eq!(scan(&text).is_ok(), levels <= MAX_DEPTH, "{levels} levels");
            assert_eq!(serde_accepts(&text), levels <= MAX_DEPTH, "{levels} levels");
        }
    }
    // The bound counts from the payload's top: an object read field by field counts too.
    let mut scanner = Scanner::new("{\"a\":[[[1]]]}");
    let inner = scanner.object(&[], |scanner, _| scanner.value().map(drop));
    assert!(inner.is_ok());
}

#[test]
fn errors_name_the_offending_byte() {
    let error = |text| scan(text).unwrap_err().to_string();
    assert_eq!(error("[1,]"), "expected a JSON value at byte 3");
    assert_eq!(
        error("{\"a\" 1}"),
        "expected `:` after an object's key at byte 5"
    );
    assert_eq!(
        error("\"a\u{1}\""),
        "control character (U+0000 to U+001F) in a string at byte 2"
    );
    assert_eq!(error("\"a\\qb\""), "invalid escape in a string at byte 2");
    assert_eq!(
        error("01"),
        "unexpected text after the JSON value at byte 1"
    );
    assert_eq!(
        error("{\"a\":1"),
        "unexpected end at byte 6: expected `,` or `}` after an object's value"
    );
    assert_eq!(
        error("\"abc"),
        "unexpected end at byte 4: expected `\"` to close the string"
    );
    assert_eq!(
        error(&"[".repeat(200)),
        "containers nested more than 127 deep at byte 127"
    );
}

#[test]
fn object_hands_over_the_index_of_each_known_key() {
    let names = ["a", "bc", "", "d"];
    let text =
        r#" { "d" : 1 , "b\u0063" : {"a": 2, "x\u0041": 3}, "" : [], "ab": 4, "a": 5, "bcd": 6 } "#;
    let mut indexes = Vec::new();
    let mut scanner = Scanner::new(text);
    let raw = scanner
        .object(&names, |scanner, index| {
            indexes.push(index);
            scanner.value().map(drop)
        })
        .unwrap();
    scanner.end().unwrap();
    // Escaped keys are compared unescaped; nested objects' keys are not handed over.
    assert_eq!(indexes, [Some(3), Some(1), Some(2), None, Some(0), None]);
    assert_eq!(raw.kind, JsonType::Object);
    assert_eq!(raw.text, text.trim());
}

#[test]
fn array_hands_over_each_element() {
    let mut elements = Vec::new();
    Scanner::new("[1, \"a\", [2], {}]")
        .array(|scanner| {
            elements.push(scanner.value()?.text);
            Ok::<_, JsonError>(())
        })
        .unwrap();
    assert_eq!(elements, ["1", "\"a\"", "[2]", "{}"]);
}

#[test]
fn special_bytes_are_found_at_every_offset_of_a_word() {
    // Multi-byte UTF-8 (high bit set) around the special byte must not be mistaken for it.
    for filler in ["a", "é", "\u{7f}"] {
        for special in ["\"", "\\", "\u{0}", "\u{1f}"] {
            for before in 0..20 {
                let text = format!("{}{special}{}", filler.repeat(before), filler.repeat(9));
                let at = before * filler.len();
                assert_eq!(find_special(text.as_bytes(), 0), at, "{text:?}");
                assert_eq!(find_special(text.as_bytes(), at), at, "{text:?}");
            }
        }
        let plain = filler.repeat(21);
        assert_eq!(find_special(plain.as_bytes(), 3), plain.len());
    }
    // A control byte below a quote in the same word: the lowest one is reported.
    assert_eq!(find_special(b"ab\x01\"efgh", 0), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_string_reads_back_from_serde_json_text(value in any::<String>()) {
        let json = serde_json::to_string(&value).unwrap();
        let raw = scan(&json).unwrap();
        let content = &raw.text[1..raw.text.len() - 1];
        prop_assert_eq!(raw.text, json.as_str());
        let read = if raw.escaped { unescape(content).unwrap() } else { content.to_owned() };
        prop_assert_eq!(read, value);
    }

    #[test]
    fn any_string_reads_back_with_every_character_escaped(value in any::<String>()) {
        let escaped: String = value
            .encode_utf16()
            .map(|unit| format!("\\u{unit:04x}"))
            .collect();
        let json = format!("\"{escaped}\"");
        prop_assert_eq!(scan(&json).unwrap().escaped, !value.is_empty());
        prop_assert_eq!(unescape(&escaped).unwrap(), value);
    }
}
