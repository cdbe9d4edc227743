//! Users ordered by the watermark at which their profile next changes.
//!
//! A churning user sends no events, yet their profile keeps changing: `days_inactive` ticks,
//! events slide out of the 7- and 28-day windows, the stage moves to `at_risk`, `dormant`,
//! `churned`. `ProfileState::next_change` says when that next happens; this index keeps every
//! user under that deadline, so the sweep pops exactly the users whose deadline has passed and
//! costs O(1) per user it visits, never a scan of all users.
//!
//! # Why a timer wheel, not a sorted set
//!
//! A `BTreeSet<(deadline, slot)>` costs O(log n) per pop and per reschedule, and at millions of
//! users each of those steps is a cache miss: popping one user took 16–26 ns at 100 k users and
//! 45–59 ns at 10 M, rescheduling it 70 ns and 270–390 ns (docs/performance.md). Here deadlines
//! are filed in coarse time buckets instead, in a ring that covers the next [`HORIZON_MS`]
//! (about 37 hours): every user's next change is at most a day (plus the lateness) away
//! (docs/state.md), so nearly all deadlines land in the ring, and the rare far one waits in an
//! overflow heap until the ring reaches it. (The alert index, whose due times are often days
//! away, keeps most of its users there: an entry is 8 bytes, `deadlines/far.rs`.) Filing is a
//! push onto a bucket's `Vec`; a sweep walks the buckets up to the watermark in order, reading
//! each one sequentially.
//!
//! The ring has one bucket per [`USERS_PER_BUCKET`] users or so, in powers of two from
//! [`MIN_BUCKETS`] to [`MAX_BUCKETS`] (from 35 minutes wide down to 16 seconds), and is resized
//! as the shard grows: a small shard's ring costs a few kilobytes. Beyond about 130 000 users
//! the buckets fill instead (about 1 900 users each at 10 M), which costs a sort of a few
//! microseconds per bucket; more, finer buckets were measured slower at 10 M users, as the
//! reschedules then append to more buckets than the caches hold.
//!
//! Entries are invalidated lazily. The index keeps each slot's current deadline
//! (`deadlines`), and a bucket entry is only a slot number: when a slot is rescheduled, its old
//! entry stays where it is and is recognised as stale when its bucket is swept (the slot's
//! deadline is no longer one of that bucket's), and a slot found due is cleared so that a
//! second entry for it is skipped. Rescheduling within the same bucket files nothing. Stale
//! entries are bounded: when they outnumber the slots, the ring is rebuilt from `deadlines`,
//! which amortises to O(1) per reschedule.
//!
//! # Cache misses
//!
//! At millions of users `deadlines` (8 bytes a slot: 80 MB at 10 M) is far larger than the
//! caches, and a sweep's due slots are spread all over it: each one's deadline is a cache and
//! TLB miss when its bucket is swept, and again when the caller files its next deadline, as
//! is the caller's own record of the user. The misses are independent of one another, so they
//! are overlapped rather than waited for one by one: a bucket's sweep asks for each slot's
//! deadline [`PREFETCH_AHEAD`] entries before it visits it, [`Due::ahead`] lets the caller do
//! the same for its record of each due slot, and [`DeadlineIndex::prefetch`] lets it ask for a
//! deadline before the work that precedes the reschedule. This changes neither what is read
//! nor in which order, only when the memory is asked for. Per due user at 10 M users, popping
//! went from 17–19 to 11 ns and popping and rescheduling from 39–42 to 20–21 ns, against 4 and
//! 12 ns at 100 k users (docs/performance.md, the sweep table).
//!
//! Not done: keeping each slot's deadline in the caller's record of the user (the shard's
//! `User`, which the sweep marks changed and the drain evaluates) instead of in `deadlines`.
//! The 8 bytes would move, not be duplicated, and the index's two misses per due user would
//! fall on lines the caller loads anyway; but the index would then need its caller's table to
//! pop or reschedule, and with its misses overlapped it is already 3–4% of what a due user
//! costs a flush at 10 M users (about 20 of 530–620 ns).
//!
//! # Order
//!
//! [`DeadlineIndex::pop_due`] yields slots in `(deadline, slot)` order, exactly as the sorted
//! set did: a bucket's due slots are sorted before they are yielded, and buckets are visited
//! in time order. The shard's dirty list, and so the order of rows and alerts a flush writes,
//! is therefore a function of the deadlines alone, never of where entries happened to be
//! filed, of the ring's size or of when it was rebuilt: a replay writes the same thing in the
//! same order.

