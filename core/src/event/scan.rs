//! The JSON lexer under [`decode`](super::decode): one pass over the payload that validates all
//! of it and hands the fields the decoder wants to it as [`Raw`] slices, unconverted.
//!
//! Validation is exactly what `serde_json::from_slice::<serde_json::Value>` checks, so that
//! "invalid JSON" means the same here as in any other JSON tool: the grammar of RFC 8259
//! (numbers included), no control characters in strings, only JSON's escapes, every `\u`
//! surrogate paired, at most [`MAX_DEPTH`] nested containers, nothing after the value. Values
//! nobody reads (unknown fields, nested values) are validated as strictly as the others, but
//! neither converted nor stored. What the scanner does not do is convert numbers: the decoder
//! reads the few it wants from their text, exactly (see [`super::money`]).
//!
//! It works on `&str` (the payload passed `std::str::from_utf8` first), so every slice it
//! returns is a `&str` at ASCII boundaries, borrowed from the payload, without `unsafe`.

use std::fmt;

use super::json::JsonType;

/// The most containers one value may nest: deeper payloads are invalid, so that hostile input
/// costs bounded work and no reader that recurses over the structure can overflow its stack.
/// 127 is serde_json's limit (its recursion limit of 128 is hit by the 128th container), so the
/// two agree on which payloads are JSON.
pub(crate) const MAX_DEPTH: usize = 127;

/// Why the payload is not JSON, and where: the byte offset of the offending byte, or the
/// payload's length when it ends too early. Small (16 bytes), so that the scanner's results
/// come back in registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct JsonError {
    at: usize,
    problem: Problem,
    /// Whether the payload ended where `problem` wanted more.
    ended: bool,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (at, problem) = (self.at, self.problem.message());
        if self.ended {
            write!(f, "unexpected end at byte {at}: {problem}")
        } else {
            write!(f, "{problem} at byte {at}")
        }
    }
}

/// What the scanner expected and did not find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Problem {
    Value,
    Literal,
    Digit,
    Key,
    Colon,
    ObjectComma,
    ArrayComma,
    Object,
    Array,
    Container,
    CloseQuote,
    ControlCharacter,
    Escape,
    HexDigits,
    LoneSurrogate,
    TooDeep,
    TrailingText,
}

impl Problem {
    fn message(self) -> &'static str {
        match self {
            Problem::Value => "expected a JSON value",
            Problem::Literal => "expected a JSON value (`true`, `false` and `null` are lowercase)",
            Problem::Digit => "expected a digit in a number",
            Problem::Key => "expected a string key",
            Problem::Colon => "expected `:` after an object's key",
            Problem::ObjectComma => "expected `,` or `}` after an object's value",
            Problem::ArrayComma => "expected `,` or `]` after an array's element",
            Problem::Object => "expected an object",
            Problem::Array => "expected an array",
            Problem::Container => "expected an object or an array",
            Problem::CloseQuote => "expected `\"` to close the string",
            Problem::ControlCharacter => "control character (U+0000 to U+001F) in a string",
            Problem::Escape => "invalid escape in a string",
            Problem::HexDigits => "expected 4 hex digits after \\u",
            Problem::LoneSurrogate => "lone surrogate in a \\u escape",
            Problem::TooDeep => "containers nested more than 127 deep",
            Problem::TrailingText => "unexpected text after the JSON value",
        }
    }
}

/// One validated JSON value of the payload, not yet converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Raw<'a> {
    /// The value's JSON text, e.g. `"a\nb"` with its quotes, `12.5`, `{"qty":1}`.
    pub(crate) text: &'a str,
    pub(crate) kind: JsonType,
    /// Whether a string holds an escape, so that reading it has to build a new string.
    pub(crate) escaped: bool,
}

