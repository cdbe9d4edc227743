//! [`DirtyList`]: the users of a shard changed since its last drain, in the order they changed.
//!
//! Every event marks its user changed, and must know at once whether the user is listed
//! already. That was a `bool` in each user's slot, 8 bytes with the padding it brought, per
//! user; here it is one bit per slot beside the list (1.25 MB at 10 M users), which the sweep
//! and the events read instead of each user's slot.

use crate::deadlines::Slot;
use crate::prefetch::prefetch;

/// The changed slots, in the order they changed, and a bit per slot: set while it is listed.
#[derive(Debug, Default)]
pub(crate) struct DirtyList {
    order: Vec<Slot>,
    listed: Vec<u64>,
}

impl DirtyList {
    /// Lists `slot`, unless it is listed already.
    pub(crate) fn mark(&mut self, slot: Slot) {
        let (word, bit) = place(slot);
        if self.listed.len() <= word {
            self.listed.resize(word + 1, 0);
        }
        if self.listed[word] & bit == 0 {
            self.listed[word] |= bit;
            self.order.push(slot);
        }
    }

    pub(crate) fn contains(&self, slot: Slot) -> bool {
        let (word, bit) = place(slot);
        self.listed
            .get(word)
            .is_some_and(|&listed| listed & bit != 0)
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    pub(crate) fn slots(&self) -> &[Slot] {
        &self.order
    }

    /// Starts loading `slot`'s bit, for a caller that marks slots spread over a large shard.
    pub(crate) fn prefetch(&self, slot: Slot) {
        if let Some(word) = self.listed.get(place(slot).0) {
            prefetch(word);
        }
    }

    /// Empties the list: returns its slots in order, their bits cleared. Hand the vector back
    /// to [`DirtyList::reuse`] to keep its allocation for the next ones.
    pub(crate) fn take(&mut self) -> Vec<Slot> {
        let order = std::mem::take(&mut self.order);
        for &slot in &order {
            self.unset(slot);
        }
        order
    }

    /// Keeps `emptied`'s allocation for the list, if the list is still empty.
    pub(crate) fn reuse(&mut self, mut emptied: Vec<Slot>) {
        if self.order.is_empty() {
            emptied.clear();
            self.order = emptied;
        }
    }

    /// For a slot table that moves its last entry into a freed slot: `slot` leaves the list,
    /// and `last`, if listed, is listed as `slot` in its place. Rare, so by a scan.
    pub(crate) fn move_slot(&mut self, last: Slot, slot: Slot) {
        if self.contains(slot) {
            self.order.retain(|&listed| listed != slot);
            self.unset(slot);
        }
        if slot != last && self.contains(last) {
            for listed in &mut self.order {
                if *listed == last {
                    *listed = slot;
                }
            }
            self.unset(last);
            let (word, bit) = place(slot);
            self.listed[word] |= bit;
        }
    }

    fn unset(&mut self, slot: Slot) {
        let (word, bit) = place(slot);
        self.listed[word] &= !bit;
    }
}

/// The word and the bit of `slot` in `listed`.
fn place(slot: Slot) -> (usize, u64) {
    (slot as usize / 64, 1 << (slot % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_listed_once_in_the_order_it_changed_until_taken() {
        let mut dirty = DirtyList::default();
        for slot in [70, 3, 70, 64, 3] {
            dirty.mark(slot);
        }
        assert_eq!(dirty.slots(), [70, 3, 64]);
        assert!(dirty.contains(64) && !dirty.contains(65));
        let taken = dirty.take();
        assert_eq!(taken, [70, 3, 64]);
        assert!(dirty.len() == 0 && !dirty.contains(70));
        dirty.reuse(taken);
        dirty.mark(70);
        assert_eq!(dirty.slots(), [70]);
    }

    #[test]
    fn a_moved_slot_takes_the_freed_ones_place() {
        let mut dirty = DirtyList::default();
        for slot in [1, 9, 4] {
            dirty.mark(slot);
        }
        // 1 is forgotten, 9 (the last slot) moves into it.
        dirty.move_slot(9, 1);
        assert_eq!(dirty.slots(), [1, 4]);
        assert!(!dirty.contains(9));
        // 4 is forgotten and was the last slot.
        dirty.move_slot(4, 4);
        assert_eq!(dirty.slots(), [1]);
        assert!(!dirty.contains(4));
    }
}
