//! [`Mark`]: a timeline's cursor and what was settled at it, in one word.
//!
//! Every user has a timeline while alerts are on, so its always-present part is kept small:
//! the cursor (an event time, which fits in 49 bits), `stage(cursor)`, whether the activation
//! alert's instant is decided, whether a late event asks for the cursor to be looked at again,
//! and whether a new user's first event is pending take 8 bytes here where separate fields
//! took 16 and more.

use crate::signals::LifecycleStage;
use crate::time::EventTime;

/// The cursor in the low [`TIME_BITS`] bits (two's complement, sign-extended when read), and
/// the flags and the stage above it. All zeros is a timeline that has decided nothing.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Mark(u64);

/// Event times lie within ±2⁴⁸ ms (the years 0000 to 9999), well inside 56 bits.
const TIME_BITS: u32 = 56;
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
const HAS_CURSOR: u64 = 1 << 56;
const RECHECK: u64 = 1 << 57;
const ACTIVATED: u64 = 1 << 58;
const FIRST_PENDING: u64 = 1 << 62;
/// The stage's code plus one, 0 for none: three bits from here.
const STAGE_SHIFT: u32 = 59;
const STAGE_MASK: u64 = 0b111 << STAGE_SHIFT;

impl Mark {
    /// Every instant up to this one is decided; `None` until the first decision.
    pub(super) fn cursor(self) -> Option<EventTime> {
        (self.0 & HAS_CURSOR != 0).then(|| {
            EventTime::from_millis(((self.0 << (64 - TIME_BITS)) as i64) >> (64 - TIME_BITS))
        })
    }

    pub(super) fn set_cursor(&mut self, at: EventTime) {
        debug_assert!(at.millis().unsigned_abs() < 1 << (TIME_BITS - 1));
        self.0 = (self.0 & !TIME_MASK) | (at.millis() as u64 & TIME_MASK) | HAS_CURSOR;
    }

    /// `stage(cursor)`; `None` until the first instant is settled.
    pub(super) fn stage(self) -> Option<LifecycleStage> {
        let code = (self.0 & STAGE_MASK) >> STAGE_SHIFT;
        code.checked_sub(1)
            .map(|code| LifecycleStage::ALL[code as usize])
    }

    /// Sets the stage; returns the one it replaces.
    pub(super) fn replace_stage(&mut self, stage: LifecycleStage) -> Option<LifecycleStage> {
        let before = self.stage();
        self.0 = (self.0 & !STAGE_MASK) | (stage as u64 + 1) << STAGE_SHIFT;
        before
    }

    /// Whether the activation alert's instant has been decided.
    pub(super) fn activated(self) -> bool {
        self.0 & ACTIVATED != 0
    }

    pub(super) fn set_activated(&mut self) {
        self.0 |= ACTIVATED;
    }

    /// A new user's first event is pending, and the state holds it alone (see
    /// [`StageTimeline`](super::StageTimeline)).
    pub(super) fn first_pending(self) -> bool {
        self.0 & FIRST_PENDING != 0
    }

    pub(super) fn set_first_pending(&mut self, pending: bool) {
        if pending {
            self.0 |= FIRST_PENDING;
        } else {
            self.0 &= !FIRST_PENDING;
        }
    }

    /// An event arrived at or before the cursor: `stage(cursor)` must be looked at again.
    pub(super) fn recheck(self) -> bool {
        self.0 & RECHECK != 0
    }

    pub(super) fn set_recheck(&mut self) {
        self.0 |= RECHECK;
    }

    /// Clears the recheck flag; returns whether it was set.
    pub(super) fn take_recheck(&mut self) -> bool {
        let was = self.recheck();
        self.0 &= !RECHECK;
        was
    }
}

impl std::fmt::Debug for Mark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mark")
            .field("cursor", &self.cursor())
            .field("stage", &self.stage())
            .field("activated", &self.activated())
            .field("recheck", &self.recheck())
            .field("first_pending", &self.first_pending())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_reads_back_what_was_set_whatever_the_others() {
        for millis in [
            EventTime::MIN.millis(),
            -1,
            0,
            1,
            1_767_225_600_000,
            EventTime::MAX.millis(),
        ] {
            for stage in LifecycleStage::ALL.iter().copied() {
                let mut mark = Mark::default();
                assert_eq!(
                    (
                        mark.cursor(),
                        mark.stage(),
                        mark.activated(),
                        mark.recheck()
                    ),
                    (None, None, false, false)
                );
                assert_eq!(mark.replace_stage(stage), None);
                mark.set_cursor(EventTime::from_millis(millis));
                mark.set_recheck();
                assert_eq!(mark.cursor(), Some(EventTime::from_millis(millis)));
                assert_eq!((mark.stage(), mark.activated()), (Some(stage), false));
                mark.set_activated();
                mark.set_first_pending(true);
                assert!(mark.take_recheck() && !mark.take_recheck());
                assert!(mark.first_pending());
                mark.set_first_pending(false);
                assert!(!mark.first_pending());
                mark.set_cursor(EventTime::from_millis(millis / 2));
                assert_eq!(mark.cursor(), Some(EventTime::from_millis(millis / 2)));
                assert_eq!((mark.stage(), mark.activated()), (Some(stage), true));
            }
        }
    }
}
