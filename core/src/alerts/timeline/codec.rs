//! The timeline's part of the stored user (`profile_state`): absolute times are zigzag
//! varints, the own history's times distances from its `first_seen`, flags one bit each.
//! `docs/state.md` has both layouts: the current one, which stores a history only where the
//! timeline keeps one of its own, and version 2's, which stored it always.

use super::history::History;
use super::mark::Mark;
use super::{Class, Decided, Pending, StageTimeline, TIMELINE_KINDS};
use crate::signals::LifecycleStage;
use crate::state::codec::{invalid, Reader, StateDecodeError, Writer};
use crate::state::days::DayLog;
use crate::state::maybe_time::MaybeTime;
use crate::state::ProfileState;
use crate::time::EventTime;

/// The flags byte of the current layout.
const CURSOR: u8 = 1;
const RECHECK: u8 = 1 << 1;
const ACTIVATED: u8 = 1 << 2;
const OWN_HISTORY: u8 = 1 << 3;
const FOLLOWS_STATE: u8 = 1 << 4;

/// The stage byte of a timeline that has settled no instant.
const NO_STAGE: u8 = u8::MAX;

impl StageTimeline {
    /// Appends the timeline of a user whose profile state is `state`.
    pub(crate) fn encode(&self, state: &ProfileState, w: &mut Writer) {
        let mark = self.decided.mark;
        let mut first = None;
        let (history, pending, follows_state) = self.parts(state, &mut first);
        let flags = [
            (mark.cursor().is_some(), CURSOR),
            (mark.recheck(), RECHECK),
            (mark.activated(), ACTIVATED),
            (history.is_some(), OWN_HISTORY),
            (follows_state, FOLLOWS_STATE),
        ];
        w.u8(flags
            .into_iter()
            .filter(|&(set, _)| set)
            .fold(0, |flags, (_, bit)| flags | bit));
        if let Some(cursor) = mark.cursor() {
            w.signed(cursor.millis());
        }
        w.u8(mark.stage().map_or(NO_STAGE, |stage| stage as u8));
        if let Some(history) = history {
            history.encode(w);
        }
        encode_pending(pending, w);
        self.decided.encode_fired(w);
    }

    /// Reads what [`StageTimeline::encode`] wrote, for a user whose profile state is `state`.
    pub(crate) fn decode(r: &mut Reader, state: &ProfileState) -> Result<Self, StateDecodeError> {
        let flags = r.u8("timeline flags")?;
        if flags >= 1 << 5 {
            return Err(invalid("timeline flags", "unknown flags set"));
        }
        let mut mark = Mark::default();
        if flags & CURSOR != 0 {
            mark.set_cursor(time(r, "timeline cursor")?);
        }
        if let Some(stage) = stage(r)? {
            mark.replace_stage(stage);
        }
        let history = (flags & OWN_HISTORY != 0)
            .then(|| History::decode(r))
            .transpose()?;
        let pending = decode_pending(r)?;
        let decided = Decided::finish(mark, flags & RECHECK != 0, flags & ACTIVATED != 0, r)?;
        Ok(StageTimeline::from_parts(
            decided,
            (history, pending, flags & FOLLOWS_STATE != 0),
            state,
        ))
    }

    /// Reads a timeline as version 2 of the stored user wrote it, with a copy of the history
    /// whether or not it was the state's. It is read as following the state, which every
    /// timeline the pipeline began with its user did: the copy is kept as the current layout
    /// keeps one, and dropped for the state's at the first decision that finds it idle.
    pub(crate) fn decode_version_2(
        r: &mut Reader,
        state: &ProfileState,
    ) -> Result<Self, StateDecodeError> {
        let flags = r.u8("timeline flags")?;
        if flags >= 1 << 3 {
            return Err(invalid("timeline flags", "unknown flags set"));
        }
        let mut mark = Mark::default();
        if flags & 2 != 0 {
            mark.set_cursor(time(r, "timeline cursor")?);
        }
        let mut activated = false;
        let history = if flags & 1 != 0 {
            let first_seen = time(r, "timeline first_seen")?;
            let history_flags = r.u8("timeline history flags")?;
            if history_flags >= 1 << 3 {
                return Err(invalid("timeline history flags", "unknown flags set"));
            }
            let (last_active, last_churn) = History::decode_times(first_seen, history_flags, r)?;
            activated = history_flags & 4 != 0;
            if let Some(stage) = stage(r)? {
                mark.replace_stage(stage);
            }
            Some(History {
                first_seen,
                last_active,
                last_churn,
                messages_sent: r.int("timeline messages_sent")?,
                days: DayLog::decode(first_seen, r)?,
            })
        } else {
            None
        };
        let pending = decode_pending(r)?;
        let decided = Decided::finish(mark, flags & 4 != 0, activated, r)?;
        Ok(StageTimeline::from_parts(
            decided,
            (history, pending, true),
            state,
        ))
    }

