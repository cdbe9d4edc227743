//! The restore's read of `profile_state`, row by row as the response arrives.
//!
//! [`ClickHouseSink::read_states`](super::ClickHouseSink::read_states) hands over the raw
//! RowBinary response in [`StateChunk`]s, as ClickHouse sends them, and [`StateRows`] cuts
//! them into rows borrowed from the chunks ([`StoredStateRef`]). The restore rebuilds a shard
//! from them on a thread of its own while the rest of the response is still coming
//! (docs/pipeline.md, "Restoring a partition"): the `clickhouse` crate's typed read would
//! deserialize every row into an owned value (a `String` and a `Vec` each) on the async
//! executor first, and only hand them over once the whole response was in.
//!
//! The layout is that of the query's columns, in order (RowBinary carries no types):
//! `user_id` and `state` as `String` (a LEB128 length, then the bytes), `version` `UInt64`,
//! `updated_at` `DateTime` (`u32`), `next_change_ms` and `alert_due_ms` `Int64` (the least
//! `Int64` for none), `deadlines_fingerprint` `UInt64`; integers little endian.

use bytes::Bytes;

use super::rows::NO_DEADLINE;
use super::StoredDeadlines;

/// One piece of the response, as received: rows may begin in one and end in the next.
#[derive(Debug, Clone)]
pub struct StateChunk(pub(super) Bytes);

impl std::ops::Deref for StateChunk {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A `profile_state` row as the restore reads it, borrowed from the response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredStateRef<'a> {
    pub user_id: &'a str,
    /// The blob from core's state codec: binary, not UTF-8.
    pub state: &'a [u8],
    /// The version of the last profile row written for the user.
    pub version: u64,
    /// The watermark that row was evaluated at, in whole seconds.
    pub updated_at: u32,
    pub deadlines: StoredDeadlines,
}

/// A `profile_state` row, owned: for whoever keeps rows beyond the chunks they came in (tests,
/// benchmarks).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredState {
    pub user_id: String,
    pub state: Vec<u8>,
    pub version: u64,
    pub updated_at: u32,
    pub next_change_ms: Option<i64>,
    pub alert_due_ms: Option<i64>,
    pub deadlines_fingerprint: u64,
}

impl StoredState {
    /// The deadlines stored beside the state.
    pub fn deadlines(&self) -> StoredDeadlines {
        StoredDeadlines {
            next_change_ms: self.next_change_ms,
            alert_due_ms: self.alert_due_ms,
            fingerprint: self.deadlines_fingerprint,
        }
    }

    /// The row, borrowed, as [`StateRows`] reads it.
    pub fn as_ref(&self) -> StoredStateRef<'_> {
        StoredStateRef {
            user_id: &self.user_id,
            state: &self.state,
            version: self.version,
            updated_at: self.updated_at,
            deadlines: self.deadlines(),
        }
    }
}

impl StoredStateRef<'_> {
    /// The row, owned.
    pub fn to_owned(&self) -> StoredState {
        StoredState {
            user_id: self.user_id.to_owned(),
            state: self.state.to_vec(),
            version: self.version,
            updated_at: self.updated_at,
            next_change_ms: self.deadlines.next_change_ms,
            alert_due_ms: self.deadlines.alert_due_ms,
            deadlines_fingerprint: self.deadlines.fingerprint,
        }
    }
}

/// A response that is not the rows the query asked for: a server or protocol fault, never
/// something a retry of the same read would be expected to mend silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateRowsError {
    #[error("the response ends inside a row of profile_state ({left} bytes left over)")]
    Truncated { left: usize },
    #[error("a row of profile_state has an invalid {field}")]
    Invalid { field: &'static str },
}

