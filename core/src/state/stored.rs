//! [`StoredUser`]: everything `profile_state` keeps about a user, so that a restarted or
//! newly assigned process can carry on exactly where the last flush left off.
//!
//! Three parts: the [`ProfileState`] (its own blob, unchanged, so its layout and tests stand
//! alone), the *applied offsets* (per input topic, by name, the offset of the last event of
//! this user the state contains, so replayed events are recognised and skipped), and the
//! alert [`StageTimeline`], when alerts are on. Topics are named rather than numbered so that
//! a state read back under another `kafka.topics` list never takes one topic's offsets for
//! another's.
//!
//! Layout: a version byte (2), the length of the profile state's blob and the blob, the
//! applied offsets (a count, then per topic its name and offset), a flag byte and the
//! timeline. A blob that starts with the profile state's own version byte (1) is read as a
//! state alone, with nothing applied and no timeline: what versions before the applied offsets
//! wrote.

use super::codec::{invalid, Reader, StateDecodeError, Writer};
use super::ProfileState;
use crate::alerts::StageTimeline;

/// The version byte of a stored user; 1 is a bare [`ProfileState`] blob.
const VERSION: u8 = 2;
const BARE_STATE: u8 = 1;

/// One user as `profile_state` holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    pub state: ProfileState,
    /// Per input topic: the offset of the last event applied to `state`.
    pub applied: Vec<(String, i64)>,
    pub timeline: Option<StageTimeline>,
}

impl StoredUser {
    /// Appends the blob of a user made of these parts (borrowed: the pipeline keeps them
    /// apart). `applied` pairs topic names with the offset applied there, if any.
    pub fn encode<'a>(
        state: &ProfileState,
        applied: impl Iterator<Item = (&'a str, Option<i64>)> + Clone,
        timeline: Option<&StageTimeline>,
        out: &mut Vec<u8>,
    ) {
        let mut profile = Vec::new();
        state.encode(&mut profile);
        let mut w = Writer::new(out);
        w.u8(VERSION);
        w.varint(profile.len() as u128);
        w.bytes(&profile);
        let applied = applied.filter_map(|(topic, offset)| Some((topic, offset?)));
        w.varint(applied.clone().count() as u128);
        for (topic, offset) in applied {
            w.str(topic);
            w.signed(offset);
        }
        match timeline {
            None => w.u8(0),
            Some(timeline) => {
                w.u8(1);
                timeline.encode(&mut w);
            }
        }
    }

    /// Reads what [`StoredUser::encode`] wrote, or a bare profile state blob.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateDecodeError> {
        let mut r = Reader::new(bytes);
        match r
            .u8("stored version")
            .map_err(|_| StateDecodeError::Empty)?
        {
            VERSION => {}
            BARE_STATE => {
                return Ok(StoredUser {
                    state: ProfileState::decode(bytes)?,
                    applied: Vec::new(),
                    timeline: None,
                })
            }
            found => {
                return Err(StateDecodeError::UnsupportedVersion {
                    found,
                    supported: VERSION,
                })
            }
        }
        let len: usize = r.int("profile state length")?;
        let state = ProfileState::decode(r.bytes(len, "profile state")?)?;
        let count = r.count("applied count")?;
        let mut applied = Vec::with_capacity(count);
        for _ in 0..count {
            let topic = r.str("applied topic")?.to_owned();
            applied.push((topic, r.signed("applied offset")?));
        }
        let timeline = match r.u8("timeline flag")? {
            0 => None,
            1 => Some(StageTimeline::decode(&mut r)?),
            _ => return Err(invalid("timeline flag", "neither 0 nor 1")),
        };
        r.finish()?;
        Ok(StoredUser {
            state,
            applied,
            timeline,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::alerts::{Alert, AlertRules};
    use crate::signals::SignalConfig;
    use crate::testing::{arbitrary, state_of, DAY};
    use crate::time::EventTime;

    fn encode(user: &StoredUser) -> Vec<u8> {
        let mut blob = Vec::new();
        let applied = user.applied.iter().map(|(t, o)| (t.as_str(), Some(*o)));
        StoredUser::encode(&user.state, applied, user.timeline.as_ref(), &mut blob);
        blob
    }

    fn round_trip(user: &StoredUser) -> StoredUser {
        StoredUser::decode(&encode(user)).unwrap()
    }

    #[test]
    fn a_bare_profile_state_blob_reads_as_a_user_with_nothing_applied() {
        let state = state_of(&[crate::testing::view(crate::testing::at(100, 8))]);
        let mut blob = Vec::new();
        state.encode(&mut blob);
        let user = StoredUser::decode(&blob).unwrap();
        assert_eq!(user.state, state);
        assert!(user.applied.is_empty());
        assert_eq!(user.timeline, None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Stored halfway and restored, a timeline raises exactly the alerts it would have
        /// raised uninterrupted; every truncated blob is an error, never a panic.
        #[test]
        fn a_restored_user_carries_on_as_if_never_stored(
            events in arbitrary::events(120, 1..30),
            split in 0usize..30,
            offsets in proptest::collection::vec(("[a-z.]{1,12}", 0i64..1 << 40), 0..4),
        ) {
            let (config, rules) = (SignalConfig::default(), AlertRules::default());
            let split = split.min(events.len());
            let first = events.iter().map(|e| e.ts).min().unwrap();
            let middle = EventTime::from_millis(first.millis() + 40 * DAY);
            let end = EventTime::from_millis(first.millis() + 200 * DAY);
            let run = |timeline: &mut StageTimeline, to, alerts: &mut Vec<Alert>| {
                timeline.advance("u", to, &config, &rules, |a| alerts.push(a));
            };

            let mut whole = StageTimeline::default();
            let mut expected = Vec::new();
            for event in &events[..split] {
                whole.record(event);
            }
            run(&mut whole, middle, &mut expected);
            let user = StoredUser {
                state: state_of(&events),
                applied: offsets,
                timeline: Some(whole.clone()),
            };
            let restored = round_trip(&user);
            prop_assert_eq!(&restored, &user);

            let mut resumed = restored.timeline.unwrap();
            let mut alerts = expected.clone();
            for event in &events[split..] {
                whole.record(event);
                resumed.record(event);
            }
            run(&mut whole, end, &mut expected);
            run(&mut resumed, end, &mut alerts);
            prop_assert_eq!(alerts, expected);

            let blob = encode(&user);
            for len in 0..blob.len() {
                prop_assert!(StoredUser::decode(&blob[..len]).is_err());
            }
        }
    }
}