/// A cursor over a payload, at a byte offset.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    at: usize,
    /// Containers open around the cursor.
    depth: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Scanner {
            text,
            at: 0,
            depth: 0,
        }
    }

    /// Whether the next value (after whitespace) is an object, to be read with [`Self::object`].
    pub(crate) fn at_object(&mut self) -> bool {
        self.skip_whitespace();
        self.peek() == Some(b'{')
    }

    /// The next value, validated and skipped over.
    ///
    /// `value`, `key`, `string` and `find_special` are inlined into each object loop: as calls,
    /// their prologues and results passed through memory were about a sixth of the decoder's
    /// instructions (counted with callgrind on the benchmarks' payloads).
    #[inline(always)]
    pub(crate) fn value(&mut self) -> Result<Raw<'a>, JsonError> {
        self.skip_whitespace();
        let start = self.at;
        let mut escaped = false;
        let kind = match self.peek() {
            Some(b'"') => {
                escaped = self.string()?;
                JsonType::String
            }
            Some(b'{') => {
                self.skip_container()?;
                JsonType::Object
            }
            Some(b'[') => {
                self.skip_container()?;
                JsonType::Array
            }
            Some(b't') => self.literal("true", JsonType::Boolean)?,
            Some(b'f') => self.literal("false", JsonType::Boolean)?,
            Some(b'n') => self.literal("null", JsonType::Null)?,
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                JsonType::Number
            }
            _ => return Err(self.error(Problem::Value)),
        };
        Ok(self.raw(start, kind, escaped))
    }

    /// Checks that only whitespace is left after the value just read.
    pub(crate) fn end(mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(Problem::TrailingText)),
        }
    }

    /// Reads the object [`Self::at_object`] found, field by field. `names` are the keys the
    /// caller wants, best in the order producers write them: `field` gets each key's index in
    /// `names` (`None` for any other key), with the cursor before its value, and must consume
    /// that value (with [`Self::value`], or [`Self::object`] to capture inside it). Returns
    /// the whole object.
    ///
    /// Duplicate keys are the caller's to detect, for the fields it captures: it alone knows
    /// which keys it stores.
    pub(crate) fn object<E: From<JsonError>>(
        &mut self,
        names: &[&str],
        mut field: impl FnMut(&mut Self, Option<usize>) -> Result<(), E>,
    ) -> Result<Raw<'a>, E> {
        self.skip_whitespace();
        let start = self.at;
        self.open(b'{', Problem::Object)?;
        if !self.close_if(b'}') {
            let mut next = 0;
            loop {
                let index = self.key(names, next)?;
                if let Some(index) = index {
                    next = index + 1;
                }
                field(self, index)?;
                if self.close_if(b'}') {
                    break;
                }
                self.expect(b',', Problem::ObjectComma)?;
            }
        }
        Ok(self.raw(start, JsonType::Object, false))
    }

    /// Reads an array (the cursor before its `[`): `element` is called with the cursor before
    /// each element and must consume it, as in [`Self::object`].
    pub(crate) fn array<E: From<JsonError>>(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        self.skip_whitespace();
        self.open(b'[', Problem::Array)?;
        if !self.close_if(b']') {
            loop {
                element(self)?;
                if self.close_if(b']') {
                    break;
                }
                self.expect(b',', Problem::ArrayComma)?;
            }
        }
        Ok(())
    }

    fn raw(&self, start: usize, kind: JsonType, escaped: bool) -> Raw<'a> {
        Raw {
            text: &self.text[start..self.at],
            kind,
            escaped,
        }
    }

    /// An error at the cursor.
    fn error(&self, problem: Problem) -> JsonError {
        self.error_at(self.at, problem)
    }

    fn error_at(&self, at: usize, problem: Problem) -> JsonError {
        JsonError {
            at,
            problem,
            ended: at >= self.text.len(),
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.at).copied()
    }

    #[inline]
    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Consumes `byte`, after whitespace, or fails with `problem` at what is there instead.
    #[inline]
    fn expect(&mut self, byte: u8, problem: Problem) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(problem))
        }
    }

    /// Consumes the `bracket` that opens a container, one level deeper.
    fn open(&mut self, bracket: u8, problem: Problem) -> Result<(), JsonError> {
        self.expect(bracket, problem)?;
        if self.depth == MAX_DEPTH {
            return Err(self.error_at(self.at - 1, Problem::TooDeep));
        }
        self.depth += 1;
        Ok(())
    }

    /// Consumes the `bracket` that closes a container, if it comes next (after whitespace).
    #[inline]
    fn close_if(&mut self, bracket: u8) -> bool {
        self.skip_whitespace();
        let closes = self.peek() == Some(bracket);
        if closes {
            self.at += 1;
            self.depth -= 1;
        }
        closes
    }

    /// The key under the cursor (after whitespace) and its `:`: the key's index in `names`,
    /// if it is one of them.
    ///
    /// Producers write an object's fields in one order, so the name expected `next` is tried
    /// first, then all of them, each by comparing bytes: a name holds no escape, so a key equal
    /// to it is written as it is, and a match needs no scan. Only a key that is none of them
    /// is scanned, and unescaped if it has escapes (which no producer writes in a key, but
    /// JSON allows), to be compared again.
    #[inline(always)]
    fn key(&mut self, names: &[&str], next: usize) -> Result<Option<usize>, JsonError> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(self.error(Problem::Key));
        }
        let rest = &self.bytes()[self.at + 1..];
        let found = if names.get(next).is_some_and(|name| written_as(rest, name)) {
            Some(next)
        } else {
            names.iter().position(|name| written_as(rest, name))
        };
        let index = match found {
            Some(index) => {
                self.at += names[index].len() + 2;
                Some(index)
            }
            None => {
                let start = self.at + 1;
                if self.string()? {
                    let key = unescape(&self.text[start..self.at - 1])?;
                    names.iter().position(|&name| name == key)
                } else {
                    None
                }
            }
        };
        self.expect(b':', Problem::Colon)?;
        Ok(index)
    }

    /// Skips a key and its `:`, the cursor at the key (after whitespace).
    fn skip_key(&mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.peek() != Some(b'"') {
            return Err(self.error(Problem::Key));
        }
        self.string()?;
        self.expect(b':', Problem::Colon)
    }

    /// Consumes the string at the cursor's `"`; returns whether it holds an escape.
    #[inline(always)]
    fn string(&mut self) -> Result<bool, JsonError> {
        let bytes = self.bytes();
        let mut at = self.at + 1;
        let mut escaped = false;
        loop {
            at = find_special(bytes, at);
            match bytes.get(at) {
                Some(b'"') => {
                    self.at = at + 1;
                    return Ok(escaped);
                }
                Some(b'\\') => {
                    escaped = true;
                    at = escape(bytes, at)
                        .map_err(|problem| self.error_at(at, problem))?
                        .1;
                }
                Some(_) => {
                    return Err(self.error_at(at, Problem::ControlCharacter));
                }
                None => return Err(self.error_at(at, Problem::CloseQuote)),
            }
        }
    }

    /// `true`, `false` or `null`, spelt out in full.
    fn literal(&mut self, word: &'static str, kind: JsonType) -> Result<JsonType, JsonError> {
        if self.bytes()[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(kind)
        } else {
            Err(self.error(Problem::Literal))
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, of any length: reading its value is
    /// left to whoever wants it.
    fn number(&mut self) -> Result<(), JsonError> {
        let bytes = self.bytes();
        let mut at = self.at;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => at = digits(bytes, at + 1),
            _ => return Err(self.error_at(at, Problem::Digit)),
        }
        if bytes.get(at) == Some(&b'.') {
            at = self.at_least_one_digit(at + 1)?;
        }
        if let Some(b'e' | b'E') = bytes.get(at) {
            at += 1;
            if let Some(b'+' | b'-') = bytes.get(at) {
                at += 1;
            }
            at = self.at_least_one_digit(at)?;
        }
        self.at = at;
        Ok(())
    }

    /// Skips the object or array at the cursor without recursion: the kind of each container
    /// open inside it is one bit of `objects`, which [`MAX_DEPTH`] lets fit in a `u128`.
    fn skip_container(&mut self) -> Result<(), JsonError> {
        let outer = self.depth;
        // Bit `d` is set when the container `d + 1` levels inside `outer` is an object.
        let mut objects = 0u128;
        loop {
            // The cursor is at the start of a value.
            match self.peek() {
                Some(bracket @ (b'{' | b'[')) => {
                    self.open(bracket, Problem::Container)?;
                    let bit = 1u128 << (self.depth - outer - 1);
                    let closer = if bracket == b'{' {
                        objects |= bit;
                        b'}'
                    } else {
                        objects &= !bit;
                        b']'
                    };
                    if !self.close_if(closer) {
                        if closer == b'}' {
                            self.skip_key()?;
                        }
                        self.skip_whitespace();
                        continue;
                    }
                }
                _ => self.scalar()?,
            }
            // A value has ended: the container around it goes on, or closes.
            loop {
                if self.depth == outer {
                    return Ok(());
                }
                let in_object = objects & (1 << (self.depth - outer - 1)) != 0;
                if in_object {
                    if self.close_if(b'}') {
                        continue;
                    }
                    self.expect(b',', Problem::ObjectComma)?;
                    self.skip_key()?;
                } else {
                    if self.close_if(b']') {
                        continue;
                    }
                    self.expect(b',', Problem::ArrayComma)?;
                }
                break;
            }
            self.skip_whitespace();
        }
    }

    /// The offset after the digits from `at`, of which there must be one.
    fn at_least_one_digit(&self, at: usize) -> Result<usize, JsonError> {
        match self.bytes().get(at) {
            Some(b'0'..=b'9') => Ok(digits(self.bytes(), at + 1)),
            _ => Err(self.error_at(at, Problem::Digit)),
        }
    }

    /// A string, number or literal at the cursor.
    fn scalar(&mut self) -> Result<(), JsonError> {
        self.value().map(drop)
    }
}

