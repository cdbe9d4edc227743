//! [`MaybeTime`]: an optional event time in 8 bytes.
//!
//! `Option<EventTime>` takes 16 bytes (an `i64` has no spare bit pattern the compiler knows
//! of), and the state holds several of them per user. Event times lie in
//! `EventTime::MIN..=EventTime::MAX`, far from `i64::MIN`, so that value marks "none".

use crate::time::EventTime;

/// `Option<EventTime>` for event times, in the size of an `i64`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MaybeTime(i64);

impl MaybeTime {
    const NONE_MILLIS: i64 = i64::MIN;
    pub(crate) const NONE: MaybeTime = MaybeTime(Self::NONE_MILLIS);

    pub(crate) fn get(self) -> Option<EventTime> {
        (self.0 != Self::NONE_MILLIS).then_some(EventTime::from_millis(self.0))
    }

    pub(crate) fn is_some(self) -> bool {
        self.0 != Self::NONE_MILLIS
    }

    /// Keeps the later of the time held and `ts`.
    pub(crate) fn keep_latest(&mut self, ts: EventTime) {
        // NONE is below every event time, so `max` does it.
        debug_assert!(ts.millis() != Self::NONE_MILLIS);
        self.0 = self.0.max(ts.millis());
    }

    /// Keeps the earlier of the time held and `ts`.
    pub(crate) fn keep_earliest(&mut self, ts: EventTime) {
        self.0 = match self.get() {
            Some(held) => held.min(ts).millis(),
            None => ts.millis(),
        };
    }
}

impl Default for MaybeTime {
    fn default() -> Self {
        MaybeTime::NONE
    }
}

impl From<Option<EventTime>> for MaybeTime {
    fn from(ts: Option<EventTime>) -> Self {
        ts.map_or(MaybeTime::NONE, |ts| MaybeTime(ts.millis()))
    }
}

impl std::fmt::Debug for MaybeTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}