mod far;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::prefetch::prefetch;
use far::Far;

/// A slot number in a [`Shard`](crate::shard::Shard)'s user table.
pub type Slot = u32;

/// log2 of [`HORIZON_MS`].
const HORIZON_SHIFT: u32 = 27;
/// How far ahead of the sweep's position the ring reaches: 2^27 ms, about 37 hours, beyond the
/// day (plus lateness) within which every profile's next change lies.
pub const HORIZON_MS: i64 = 1 << HORIZON_SHIFT;
/// The fewest buckets in the ring: 64 buckets of 35 minutes, 1.5 KB of `Vec` headers.
pub const MIN_BUCKETS: usize = 1 << 6;
/// The most buckets in the ring: 8 192 buckets of 16 seconds, 196 KB of `Vec` headers, for
/// shards of 130 000 users and more.
pub const MAX_BUCKETS: usize = 1 << 13;
/// Users per bucket the ring is sized for (deadlines spread over a day fill about two thirds
/// of the ring's buckets).
pub const USERS_PER_BUCKET: usize = 16;

/// How many entries ahead of its visit a sweep asks for a slot's deadline (see "Cache misses"
/// in the module's doc): enough to keep the memory system busy, few enough that the lines are
/// still in the cache when visited.
pub const PREFETCH_AHEAD: usize = 16;

/// `deadlines[slot]` of a slot that has none. A deadline is epoch milliseconds of event time,
/// never this.
const NO_DEADLINE: i64 = i64::MIN;

/// Slots by deadline (epoch ms): a timer wheel with lazily invalidated entries (see the
/// module's doc).
#[derive(Debug, Default)]
pub struct DeadlineIndex {
    /// Each slot's current deadline, or [`NO_DEADLINE`]. The truth the buckets are checked
    /// against.
    deadlines: Vec<i64>,
    /// Slots with a deadline.
    live: usize,
    /// The bucket number (`deadline >> shift`) the sweep has reached: every bucket before it
    /// is empty. `None` until the first [`DeadlineIndex::pop_due`]: until then (while a shard
    /// is restored, say) only `deadlines` is written, and the first sweep files everything in
    /// one pass.
    cursor: Option<i64>,
    /// log2 of a bucket's width in milliseconds.
    shift: u32,
    /// `ring[b % ring.len()]` holds the slots filed under bucket `b`, for `b` in
    /// `cursor..cursor + ring.len()`. A deadline before the cursor's bucket is filed under the
    /// cursor's. Its length is a power of two, so a bucket's place is a mask of its number.
    /// Empty until the first sweep.
    ring: Vec<Vec<Slot>>,
    /// Entries in `ring`, live or stale.
    filed: usize,
    /// The slots of deadlines beyond the ring, by their deadline's period ([`Far`]: 8 bytes
    /// where a `(deadline, slot)` pair took 16), earliest first; stale ones (the slot's
    /// deadline has changed since) are dropped when they come out.
    overflow: BinaryHeap<Reverse<Far>>,
    /// The due `(deadline, slot)` of the current sweep, kept to reuse its allocation.
    due: Vec<(i64, Slot)>,
}