/// The first offset from `at` whose byte ends a run of plain string content (`"`, `\` or a
/// control character), or the length of `bytes`.
///
/// Eight bytes at a time, with the bit tricks of "Determine if a word has a zero byte" (Sean
/// Anderson's Bit Twiddling Hacks): strings are most of a payload's bytes, and this is what
/// serde_json does too. Only the lowest flagged byte is exact (a borrow can flag bytes above
/// a match), and that is the one taken.
#[inline(always)]
fn find_special(bytes: &[u8], mut at: usize) -> usize {
    const ONES: u64 = u64::MAX / 255;
    const HIGH_BITS: u64 = ONES << 7;
    let has_byte = |word: u64, byte: u8| {
        let diff = word ^ (ONES * u64::from(byte));
        diff.wrapping_sub(ONES) & !diff
    };
    while let Some(chunk) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        let control = word.wrapping_sub(ONES * 0x20) & !word;
        let found = (control | has_byte(word, b'"') | has_byte(word, b'\\')) & HIGH_BITS;
        if found != 0 {
            return at + found.trailing_zeros() as usize / 8;
        }
        at += 8;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

/// Whether `rest`, the bytes after a key's opening quote, are `name` and the closing quote.
/// The quote is checked first: it rules most other names out without comparing them.
#[inline(always)]
fn written_as(rest: &[u8], name: &str) -> bool {
    let name = name.as_bytes();
    rest.get(name.len()) == Some(&b'"') && rest.starts_with(name)
}

/// The escape whose `\` is at `at`: the character it stands for and the offset after it.
/// A `\u` escape of a leading surrogate must be followed by one of a trailing surrogate; the
/// two make one character. A lone surrogate is an error, as in serde_json (Rust strings cannot
/// hold one).
fn escape(bytes: &[u8], at: usize) -> Result<(char, usize), Problem> {
    let simple = match bytes.get(at + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{8}',
        Some(b'f') => '\u{c}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => return unicode_escape(bytes, at),
        _ => return Err(Problem::Escape),
    };
    Ok((simple, at + 2))
}

/// The `\uXXXX` escape (with its pair, for a surrogate) whose `\` is at `at`.
fn unicode_escape(bytes: &[u8], at: usize) -> Result<(char, usize), Problem> {
    const LONE: Problem = Problem::LoneSurrogate;
    let first = hex4(bytes, at + 2)?;
    let code = match first {
        0xD800..=0xDBFF => {
            if bytes.get(at + 6..at + 8) != Some(b"\\u") {
                return Err(LONE);
            }
            match hex4(bytes, at + 8)? {
                second @ 0xDC00..=0xDFFF => {
                    let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                    return char::from_u32(code).map(|c| (c, at + 12)).ok_or(LONE);
                }
                _ => return Err(LONE),
            }
        }
        code => code,
    };
    // Fails exactly for a trailing surrogate on its own.
    char::from_u32(code).map(|c| (c, at + 6)).ok_or(LONE)
}

/// Four hex digits at `at`, as a number.
fn hex4(bytes: &[u8], at: usize) -> Result<u32, Problem> {
    let digits = bytes.get(at..at + 4).ok_or(Problem::HexDigits)?;
    digits.iter().try_fold(0, |value, &digit| {
        let digit = char::from(digit).to_digit(16).ok_or(Problem::HexDigits)?;
        Ok(value * 16 + digit)
    })
}

/// The value of string content that [`Scanner`] has validated, escapes replaced.
pub(crate) fn unescape(content: &str) -> Result<String, JsonError> {
    let bytes = content.as_bytes();
    let mut value = String::with_capacity(content.len());
    let mut copied = 0;
    while let Some(offset) = content[copied..].find('\\') {
        let at = copied + offset;
        value.push_str(&content[copied..at]);
        let (character, next) = escape(bytes, at).map_err(|problem| JsonError {
            at,
            problem,
            ended: false,
        })?;
        value.push(character);
        copied = next;
    }
    value.push_str(&content[copied..]);
    Ok(value)
}

/// The offset after the digits from `at`.
fn digits(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(at) {
        at += 1;
    }
    at
}

#[cfg(test)]
mod tests;
