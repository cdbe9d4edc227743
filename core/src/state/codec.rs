//! The byte primitives of the state blob: LEB128 varints, zigzag for signed values, raw `f64`s.
//!
//! Varints keep the common case small (counters, deltas between timestamps, milliseconds of a
//! day) without a schema library: the blob is read by this crate only, its layout is documented
//! in `docs/state.md`, and its first byte is a version so a future layout can be told apart.
//! Every read names the field it is reading, so a corrupt blob says where it broke.

use crate::time::{EventTime, MILLIS_PER_DAY};

/// Why a `profile_state` blob could not be restored. Restoring is all-or-nothing: a blob that
/// fails any check is rejected rather than half-read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateDecodeError {
    /// The blob has no bytes at all.
    #[error("the state blob is empty")]
    Empty,
    /// The blob was written by a different layout version.
    #[error(
        "the state blob has layout version {found}, this build reads version {supported}; \
         rebuild the state by replaying the input topics"
    )]
    UnsupportedVersion { found: u8, supported: u8 },
    /// The blob ends in the middle of `field`.
    #[error("the state blob ends inside {field} (truncated?)")]
    Truncated { field: &'static str },
    /// `field` was read but breaks an invariant of the state.
    #[error("the state blob has an invalid {field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: &'static str,
    },
    /// Bytes are left over after the last field.
    #[error("the state blob has {count} unexpected bytes after its last field")]
    TrailingBytes { count: usize },
}

/// Appends fields to a blob.
pub(crate) struct Writer<'a>(&'a mut Vec<u8>);

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Writer(out)
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.0.push(value);
    }

    /// LEB128: seven bits per byte, low bits first, the high bit set on all but the last byte.
    pub(crate) fn varint(&mut self, mut value: u128) {
        while value >= 0x80 {
            self.0.push(value as u8 | 0x80);
            value >>= 7;
        }
        self.0.push(value as u8);
    }

    /// A signed value, zigzag-mapped (0, −1, 1, −2, … → 0, 1, 2, 3, …) so small magnitudes of
    /// either sign stay short.
    pub(crate) fn signed(&mut self, value: i64) {
        self.varint(u128::from(((value << 1) ^ (value >> 63)) as u64));
    }

    /// A timestamp as its distance after `base`, which the caller guarantees is not later.
    pub(crate) fn after(&mut self, base: EventTime, ts: EventTime) {
        debug_assert!(ts >= base, "{ts} is before the base {base}");
        self.varint((ts.millis() - base.millis()) as u128);
    }

    pub(crate) fn f64(&mut self, value: f64) {
        self.0.extend_from_slice(&value.to_le_bytes());
    }

    pub(crate) fn str(&mut self, value: &str) {
        self.varint(value.len() as u128);
        self.0.extend_from_slice(value.as_bytes());
    }

    /// Raw bytes; the reader must know their length.
    pub(crate) fn bytes(&mut self, value: &[u8]) {
        self.0.extend_from_slice(value);
    }
}