impl DeadlineIndex {
    /// Moves `slot` to its `new` deadline, or out of the index with `None`. The index is the
    /// one record of each slot's deadline: its callers keep no copy.
    pub fn reschedule(&mut self, slot: Slot, new: Option<i64>) {
        if self.deadline(slot) == new {
            return;
        }
        let index = slot as usize;
        if self.deadlines.len() <= index {
            self.deadlines.resize(index + 1, NO_DEADLINE);
        }
        let new = new.map_or(NO_DEADLINE, |new| {
            debug_assert_ne!(new, NO_DEADLINE, "a deadline out of range");
            new
        });
        let old = std::mem::replace(&mut self.deadlines[index], new);
        match (old == NO_DEADLINE, new == NO_DEADLINE) {
            (true, false) => self.live += 1,
            (false, true) => self.live -= 1,
            _ => {}
        }
        let Some(cursor) = self.cursor else {
            return;
        };
        if new == NO_DEADLINE {
            return; // The old entry, if any, is now stale.
        }
        if old != NO_DEADLINE {
            let (old_home, new_home) = (self.home(old, cursor), self.home(new, cursor));
            if old_home == new_home && self.in_ring(old_home, cursor) {
                return; // The entry already in that bucket stands for the new deadline too.
            }
        }
        self.file(slot, new, cursor);
        let outgrown =
            self.live > 2 * USERS_PER_BUCKET * self.ring.len() && self.ring.len() < MAX_BUCKETS;
        let stale = self.filed + self.overflow.len() > 2 * self.deadlines.len() + self.ring.len();
        if outgrown || stale {
            self.rebuild(cursor << self.shift);
        }
    }

    /// Gives `from`'s deadline to `to`, which has none, and leaves `from` without: for a
    /// slot table that moves its last entry into a freed slot.
    pub fn move_slot(&mut self, from: Slot, to: Slot) {
        debug_assert_eq!(self.deadline(to), None, "slot {to} is free");
        let deadline = self.deadline(from);
        self.reschedule(from, None);
        self.reschedule(to, deadline);
    }

    /// The deadline `slot` is filed under, if any.
    pub fn deadline(&self, slot: Slot) -> Option<i64> {
        self.deadlines
            .get(slot as usize)
            .copied()
            .filter(|&deadline| deadline != NO_DEADLINE)
    }

