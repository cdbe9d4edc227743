//! [`StoredUser`]: everything `profile_state` keeps about a user, so that a restarted or
//! newly assigned process can carry on exactly where the last flush left off.
//!
//! Five parts: the [`ProfileState`] (its own blob, unchanged, so its layout and tests stand
//! alone); the *applied offsets* (per input topic, the offset of the last event of this user
//! the state contains, so replayed events are recognised and skipped); the *partition's
//! progress* (per input topic, the latest event time the user's partition had reached when the
//! row was written: the greatest over a partition's rows is where its watermark stood, which a
//! restart must not fall behind); and the alert [`StageTimeline`], when alerts are on. Topics
//! are named rather than numbered so that a state read back under another `kafka.topics` list
//! never takes one topic's offsets for another's. Last, the names of the segments the user
//! was in at the flush that wrote the row (docs/segments.md), so that a restarted process
//! knows who enters and who leaves; named, so that a segment added, removed or reordered in
//! the configuration never inherits another's members.
//!
//! Layout: a version byte (2), the length of the profile state's blob and the blob, the
//! applied offsets and the partition's progress (each a count, then per topic its name and a
//! zigzag varint), a byte saying whether and in which layout the timeline follows (0 none; 2
//! the current one, which stores a copy of the history only where the timeline keeps one; 1
//! the first, which always did, still read), the timeline, and, only for a user in some
//! segment, a count of segment names and the names. The timeline is read with the state, which
//! it reads in place of a copy. (Versions before the applied offsets wrote a bare profile
//! state of its version 1, which no longer decodes: see `ProfileState`'s `VERSION`.)

use super::codec::{invalid, Reader, StateDecodeError, Writer};
use super::ProfileState;
use crate::alerts::StageTimeline;

/// The version byte of a stored user.
const VERSION: u8 = 2;
/// The byte before a timeline in its current layout; `TIMELINE_VERSION_2` before one as
/// version 2 first wrote it (a copy of the history always), still read.
const TIMELINE: u8 = 2;
const TIMELINE_VERSION_2: u8 = 1;

/// One user as `profile_state` holds them, the topic names borrowed from the blob (a restore
/// decodes millions of these, and only looks the names up).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser<'a> {
    pub state: ProfileState,
    /// Per input topic: the offset of the last event applied to `state`.
    pub applied: Vec<(&'a str, i64)>,
    /// Per input topic: the latest event time (epoch ms) the user's partition had reached.
    pub partition_latest: Vec<(&'a str, i64)>,
    pub timeline: Option<StageTimeline>,
    /// The segments the user was in; empty for most users, whose blob ends after the timeline.
    pub segments: Vec<&'a str>,
}

impl<'a> StoredUser<'a> {
    /// Appends the blob of a user made of these parts (borrowed: the pipeline keeps them
    /// apart). `applied` and `partition_latest` pair topic names with a value, if any.
    pub fn encode(
        state: &ProfileState,
        applied: &[(&str, Option<i64>)],
        partition_latest: &[(&str, Option<i64>)],
        timeline: Option<&StageTimeline>,
        out: &mut Vec<u8>,
    ) {
        let mut profile = Vec::new();
        state.encode(&mut profile);
        let mut w = Writer::new(out);
        w.u8(VERSION);
        w.varint(profile.len() as u128);
        w.bytes(&profile);
        for by_topic in [applied, partition_latest] {
            w.varint(by_topic.iter().filter(|(_, value)| value.is_some()).count() as u128);
            for (topic, value) in by_topic {
                if let Some(value) = value {
                    w.str(topic);
                    w.signed(*value);
                }
            }
        }
        match timeline {
            None => w.u8(0),
            Some(timeline) => {
                w.u8(TIMELINE);
                timeline.encode(state, &mut w);
            }
        }
    }

    /// Reads what [`StoredUser::encode`] wrote.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, StateDecodeError> {
        let mut r = Reader::new(bytes);
        match r
            .u8("stored version")
            .map_err(|_| StateDecodeError::Empty)?
        {
            VERSION => {}
            found => {
                return Err(StateDecodeError::UnsupportedVersion {
                    found,
                    supported: VERSION,
                })
            }
        }
        let len: usize = r.int("profile state length")?;
        let state = ProfileState::decode(r.bytes(len, "profile state")?)?;
        let applied = by_topic(&mut r, "applied offsets")?;
        let partition_latest = by_topic(&mut r, "partition latest")?;
        let timeline = match r.u8("timeline flag")? {
            0 => None,
            TIMELINE => Some(StageTimeline::decode(&mut r, &state)?),
            TIMELINE_VERSION_2 => Some(StageTimeline::decode_version_2(&mut r, &state)?),
            _ => return Err(invalid("timeline flag", "neither 0, 1 nor 2")),
        };
        let mut segments = Vec::new();
        if !r.is_empty() {
            for _ in 0..r.count("segments")? {
                segments.push(r.str("segments")?);
            }
        }
        r.finish()?;
        Ok(StoredUser {
            state,
            applied,
            partition_latest,
            timeline,
            segments,
        })
    }

    /// Appends the names of the segments a user is in to the blob [`StoredUser::encode`] wrote
    /// for them; nothing for a user in none. Apart from `encode` because a flush learns who is
    /// in which segment from the profiles it evaluated while encoding the states.
    pub fn append_segments<'s>(
        segments: impl ExactSizeIterator<Item = &'s str>,
        out: &mut Vec<u8>,
    ) {
        if segments.len() == 0 {
            return;
        }
        let mut w = Writer::new(out);
        w.varint(segments.len() as u128);
        for name in segments {
            w.str(name);
        }
    }
}