    /// A decoded timeline: a copy of the history is kept as it was stored.
    fn from_parts(
        decided: Decided,
        parts: (Option<History>, Vec<Pending>, bool),
        state: &ProfileState,
    ) -> Self {
        let mut timeline = StageTimeline {
            decided,
            apart: None,
        };
        timeline.set_parts(parts, true, state);
        timeline
    }
}

impl Decided {
    fn encode_fired(&self, w: &mut Writer) {
        let fired = self
            .fired
            .as_deref()
            .unwrap_or(&[MaybeTime::NONE; TIMELINE_KINDS]);
        let bits = fired
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, at)| bits | u8::from(at.is_some()) << i);
        w.u8(bits);
        for at in fired.iter().filter_map(|at| at.get()) {
            w.signed(at.millis());
        }
    }

    /// The flags read before the fired times, and the fired times.
    fn finish(
        mut mark: Mark,
        recheck: bool,
        activated: bool,
        r: &mut Reader,
    ) -> Result<Self, StateDecodeError> {
        if recheck {
            mark.set_recheck();
        }
        if activated {
            mark.set_activated();
        }
        let bits = r.u8("timeline fired")?;
        if u32::from(bits) >= 1 << TIMELINE_KINDS {
            return Err(invalid("timeline fired", "unknown kinds set"));
        }
        let mut fired = [MaybeTime::NONE; TIMELINE_KINDS];
        for (i, at) in fired.iter_mut().enumerate() {
            if bits & 1 << i != 0 {
                *at = Some(time(r, "timeline fired time")?).into();
            }
        }
        Ok(Decided {
            mark,
            fired: (bits != 0).then(|| Box::new(fired)),
        })
    }
}

impl History {
    fn encode(&self, w: &mut Writer) {
        let base = self.first_seen;
        w.signed(base.millis());
        w.u8(u8::from(self.last_active.is_some()) | u8::from(self.last_churn.is_some()) << 1);
        for ts in [self.last_active.get(), self.last_churn.get()]
            .into_iter()
            .flatten()
        {
            w.after(base, ts);
        }
        w.varint(self.messages_sent.into());
        self.days.encode(base, w);
    }

    fn decode(r: &mut Reader) -> Result<Self, StateDecodeError> {
        let first_seen = time(r, "timeline first_seen")?;
        let flags = r.u8("timeline history flags")?;
        if flags >= 1 << 2 {
            return Err(invalid("timeline history flags", "unknown flags set"));
        }
        let (last_active, last_churn) = History::decode_times(first_seen, flags, r)?;
        Ok(History {
            first_seen,
            last_active,
            last_churn,
            messages_sent: r.int("timeline messages_sent")?,
            days: DayLog::decode(first_seen, r)?,
        })
    }

    /// `last_active` and `last_churn`, present as flag bits 0 and 1 say.
    fn decode_times(
        first_seen: EventTime,
        flags: u8,
        r: &mut Reader,
    ) -> Result<(MaybeTime, MaybeTime), StateDecodeError> {
        let mut optional = |bit: u8, field| {
            (flags & 1 << bit != 0)
                .then(|| r.after(first_seen, field))
                .transpose()
        };
        let last_active = optional(0, "timeline last_active")?;
        let last_churn = optional(1, "timeline last_churn")?;
        Ok((last_active.into(), last_churn.into()))
    }
}

fn encode_pending(pending: &[Pending], w: &mut Writer) {
    w.varint(pending.len() as u128);
    for event in pending {
        w.signed(event.ts.millis());
        w.u8(event.class as u8);
    }
}

fn decode_pending(r: &mut Reader) -> Result<Vec<Pending>, StateDecodeError> {
    let count = r.count("timeline pending count")?;
    let mut pending = Vec::with_capacity(count);
    for _ in 0..count {
        let ts = time(r, "timeline pending time")?;
        let class = *Class::ALL
            .get(usize::from(r.u8("timeline pending class")?))
            .ok_or(invalid("timeline pending class", "unknown class"))?;
        pending.push(Pending { ts, class });
    }
    Ok(pending)
}

/// The stage byte: a stage's code, or [`NO_STAGE`].
fn stage(r: &mut Reader) -> Result<Option<LifecycleStage>, StateDecodeError> {
    match r.u8("timeline stage")? {
        NO_STAGE => Ok(None),
        code => LifecycleStage::ALL
            .get(usize::from(code))
            .copied()
            .map(Some)
            .ok_or(invalid("timeline stage", "unknown stage")),
    }
}

/// An absolute time, checked to be an event time.
fn time(r: &mut Reader, field: &'static str) -> Result<EventTime, StateDecodeError> {
    EventTime::try_from_millis(r.signed(field)?)
        .map_err(|_| invalid(field, "outside the years 0000 to 9999"))
}
