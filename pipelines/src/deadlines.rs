//! Users ordered by the watermark at which their profile next changes.
//!
//! A churning user sends no events, yet their profile keeps changing: `days_inactive` ticks,
//! events slide out of the 7- and 28-day windows, the stage moves to `at_risk`, `dormant`,
//! `churned`. `ProfileState::next_change` says when that next happens; this index keeps every
//! user under that deadline, so the sweep pops exactly the users whose deadline has passed and
//! costs O(log n) per user it visits, never a scan of all users.

use std::collections::BTreeSet;

/// A slot number in a [`Shard`](crate::shard::Shard)'s user table.
pub type Slot = u32;

/// `(deadline in epoch ms, slot)`, sorted by deadline; the slot breaks ties and makes entries
/// unique.
#[derive(Debug, Default)]
pub struct DeadlineIndex {
    by_time: BTreeSet<(i64, Slot)>,
}

impl DeadlineIndex {
    /// Moves `slot` from its `old` deadline to its `new` one.
    pub fn reschedule(&mut self, slot: Slot, old: Option<i64>, new: Option<i64>) {
        if old == new {
            return;
        }
        if let Some(old) = old {
            self.by_time.remove(&(old, slot));
        }
        if let Some(new) = new {
            self.by_time.insert((new, slot));
        }
    }

    /// Removes and returns, in deadline order, every slot whose deadline is at or before
    /// `watermark`.
    pub fn pop_due(&mut self, watermark: i64) -> impl Iterator<Item = Slot> + '_ {
        std::iter::from_fn(move || {
            let &(deadline, slot) = self.by_time.first()?;
            (deadline <= watermark).then(|| {
                self.by_time.pop_first();
                slot
            })
        })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.by_time.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_only_due_slots_in_deadline_order() {
        let mut index = DeadlineIndex::default();
        index.reschedule(1, None, Some(30));
        index.reschedule(2, None, Some(10));
        index.reschedule(3, None, Some(20));
        let due: Vec<_> = index.pop_due(20).collect();
        assert_eq!(due, [2, 3]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn rescheduling_replaces_the_old_deadline() {
        let mut index = DeadlineIndex::default();
        index.reschedule(7, None, Some(10));
        index.reschedule(7, Some(10), Some(50));
        assert_eq!(index.pop_due(40).count(), 0);
        index.reschedule(7, Some(50), None);
        assert_eq!(index.len(), 0);
    }
}
