//! [`Far`]: a slot filed beyond the ring, in 8 bytes.
//!
//! The overflow heap holds the slots whose deadline is beyond the ring's reach, which with
//! alerts on is most users' alert due time (a new user's is 7 days on, the ring reaches 37
//! hours). A `(deadline, slot)` pair takes 16 bytes with its padding. But the overflow needs
//! no exact deadline, only to hand each slot back before the ring's cursor reaches it, and the
//! exact deadline is `deadlines[slot]` anyway: so an entry is the *period* of its deadline
//! (2¹⁷ ms, about 131 seconds, a thousandth of the ring's reach) and the slot, one `u64`.

use super::Slot;

/// log2 of a period's width in ms.
const PERIOD_SHIFT: u32 = 17;
/// Period 0 starts here: 2⁴⁴ ms (557 years) before the year 0000, so that the 2³² periods
/// (2⁴⁹ ms, 17 800 years) cover every event time and the deadlines after it.
const EPOCH: i64 = -62_167_219_200_000 - (1 << 44);
/// The last period: deadlines at or after its start are clamped into it, and never handed
/// back (no watermark, an event time, reaches them).
const LAST: u32 = u32::MAX;

/// The period in the high 32 bits and the slot in the low ones: ordered by period, then slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Far(u64);

impl Far {
    pub(super) fn new(deadline: i64, slot: Slot) -> Self {
        let period = (deadline.saturating_sub(EPOCH) >> PERIOD_SHIFT).clamp(0, i64::from(LAST));
        Far((period as u64) << 32 | u64::from(slot))
    }

    pub(super) fn slot(self) -> Slot {
        self.0 as Slot
    }

    fn period(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The first millisecond of the entry's period: no deadline it stands for is earlier.
    pub(super) fn earliest(self) -> i64 {
        EPOCH + (i64::from(self.period()) << PERIOD_SHIFT)
    }

    /// The last millisecond of the entry's period, which the ring must reach before the entry
    /// is handed back; `None` for the last period, which is never handed back.
    pub(super) fn latest(self) -> Option<i64> {
        (self.period() != LAST).then(|| self.earliest() + (1 << PERIOD_SHIFT) - 1)
    }

    /// Whether the entry still stands for `deadline`, the slot's deadline now: a slot
    /// rescheduled since leaves its old entry behind, stale.
    pub(super) fn stands_for(self, deadline: i64) -> bool {
        Far::new(deadline, self.slot()) == self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_orders_by_period_then_slot_and_brackets_its_deadline() {
        for deadline in [
            -62_167_219_200_000,
            -1,
            0,
            1_767_225_600_000,
            253_402_300_799_999 + 60 * 86_400_000,
        ] {
            let far = Far::new(deadline, 7);
            assert_eq!(far.slot(), 7);
            assert!(far.earliest() <= deadline && Some(deadline) <= far.latest());
            assert!(far.stands_for(deadline) && !far.stands_for(deadline + (1 << 18)));
            assert!(Far::new(deadline, 8) > far && Far::new(deadline + (1 << 18), 0) > far);
        }
        assert_eq!(
            Far::new(i64::MAX, 1).latest(),
            None,
            "clamped into the last period"
        );
        assert_eq!(
            Far::new(i64::MIN, 1).latest(),
            Some(EPOCH + (1 << PERIOD_SHIFT) - 1),
            "clamped into the first period, handed back at once"
        );
    }
}