    /// Removes every slot whose deadline is at or before `watermark` and returns them in
    /// `(deadline, slot)` order. They are removed by the call, whether or not the iterator is
    /// consumed.
    pub fn pop_due(&mut self, watermark: i64) -> Due<'_> {
        self.due.clear();
        if self.live > 0 {
            self.collect_due(watermark);
        }
        Due(self.due.drain(..))
    }

    /// Starts loading `slot`'s deadline into the cache, for a caller that will reschedule
    /// `slot` after some work of its own: in a large shard the deadline is a cache miss,
    /// which the work then hides.
    pub fn prefetch(&self, slot: Slot) {
        if let Some(deadline) = self.deadlines.get(slot as usize) {
            prefetch(deadline);
        }
    }

    /// [`DeadlineIndex::pop_due`]'s work: walks the buckets from the cursor to the
    /// watermark's, moving the due slots into `self.due`.
    fn collect_due(&mut self, watermark: i64) {
        let mut cursor = match self.cursor {
            Some(cursor) => cursor,
            // The first sweep: the ring starts at the watermark, and whatever is due already
            // is filed under its first bucket.
            None => self.rebuild(watermark),
        };
        let target = (watermark >> self.shift).max(cursor);
        loop {
            self.cursor = Some(cursor);
            self.take_from_overflow(cursor);
            self.take_due(cursor, target, watermark);
            if cursor == target {
                break;
            }
            cursor = if self.filed > 0 {
                cursor + 1
            } else {
                // Nothing in the ring: jump to the watermark, or to the first far deadline.
                let next_far = self
                    .overflow
                    .peek()
                    .map(|Reverse(far)| far.earliest() >> self.shift);
                next_far.map_or(target, |far| far.clamp(cursor + 1, target))
            };
        }
        // Buckets come in time order, each sorted, so this holds; checking is O(due).
        if !self.due.is_sorted() {
            self.due.sort_unstable();
        }
    }

    /// Moves the due slots filed under bucket `number` (at or before `target`, the
    /// watermark's) into `self.due`, sorted; drops the stale entries. Entries of `target` that
    /// are not due yet stay.
    fn take_due(&mut self, number: i64, target: i64, watermark: i64) {
        let DeadlineIndex {
            deadlines,
            live,
            shift,
            ring,
            filed,
            due,
            ..
        } = self;
        let mask = ring.len() - 1;
        let entries = &mut ring[number as usize & mask];
        let first = due.len();
        let before = entries.len();
        // Keeps the entries of slots due later within this bucket (of `target` only: every
        // deadline of an earlier bucket is due), drops stale ones and pops the rest. Each
        // slot's deadline is asked for [`PREFETCH_AHEAD`] entries before its visit: in a large
        // shard every one is a cache miss, and the entries are independent.
        let mut kept = 0;
        for at in 0..entries.len() {
            if let Some(&ahead) = entries.get(at + PREFETCH_AHEAD) {
                if let Some(deadline) = deadlines.get(ahead as usize) {
                    prefetch(deadline);
                }
            }
            let slot = entries[at];
            let deadline = &mut deadlines[slot as usize];
            if *deadline == NO_DEADLINE || *deadline >> *shift > number {
                // Stale: the slot has no deadline, or one filed in a later bucket.
            } else if *deadline <= watermark {
                due.push((*deadline, slot));
                *deadline = NO_DEADLINE; // Popped: any other entry of the slot is stale.
                *live -= 1;
            } else {
                debug_assert_eq!(number, target, "an earlier bucket's deadline is due");
                entries[kept] = slot;
                kept += 1;
            }
        }
        entries.truncate(kept);
        *filed -= before - kept;
        due[first..].sort_unstable();
    }

    /// Files the far deadlines that the ring, now starting at `cursor`, reaches.
    /// An entry comes out once the ring reaches the end of its period, so that every deadline
    /// it may stand for is filed in the ring (a period is far shorter than the ring's reach,
    /// so it still comes out long before it is due).
    fn take_from_overflow(&mut self, cursor: i64) {
        while let Some(&Reverse(far)) = self.overflow.peek() {
            if !far
                .latest()
                .is_some_and(|latest| self.in_ring(latest >> self.shift, cursor))
            {
                break;
            }
            self.overflow.pop();
            let deadline = self.deadlines[far.slot() as usize];
            if deadline != NO_DEADLINE && far.stands_for(deadline) {
                self.file(far.slot(), deadline, cursor);
            }
        }
    }

    /// The bucket `deadline` is filed under while the sweep is at bucket `cursor`.
    fn home(&self, deadline: i64, cursor: i64) -> i64 {
        (deadline >> self.shift).max(cursor)
    }

    /// Whether bucket `number` (at or after `cursor`) is in the ring.
    fn in_ring(&self, number: i64, cursor: i64) -> bool {
        number < cursor + self.ring.len() as i64
    }

    /// Files `slot` under `deadline`: in the ring, or beyond it.
    fn file(&mut self, slot: Slot, deadline: i64, cursor: i64) {
        let home = self.home(deadline, cursor);
        if self.in_ring(home, cursor) {
            let mask = self.ring.len() - 1;
            self.ring[home as usize & mask].push(slot);
            self.filed += 1;
        } else {
            self.overflow.push(Reverse(Far::new(deadline, slot)));
        }
    }

    /// Sizes the ring for the slots with a deadline, places its start at the bucket of
    /// `swept_to` (the time the sweep has reached), and files every slot's deadline afresh,
    /// dropping every stale entry. Returns the new cursor.
    fn rebuild(&mut self, swept_to: i64) -> i64 {
        let buckets = (self.live / USERS_PER_BUCKET)
            .next_power_of_two()
            .clamp(MIN_BUCKETS, MAX_BUCKETS);
        self.shift = HORIZON_SHIFT - buckets.trailing_zeros();
        if self.ring.len() == buckets {
            self.ring.iter_mut().for_each(Vec::clear);
        } else {
            self.ring = vec![Vec::new(); buckets];
        }
        let cursor = swept_to >> self.shift;
        self.cursor = Some(cursor);
        self.filed = 0;
        let mut far = std::mem::take(&mut self.overflow).into_vec();
        far.clear();
        for (slot, &deadline) in self.deadlines.iter().enumerate() {
            if deadline == NO_DEADLINE {
                continue;
            }
            let slot = slot as Slot;
            let home = (deadline >> self.shift).max(cursor);
            if home < cursor + buckets as i64 {
                self.ring[home as usize & (buckets - 1)].push(slot);
                self.filed += 1;
            } else {
                far.push(Reverse(Far::new(deadline, slot)));
            }
        }
        self.overflow = BinaryHeap::from(far);
        cursor
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.live
    }

    /// The width of a bucket now, in ms.
    #[cfg(test)]
    fn bucket_ms(&self) -> i64 {
        1 << self.shift
    }
}