/// Either a row that could not be read, or the error of whoever was handed a row.
#[derive(Debug, thiserror::Error)]
pub enum RowError<E> {
    #[error(transparent)]
    Rows(#[from] StateRowsError),
    #[error(transparent)]
    Row(E),
}

/// Cuts the chunks of a response into rows. A row split between chunks is put together in a
/// buffer of its own; every other row is read where it lies.
#[derive(Debug, Default)]
pub struct StateRows {
    /// The start of a row whose end is in a later chunk.
    carry: Vec<u8>,
}

/// How much of a chunk is appended at a time to a split row until it is complete: a few rows'
/// worth, so that completing one copies little beyond it.
const CARRY_STEP: usize = 4096;

impl StateRows {
    /// Hands every row that `chunk` completes to `each`, in order, and keeps the start of a
    /// row it leaves unfinished for the next chunk.
    pub fn push<E>(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(StoredStateRef<'_>) -> Result<(), E>,
    ) -> Result<(), RowError<E>> {
        let mut rest = chunk;
        while !self.carry.is_empty() {
            if rest.is_empty() {
                return Ok(());
            }
            let step = rest.len().min(self.carry.len().max(CARRY_STEP));
            let before = self.carry.len();
            self.carry.extend_from_slice(&rest[..step]);
            match parse(&self.carry)? {
                None => rest = &rest[step..],
                Some((row, used)) => {
                    // The carry alone held no whole row, so the row ends in the bytes just
                    // appended: what follows it goes back to the chunk.
                    each(row).map_err(RowError::Row)?;
                    rest = &rest[used - before..];
                    self.carry.clear();
                }
            }
        }
        while !rest.is_empty() {
            match parse(rest)? {
                None => {
                    self.carry.extend_from_slice(rest);
                    break;
                }
                Some((row, used)) => {
                    each(row).map_err(RowError::Row)?;
                    rest = &rest[used..];
                }
            }
        }
        Ok(())
    }

    /// Checks that the response ended with a whole row.
    pub fn finish(self) -> Result<(), StateRowsError> {
        match self.carry.len() {
            0 => Ok(()),
            left => Err(StateRowsError::Truncated { left }),
        }
    }
}

/// The row at the start of `bytes` and its length, or `None` if `bytes` ends inside it.
fn parse(bytes: &[u8]) -> Result<Option<(StoredStateRef<'_>, usize)>, StateRowsError> {
    let mut r = Reader { bytes, at: 0 };
    match r.row() {
        Ok(row) => Ok(Some((row, r.at))),
        Err(Stop::End) => Ok(None),
        Err(Stop::Invalid(field)) => Err(StateRowsError::Invalid { field }),
    }
}

/// Why a row could not be read: its bytes end first (the rest is in the next chunk), or they
/// are not what the column's type allows.
enum Stop {
    End,
    Invalid(&'static str),
}

/// Reads RowBinary values.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn row(&mut self) -> Result<StoredStateRef<'a>, Stop> {
        let user_id = std::str::from_utf8(self.string()?).map_err(|_| Stop::Invalid("user_id"))?;
        Ok(StoredStateRef {
            user_id,
            state: self.string()?,
            version: u64::from_le_bytes(self.array()?),
            updated_at: u32::from_le_bytes(self.array()?),
            deadlines: StoredDeadlines {
                next_change_ms: self.deadline()?,
                alert_due_ms: self.deadline()?,
                fingerprint: u64::from_le_bytes(self.array()?),
            },
        })
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Stop> {
        let end = self.at.checked_add(len).ok_or(Stop::End)?;
        let taken = self.bytes.get(self.at..end).ok_or(Stop::End)?;
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Stop> {
        Ok(self.take(N)?.try_into().expect("N bytes were taken"))
    }

    /// A LEB128 length, then that many bytes. A length beyond `usize` cannot be taken, so it
    /// reads as a row that never ends, which [`StateRows::finish`] reports.
    fn string(&mut self) -> Result<&'a [u8], Stop> {
        let mut len = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)?[0];
            len |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return self.take(usize::try_from(len).map_err(|_| Stop::End)?);
            }
        }
        Err(Stop::Invalid("string length"))
    }

    fn deadline(&mut self) -> Result<Option<i64>, Stop> {
        let ms = i64::from_le_bytes(self.array()?);
        Ok((ms != NO_DEADLINE).then_some(ms))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn row(user_id: &str, state: &[u8], version: u64, deadlines: StoredDeadlines) -> StoredState {
        StoredState {
            user_id: user_id.to_owned(),
            state: state.to_vec(),
            version,
            updated_at: 1_714_564_800,
            next_change_ms: deadlines.next_change_ms,
            alert_due_ms: deadlines.alert_due_ms,
            deadlines_fingerprint: deadlines.fingerprint,
        }
    }

    /// RowBinary as ClickHouse writes it, by hand.
    fn encode(rows: &[StoredState]) -> Vec<u8> {
        let mut out = Vec::new();
        let string = |out: &mut Vec<u8>, bytes: &[u8]| {
            let mut len = bytes.len();
            while len >= 0x80 {
                out.push(len as u8 | 0x80);
                len >>= 7;
            }
            out.push(len as u8);
            out.extend_from_slice(bytes);
        };
        let deadline = |out: &mut Vec<u8>, value: Option<i64>| {
            out.extend_from_slice(&value.unwrap_or(i64::MIN).to_le_bytes());
        };
        for row in rows {
            string(&mut out, row.user_id.as_bytes());
            string(&mut out, &row.state);
            out.extend_from_slice(&row.version.to_le_bytes());
            out.extend_from_slice(&row.updated_at.to_le_bytes());
            deadline(&mut out, row.next_change_ms);
            deadline(&mut out, row.alert_due_ms);
            out.extend_from_slice(&row.deadlines_fingerprint.to_le_bytes());
        }
        out
    }

    fn read(chunks: &[&[u8]]) -> Result<Vec<StoredState>, StateRowsError> {
        let mut rows = StateRows::default();
        let mut read = Vec::new();
        for chunk in chunks {
            rows.push(chunk, |row| {
                read.push(row.to_owned());
                Ok::<_, ()>(())
            })
            .map_err(|error| match error {
                RowError::Rows(error) => error,
                RowError::Row(()) => unreachable!("the callback never fails"),
            })?;
        }
        rows.finish()?;
        Ok(read)
    }

    fn rows() -> Vec<StoredState> {
        let deadlines = StoredDeadlines {
            next_change_ms: Some(1_714_600_000_123),
            alert_due_ms: None,
            fingerprint: u64::MAX,
        };
        vec![
            row("u-1", &[2, 0xff, 0, 0x80], 7, deadlines),
            row("ü", &[], 1, StoredDeadlines::default()),
            // A blob longer than a chunk step, with a two-byte length.
            row(&"x".repeat(200), &[9; 5000], u64::MAX, deadlines),
            row(
                "",
                b"\x01",
                0,
                StoredDeadlines {
                    next_change_ms: Some(i64::MIN + 1),
                    alert_due_ms: Some(-1),
                    fingerprint: 0,
                },
            ),
        ]
    }

    proptest! {
        /// Wherever the response is cut, the same rows come out, and a response cut short
        /// is an error.
        #[test]
        fn rows_split_anywhere_read_the_same(cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            let rows = rows();
            let bytes = encode(&rows);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut % (bytes.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts {
                chunks.push(&bytes[start..cut]);
                start = cut;
            }
            chunks.push(&bytes[start..]);
            prop_assert_eq!(read(&chunks).unwrap(), rows);
        }

        #[test]
        fn a_response_cut_inside_a_row_is_an_error(len in 1usize..200) {
            let bytes = encode(&rows()[..2]);
            let len = len.min(bytes.len() - 1);
            // Cut between the two rows, the response is the first row, whole.
            prop_assume!(len != encode(&rows()[..1]).len());
            let truncated = matches!(read(&[&bytes[..len]]), Err(StateRowsError::Truncated { .. }));
            prop_assert!(truncated);
        }
    }

    #[test]
    fn an_id_that_is_not_utf8_is_invalid() {
        let mut bytes = encode(&rows()[..1]);
        bytes[1] = 0xff;
        assert_eq!(
            read(&[&bytes]),
            Err(StateRowsError::Invalid { field: "user_id" })
        );
    }
}