impl StoredUser<'_> {
    /// The partition's progress alone, from a blob [`StoredUser::decode`] reads: each topic's
    /// name (its bytes, not checked to be UTF-8: the caller compares them with the topics it
    /// reads) and latest event time, handed to `each`. A restore that leaves its users encoded
    /// still needs the greatest of these over a partition's rows. The profile state is skipped
    /// by its length and the applied offsets entry by entry, so nothing else is decoded, and
    /// nothing else is checked either: a blob this accepts may still fail to decode.
    pub fn read_partition_latest<'a>(
        bytes: &'a [u8],
        mut each: impl FnMut(&'a [u8], i64),
    ) -> Result<(), StateDecodeError> {
        let mut r = Reader::new(bytes);
        match r
            .u8("stored version")
            .map_err(|_| StateDecodeError::Empty)?
        {
            VERSION => {}
            found => {
                return Err(StateDecodeError::UnsupportedVersion {
                    found,
                    supported: VERSION,
                })
            }
        }
        let len: usize = r.int("profile state length")?;
        r.bytes(len, "profile state")?;
        for _ in 0..r.count("applied offsets")? {
            r.str_bytes("applied offsets")?;
            r.signed("applied offsets")?;
        }
        for _ in 0..r.count("partition latest")? {
            let topic = r.str_bytes("partition latest")?;
            each(topic, r.signed("partition latest")?);
        }
        Ok(())
    }
}