/// The slots [`DeadlineIndex::pop_due`] found due, in `(deadline, slot)` order.
#[derive(Debug)]
pub struct Due<'a>(std::vec::Drain<'a, (i64, Slot)>);

impl Due<'_> {
    /// The slot `n` places after the next one (`ahead(0)` is the next one), for a caller that
    /// reads ahead: each due slot is anywhere in a shard's table, a cache miss when the shard
    /// is large.
    pub fn ahead(&self, n: usize) -> Option<Slot> {
        self.0.as_slice().get(n).map(|&(_, slot)| slot)
    }
}

impl Iterator for Due<'_> {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        self.0.next().map(|(_, slot)| slot)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for Due<'_> {}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    const DAY: i64 = 86_400_000;
    /// 2026-01-01T00:00:00Z.
    const T0: i64 = 1_767_225_600_000;

    /// Pops with the index already started, as every sweep after the first.
    fn started() -> DeadlineIndex {
        let mut index = DeadlineIndex::default();
        index.reschedule(0, Some(T0));
        assert_eq!(index.pop_due(T0).collect::<Vec<_>>(), [0]);
        index
    }

    #[test]
    fn pops_only_due_slots_in_deadline_order() {
        let mut index = DeadlineIndex::default();
        index.reschedule(1, Some(30));
        index.reschedule(2, Some(10));
        index.reschedule(3, Some(20));
        let due: Vec<_> = index.pop_due(20).collect();
        assert_eq!(due, [2, 3]);
        assert_eq!(index.len(), 1);
    }

    #[test]
    fn rescheduling_replaces_the_old_deadline() {
        let mut index = DeadlineIndex::default();
        index.reschedule(7, Some(10));
        index.reschedule(7, Some(50));
        assert_eq!(index.pop_due(40).count(), 0);
        index.reschedule(7, None);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn a_stale_entry_is_skipped_when_its_bucket_is_swept() {
        let mut index = started();
        let bucket = index.bucket_ms();
        index.reschedule(1, Some(T0 + 1_000));
        // Later, in another bucket, then earlier again in a third: two stale entries.
        index.reschedule(1, Some(T0 + 10 * bucket));
        index.reschedule(1, Some(T0 + 3 * bucket));
        assert_eq!(index.pop_due(T0 + 2 * bucket).count(), 0);
        assert_eq!(index.deadline(1), Some(T0 + 3 * bucket));
        assert_eq!(index.pop_due(T0 + 20 * bucket).collect::<Vec<_>>(), [1]);
        assert_eq!(index.deadline(1), None);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn a_slot_moved_back_to_a_deadline_it_left_pops_once() {
        let mut index = started();
        let bucket = index.bucket_ms();
        index.reschedule(4, Some(T0 + 5_000));
        index.reschedule(4, Some(T0 + 5 * bucket));
        index.reschedule(4, Some(T0 + 5_000));
        assert_eq!(index.pop_due(T0 + DAY).collect::<Vec<_>>(), [4]);
        assert_eq!(index.pop_due(T0 + 2 * DAY).count(), 0);
    }

    #[test]
    fn due_slots_can_be_read_ahead() {
        let mut index = started();
        for slot in [4, 2, 3] {
            index.reschedule(slot, Some(T0 + 1_000 * i64::from(slot)));
        }
        let mut due = index.pop_due(T0 + DAY);
        assert_eq!(
            (due.len(), due.ahead(0), due.ahead(2)),
            (3, Some(2), Some(4))
        );
        assert_eq!(due.next(), Some(2));
        assert_eq!((due.ahead(1), due.ahead(2)), (Some(4), None));
        assert_eq!(due.collect::<Vec<_>>(), [3, 4]);
    }

    #[test]
    fn equal_deadlines_pop_in_slot_order() {
        let mut index = started();
        for slot in [9, 3, 7, 1, 5] {
            index.reschedule(slot, Some(T0 + 60_000));
        }
        index.reschedule(8, Some(T0 + 59_999));
        let due: Vec<_> = index.pop_due(T0 + 60_000).collect();
        assert_eq!(due, [8, 1, 3, 5, 7, 9]);
    }

    #[test]
    fn deadlines_beyond_the_ring_wait_in_the_overflow() {
        let mut index = started();
        let far = T0 + 40 * DAY;
        assert!(far - T0 > HORIZON_MS);
        index.reschedule(2, Some(far + 1));
        index.reschedule(1, Some(far));
        index.reschedule(3, Some(T0 + DAY));
        // A far deadline moved closer leaves a stale entry in the overflow.
        index.reschedule(4, Some(far));
        index.reschedule(4, Some(T0 + 2 * DAY));
        assert_eq!(index.pop_due(T0 + 3 * DAY).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(index.pop_due(far - 1).count(), 0);
        assert_eq!(index.pop_due(far).collect::<Vec<_>>(), [1]);
        assert_eq!(index.pop_due(i64::MAX).collect::<Vec<_>>(), [2]);
        assert_eq!(index.len(), 0);
    }

    #[test]
    fn a_late_sweep_pops_everything_due_in_order() {
        // The watermark jumps past the ring's whole reach at once.
        let mut index = started();
        index.reschedule(1, Some(T0 + 30 * DAY));
        index.reschedule(2, Some(T0 + HORIZON_MS - 1));
        index.reschedule(3, Some(T0 + 1));
        let due: Vec<_> = index.pop_due(T0 + 100 * DAY).collect();
        assert_eq!(due, [3, 2, 1]);
    }

    #[test]
    fn a_deadline_already_passed_pops_at_the_next_sweep() {
        let mut index = started();
        index.reschedule(5, Some(T0 + DAY));
        assert_eq!(index.pop_due(T0 + DAY).count(), 1);
        // Filed behind the sweep (an alert timeline due at a decision already made).
        index.reschedule(6, Some(T0 + 1_000));
        index.reschedule(7, Some(T0 + DAY + 1));
        assert_eq!(index.pop_due(T0 + DAY).collect::<Vec<_>>(), [6]);
        assert_eq!(index.pop_due(T0 + DAY + 1).collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn a_removed_slot_never_pops() {
        let mut index = started();
        index.reschedule(1, Some(T0 + 10));
        index.reschedule(2, Some(T0 + 20));
        // The shard forgets slot 1 by moving its last slot (2) into it.
        index.reschedule(1, None);
        index.reschedule(2, None);
        index.reschedule(1, Some(T0 + 20));
        assert_eq!(index.pop_due(T0 + DAY).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn deadlines_given_before_the_first_sweep_are_filed_by_it() {
        // As a restore files them: in slot order, deadlines in any order, some already due.
        let mut index = DeadlineIndex::default();
        index.reschedule(0, Some(T0 + DAY));
        index.reschedule(1, Some(T0 - DAY));
        index.reschedule(2, Some(T0 + 50 * DAY));
        index.reschedule(3, Some(T0));
        assert_eq!(index.pop_due(T0).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(index.pop_due(T0 + 60 * DAY).collect::<Vec<_>>(), [0, 2]);
    }

    #[test]
    fn stale_entries_are_bounded() {
        let mut index = started();
        let bucket = index.bucket_ms();
        let mut deadline = T0 + 1;
        index.reschedule(1, Some(deadline));
        // An active user, given a deadline a bucket further on at every flush, for a long
        // time: far more entries than the ring has buckets.
        for _ in 0..10 * MAX_BUCKETS {
            index.reschedule(1, Some(deadline + bucket));
            deadline += bucket;
        }
        assert!(index.filed + index.overflow.len() <= 2 * 2 + index.ring.len() + 1);
        assert_eq!(index.pop_due(deadline).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn the_ring_grows_with_the_shard() {
        let mut index = started();
        assert_eq!(index.ring.len(), MIN_BUCKETS);
        let users = 100 * USERS_PER_BUCKET * MIN_BUCKETS;
        for slot in 1..users {
            let deadline = T0 + (slot as i64 * 7_919) % DAY;
            index.reschedule(slot as Slot, Some(deadline));
        }
        assert!(index.ring.len() >= users / USERS_PER_BUCKET / 2);
        let due: Vec<Slot> = index.pop_due(T0 + DAY).collect();
        assert_eq!(due.len(), users - 1);
        let deadlines: Vec<i64> = due.iter().map(|&s| (s as i64 * 7_919) % DAY).collect();
        assert!(deadlines.is_sorted());
    }

    /// A small xorshift generator: the same sequence on every run.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn pops_what_a_sorted_set_pops_in_the_same_order() {
        // Few slots: the smallest ring, with many stale entries. Many: the ring grows.
        pops_as_a_sorted_set_does(300, 200, 400);
        pops_as_a_sorted_set_does(20_000, 2_000, 100);
    }

    /// Random reschedules of `slots` slots, up to `per_round` per round, each round ending
    /// with a sweep; the same on the definition the wheel replaces, `(deadline, slot)` in a
    /// sorted set.
    fn pops_as_a_sorted_set_does(slots: usize, per_round: u64, rounds: usize) {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut index = DeadlineIndex::default();
        let mut model = BTreeSet::new();
        let mut current: Vec<Option<i64>> = vec![None; slots];
        let mut watermark = T0;
        for round in 0..rounds {
            for _ in 0..rng.below(per_round) {
                let slot = rng.below(slots as u64) as usize;
                // Mostly within two days, some ties, some far, some already passed, some none.
                let new = match rng.below(20) {
                    0 => None,
                    1 => Some(watermark + 30 * DAY + rng.below(20 * DAY as u64) as i64),
                    2 => Some(watermark - rng.below(DAY as u64) as i64),
                    3 => Some(watermark + 60_000 * rng.below(3) as i64),
                    _ => Some(watermark + rng.below(2 * DAY as u64) as i64),
                };
                let old = current[slot];
                index.reschedule(slot as Slot, new);
                if old != new {
                    old.map(|old| model.remove(&(old, slot as Slot)));
                    new.map(|new| model.insert((new, slot as Slot)));
                }
                current[slot] = new;
            }
            // Mostly forward by up to a few hours; sometimes a jump of days, sometimes back.
            watermark += match rng.below(10) {
                0 => rng.below(60 * DAY as u64) as i64,
                1 => -(rng.below(DAY as u64) as i64),
                _ => rng.below(6 * 3_600_000) as i64,
            };
            let popped: Vec<Slot> = index.pop_due(watermark).collect();
            let mut expected = Vec::new();
            while let Some(&(deadline, slot)) = model.first() {
                if deadline > watermark {
                    break;
                }
                model.pop_first();
                current[slot as usize] = None;
                expected.push(slot);
            }
            assert_eq!(popped, expected, "{slots} slots, round {round}");
            assert_eq!(index.len(), model.len());
        }
    }
}