/// Reads fields back, in the order they were written.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, StateDecodeError> {
        let (&first, rest) = self
            .rest
            .split_first()
            .ok_or(StateDecodeError::Truncated { field })?;
        self.rest = rest;
        Ok(first)
    }

    pub(crate) fn varint(&mut self, field: &'static str) -> Result<u128, StateDecodeError> {
        // Nearly every value (counts, lengths, time deltas) ends within 9 bytes, 63 bits: read
        // those in `u64` arithmetic, which cannot overflow there. Anything else (an item
        // spend's 128-bit sum, or bytes that are truncated or corrupt) takes the general way.
        let mut value = 0u64;
        for (index, &byte) in self.rest.iter().take(9).enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                self.rest = &self.rest[index + 1..];
                return Ok(u128::from(value));
            }
        }
        self.wide_varint(field)
    }

    /// [`Reader::varint`] in `u128` arithmetic, checking every step.
    fn wide_varint(&mut self, field: &'static str) -> Result<u128, StateDecodeError> {
        let mut value = 0u128;
        for shift in (0..128).step_by(7) {
            let byte = self.u8(field)?;
            let bits = u128::from(byte & 0x7f);
            if bits << shift >> shift != bits {
                return Err(invalid(field, "varint overflows 128 bits"));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(invalid(field, "varint longer than 128 bits"))
    }

    /// The number of entries of a list that follows. Every entry takes at least one byte, so a
    /// count beyond the bytes left is corrupt (and must not size an allocation).
    pub(crate) fn count(&mut self, field: &'static str) -> Result<usize, StateDecodeError> {
        let count: usize = self.int(field)?;
        if count > self.rest.len() {
            return Err(StateDecodeError::Truncated { field });
        }
        Ok(count)
    }

    /// A varint that must fit `T` (a counter, a length, milliseconds of a day).
    pub(crate) fn int<T: TryFrom<u128>>(
        &mut self,
        field: &'static str,
    ) -> Result<T, StateDecodeError> {
        T::try_from(self.varint(field)?).map_err(|_| invalid(field, "value out of range"))
    }

    pub(crate) fn signed(&mut self, field: &'static str) -> Result<i64, StateDecodeError> {
        let zigzag: u64 = self.int(field)?;
        Ok((zigzag >> 1) as i64 ^ -((zigzag & 1) as i64))
    }

    /// The inverse of [`Writer::after`]; the result must be a valid event time.
    pub(crate) fn after(
        &mut self,
        base: EventTime,
        field: &'static str,
    ) -> Result<EventTime, StateDecodeError> {
        let delta: i64 = self.int(field)?;
        base.millis()
            .checked_add(delta)
            .filter(|&ms| ms <= EventTime::MAX.millis())
            .map(EventTime::from_millis)
            .ok_or(invalid(field, "timestamp after 9999-12-31"))
    }

    /// Milliseconds since midnight: below one day.
    pub(crate) fn millis_of_day(&mut self, field: &'static str) -> Result<u32, StateDecodeError> {
        let ms: u32 = self.int(field)?;
        if i64::from(ms) < MILLIS_PER_DAY {
            Ok(ms)
        } else {
            Err(invalid(field, "milliseconds of a day beyond 24 hours"))
        }
    }

    pub(crate) fn f64(&mut self, field: &'static str) -> Result<f64, StateDecodeError> {
        let bytes = self.take(8, field)?;
        Ok(f64::from_le_bytes(bytes.try_into().expect("took 8 bytes")))
    }

    pub(crate) fn str(&mut self, field: &'static str) -> Result<&'a str, StateDecodeError> {
        std::str::from_utf8(self.str_bytes(field)?).map_err(|_| invalid(field, "not UTF-8"))
    }

    /// What [`Writer::str`] wrote, its bytes not checked to be UTF-8: for a reader that only
    /// skips the string or compares it with known ones.
    pub(crate) fn str_bytes(&mut self, field: &'static str) -> Result<&'a [u8], StateDecodeError> {
        let len: usize = self.int(field)?;
        self.take(len, field)
    }

    /// `len` raw bytes.
    pub(crate) fn bytes(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<&'a [u8], StateDecodeError> {
        self.take(len, field)
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Succeeds when every byte has been read.
    pub(crate) fn finish(self) -> Result<(), StateDecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(StateDecodeError::TrailingBytes { count }),
        }
    }

    fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], StateDecodeError> {
        if self.rest.len() < len {
            return Err(StateDecodeError::Truncated { field });
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }
}

/// Shorthand for [`StateDecodeError::Invalid`].
pub(crate) fn invalid(field: &'static str, problem: &'static str) -> StateDecodeError {
    StateDecodeError::Invalid { field, problem }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The fast path reads what the checked one reads, and leaves the same rest.
        #[test]
        fn varint_reads_as_the_wide_reading_does(bytes in proptest::collection::vec(any::<u8>(), 0..24)) {
            let (mut fast, mut wide) = (Reader::new(&bytes), Reader::new(&bytes));
            prop_assert_eq!(fast.varint("v"), wide.wide_varint("v"));
            prop_assert_eq!(fast.rest, wide.rest);
        }

        #[test]
        fn every_u128_round_trips(value in any::<u128>(), shift in 0u32..128) {
            let value = value >> shift;
            let mut bytes = Vec::new();
            Writer::new(&mut bytes).varint(value);
            let mut reader = Reader::new(&bytes);
            prop_assert_eq!(reader.varint("v"), Ok(value));
            prop_assert!(reader.rest.is_empty());
        }
    }
}
