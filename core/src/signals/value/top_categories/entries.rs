//! [`Entries`]: a user's weighted categories, the first one inline.
//!
//! Most users have a single category for a long time (every user seen once with one), and a
//! boxed slice took a 32-byte malloc chunk for that one 16-byte entry. So one entry is held
//! inline, and two or more in a `ThinVec` of exactly their length (one pointer, with the length
//! and capacity on the heap in front of the entries, as the day log's): 16 bytes either way,
//! the size of the boxed slice they replace. The entry's interned name is never null, which is
//! where the enum keeps its tag.

use std::ops::{Deref, DerefMut};

use thin_vec::ThinVec;

use super::Weighted;

/// The entries, sorted by name. Equal sets of entries are equal values: one entry is always
/// `One`, none an empty `Many` (which allocates nothing).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Entries {
    One(Weighted),
    Many(ThinVec<Weighted>),
}

impl Default for Entries {
    fn default() -> Self {
        Entries::Many(ThinVec::new())
    }
}

impl Entries {
    /// Entries already sorted by name.
    pub(super) fn from_sorted(mut entries: Vec<Weighted>) -> Self {
        match entries.len() {
            1 => Entries::One(entries.pop().expect("one entry")),
            len => {
                let mut many = ThinVec::with_capacity(len);
                many.extend(entries);
                Entries::Many(many)
            }
        }
    }

    /// Inserts `entry` at `at`, growing the allocation by exactly one entry.
    pub(super) fn insert(&mut self, at: usize, entry: Weighted) {
        *self = match std::mem::take(self) {
            Entries::Many(many) if many.is_empty() => Entries::One(entry),
            Entries::One(one) => {
                let mut many = ThinVec::with_capacity(2);
                many.push(one);
                many.insert(at, entry);
                Entries::Many(many)
            }
            Entries::Many(mut many) => {
                many.reserve_exact(1);
                many.insert(at, entry);
                Entries::Many(many)
            }
        };
    }

    /// Heap bytes: the `ThinVec`'s header and entries, from two entries on.
    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            Entries::Many(many) if many.capacity() > 0 => {
                2 * size_of::<usize>() + many.capacity() * size_of::<Weighted>()
            }
            _ => 0,
        }
    }
}

impl Deref for Entries {
    type Target = [Weighted];

    fn deref(&self) -> &[Weighted] {
        match self {
            Entries::One(one) => std::slice::from_ref(one),
            Entries::Many(many) => many,
        }
    }
}

impl DerefMut for Entries {
    fn deref_mut(&mut self) -> &mut [Weighted] {
        match self {
            Entries::One(one) => std::slice::from_mut(one),
            Entries::Many(many) => many,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CategoryWeights, TopCategoriesConfig};
    use crate::time::EventTime;

    #[test]
    fn one_category_is_inline_and_more_take_exactly_their_room() {
        let config = TopCategoriesConfig::default();
        let mut weights = CategoryWeights::default();
        assert_eq!(size_of::<CategoryWeights>(), 24);
        assert_eq!(weights.heap_bytes(), 0);
        let ts = EventTime::from_millis(1_767_225_600_000);
        weights.add("toys", ts, 1.0, &config);
        weights.add("toys", ts, 1.0, &config);
        assert_eq!(weights.heap_bytes(), 0, "one category allocates nothing");
        for (categories, name) in [(2, "books"), (3, "home")] {
            weights.add(name, ts, 1.0, &config);
            assert_eq!(weights.heap_bytes(), 16 + categories * 16);
        }
        let names: Vec<&str> = weights.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["books", "home", "toys"]);
        assert_eq!(weights.top(1), ["toys"]);
    }
}