/// A count, then (topic name, zigzag varint) pairs.
fn by_topic<'a>(
    r: &mut Reader<'a>,
    field: &'static str,
) -> Result<Vec<(&'a str, i64)>, StateDecodeError> {
    let count = r.count(field)?;
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        let topic = r.str(field)?;
        values.push((topic, r.signed(field)?));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::alerts::AlertRules;
    use crate::signals::SignalConfig;
    use crate::testing::{arbitrary, at, state_of, view, Followed, DAY};
    use crate::time::EventTime;

    fn pairs<'a>(values: &[(&'a str, i64)]) -> Vec<(&'a str, Option<i64>)> {
        values.iter().map(|&(t, v)| (t, Some(v))).collect()
    }

    fn encode(user: &StoredUser) -> Vec<u8> {
        let mut blob = Vec::new();
        StoredUser::encode(
            &user.state,
            &pairs(&user.applied),
            &pairs(&user.partition_latest),
            user.timeline.as_ref(),
            &mut blob,
        );
        StoredUser::append_segments(user.segments.iter().copied(), &mut blob);
        blob
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Stored halfway and restored, a timeline raises exactly the alerts it would have
        /// raised uninterrupted; every truncated blob is an error, never a panic.
        #[test]
        fn a_restored_user_carries_on_as_if_never_stored(
            events in arbitrary::events(120, 1..30),
            split in 1usize..30,
            middle in 0..80 * DAY,
            offsets in proptest::collection::vec(("[a-z.]{1,12}", 0i64..1 << 40), 0..4),
            segments in proptest::collection::vec("[a-z_]{1,12}", 0..3),
        ) {
            let (config, rules) = (SignalConfig::default(), AlertRules::default());
            let split = split.min(events.len());
            let first = events.iter().map(|e| e.ts).min().unwrap();
            let middle = EventTime::from_millis(first.millis() + middle);
            let end = EventTime::from_millis(first.millis() + 200 * DAY);

            let mut whole = Followed::default();
            let mut expected = Vec::new();
            for event in &events[..split] {
                whole.record(event);
            }
            whole.advance(middle, &config, &rules, |a| expected.push(a));
            let user = StoredUser {
                state: whole.state.clone().unwrap(),
                applied: offsets.iter().map(|(t, o)| (t.as_str(), *o)).collect(),
                partition_latest: offsets.iter().map(|(t, o)| (t.as_str(), o * 3)).collect(),
                timeline: Some(whole.timeline.clone()),
                segments: segments.iter().map(String::as_str).collect(),
            };
            let blob = encode(&user);
            let without_segments = encode(&StoredUser { segments: Vec::new(), ..user.clone() });
            let restored = StoredUser::decode(&blob).unwrap();
            prop_assert_eq!(&restored, &user);
            let mut progress = Vec::new();
            StoredUser::read_partition_latest(&blob, |t, ms| progress.push((t, ms))).unwrap();
            let stored: Vec<(&[u8], i64)> =
                user.partition_latest.iter().map(|&(t, ms)| (t.as_bytes(), ms)).collect();
            prop_assert_eq!(progress, stored);

            let mut resumed = Followed {
                state: Some(restored.state),
                timeline: restored.timeline.unwrap(),
            };
            let mut alerts = expected.clone();
            for event in &events[split..] {
                whole.record(event);
                resumed.record(event);
            }
            whole.advance(end, &config, &rules, |a| expected.push(a));
            resumed.advance(end, &config, &rules, |a| alerts.push(a));
            prop_assert_eq!(alerts, expected);

            // Cut anywhere, the blob is an error, but where it is a whole blob of a user in
            // no segment.
            for len in 0..blob.len() {
                let decoded = StoredUser::decode(&blob[..len]);
                prop_assert_eq!(decoded.is_ok(), len == without_segments.len(), "{}", len);
            }
        }
    }

    /// A user as version 2 stored them, written by hand from its layout (docs/state.md): a
    /// view on day 100 decided up to 09:00 (`new`, one active day), and a view on day 101
    /// pending. The timeline's copy of the history is read back, kept while the view is
    /// pending, and the user carries on as if never stored.
    #[test]
    fn a_timeline_stored_by_version_2_restores_and_carries_on() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        let (first, second) = (view(at(100, 8)), view(at(101, 8)));
        let mut whole = Followed::default();
        let mut expected = Vec::new();
        whole.record(&first);
        whole.advance(at(100, 9), &config, &rules, |a| expected.push(a));
        whole.record(&second);
        let state = whole.state.clone().unwrap();

        let mut blob = Vec::new();
        let mut profile = Vec::new();
        state.encode(&mut profile);
        let mut w = Writer::new(&mut blob);
        w.u8(2);
        w.varint(profile.len() as u128);
        w.bytes(&profile);
        w.varint(0);
        w.varint(0);
        w.u8(1); // a timeline, in version 2's layout
        w.u8(0b011); // history and cursor
        w.signed(at(100, 9).millis());
        w.signed(first.ts.millis()); // history: first_seen
        w.u8(0b001); // last_active
        w.varint(0); // last_active after first_seen
        w.u8(crate::signals::LifecycleStage::New as u8);
        w.varint(0); // messages_sent
        state_of(std::slice::from_ref(&first))
            .days
            .encode(first.ts, &mut w);
        w.varint(1); // pending: the second view, user-initiated
        w.signed(second.ts.millis());
        w.u8(1);
        w.u8(0); // nothing fired

        let restored = StoredUser::decode(&blob).unwrap();
        let mut resumed = Followed {
            state: Some(restored.state),
            timeline: restored.timeline.unwrap(),
        };
        assert_eq!(resumed.next_due(&config), whole.next_due(&config));
        let mut alerts = expected.clone();
        whole.advance(at(300, 0), &config, &rules, |a| expected.push(a));
        resumed.advance(at(300, 0), &config, &rules, |a| alerts.push(a));
        assert_eq!(alerts.len(), 3, "at_risk, dormant, churned");
        assert_eq!(alerts, expected);
        assert_eq!(
            resumed, whole,
            "the copy is the state's once nothing is pending"
        );
    }
}
