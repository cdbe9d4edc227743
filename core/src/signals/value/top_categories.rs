//! `top_categories`: what the user is interested in lately.
//!
//! docs/signals.md: "each category gets the weight Σ b · 2^((ts − W) / (14 · DAY)) over the
//! user's category-bearing events, with b = 1 for a `page_view` with `category`, 2 for a
//! `search` with `category`, 5 for each `order` item (per item line, whatever its `qty`). The
//! score is the weight relative to the largest one, rounded to an integer:
//! `round(weight / max_weight · 10⁹)` (this makes the ranking independent of floating-point
//! summation order). Categories are sorted by score, descending, then by name, ascending; the
//! first 5 are kept. Empty when the user has no category-bearing events. Ranking by relative
//! weight does not depend on `W`, because decay scales every weight by the same factor."
//!
//! So the state keeps one number per category: its weight relative to a per-user reference
//! instead of `W`. The reference is the start of the half-life period of the latest
//! category-bearing event, so the largest weights stay near their base weights whatever the
//! user's age (a reference fixed at the first event would overflow `f64` after about 40 years
//! of half-lives, and one at `W` would have to be recomputed at every evaluation). Moving the
//! reference forward by `n` periods scales every weight by exactly `2^−n`: a power of two, which
//! `f64` multiplies without rounding.
//!
//! A user's categories are bounded by `max_tracked` (default 16): a new category beyond it
//! replaces the last-ranked one, or is dropped if it would rank last itself. The ranking is
//! exact while a user has at most `max_tracked` categories; beyond that, a category that was
//! dropped and comes back starts from its new events only.
//!
//! Names are interned: every distinct category name is stored once per process (see
//! [`Name`]), and a user's entry holds an 8-byte pointer to it, so an entry is 16 bytes with no
//! allocation of its own. The blob still writes the names.

mod entries;

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::state::codec::{invalid, Reader, StateDecodeError, Writer};
use crate::time::{EventTime, MILLIS_PER_DAY};
use entries::Entries;

/// `[signals.top_categories]`; defaults from docs/signals.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TopCategoriesConfig {
    /// Categories in the column. Default 5.
    pub count: usize,
    /// Weights halve every this many days. Default 14.
    pub half_life_days: u32,
    /// Base weight of a page view with a category. Default 1.
    pub view_weight: f64,
    /// Base weight of a search with a category. Default 2.
    pub search_weight: f64,
    /// Base weight of an order item line. Default 5.
    pub item_weight: f64,
    /// Categories tracked per user, at least `count`: the bound on this part of the state.
    /// Default 16.
    pub max_tracked: usize,
}

impl Default for TopCategoriesConfig {
    fn default() -> Self {
        TopCategoriesConfig {
            count: 5,
            half_life_days: 14,
            view_weight: 1.0,
            search_weight: 2.0,
            item_weight: 5.0,
            max_tracked: 16,
        }
    }
}

impl TopCategoriesConfig {
    fn half_life_ms(&self) -> i64 {
        i64::from(self.half_life_days.max(1)) * MILLIS_PER_DAY
    }
}

/// A category name, interned: one copy per distinct name for the whole process, shared by
/// every user's state (a catalogue has some hundreds of categories, users have millions).
///
/// The copies are never freed, so the interner grows with the distinct names ever seen; with
/// a catalogue's categories that is a few kilobytes. Input that invents a new category name
/// per event would grow it without bound (as it would grow the `top_categories` column's
/// vocabulary). A thin pointer to the interned copy rather than a `&str` keeps the entry 8
/// bytes.
#[derive(Clone, Copy)]
struct Name(&'static Interned);

/// The one copy of a name.
struct Interned(Box<str>);

impl Name {
    /// The interned copy of `name`, made on first sight. Looks in this thread's copy of the
    /// table first, so the shared table's lock is taken once per thread and name (restoring
    /// a partition interns every stored user's categories).
    fn intern(name: &str) -> Name {
        type Table = HashMap<&'static str, &'static Interned>;
        static SHARED: OnceLock<Mutex<Table>> = OnceLock::new();
        thread_local! {
            static LOCAL: RefCell<Table> = RefCell::default();
        }
        LOCAL.with_borrow_mut(|local| {
            if let Some(&interned) = local.get(name) {
                return Name(interned);
            }
            let mut shared = SHARED
                .get_or_init(Mutex::default)
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let interned = match shared.get(name) {
                Some(&interned) => interned,
                None => {
                    let interned: &'static Interned = Box::leak(Box::new(Interned(name.into())));
                    shared.insert(&interned.0, interned);
                    interned
                }
            };
            local.insert(&interned.0, interned);
            Name(interned)
        })
    }

    fn as_str(&self) -> &'static str {
        &self.0 .0
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// One category and its weight relative to the reference.
#[derive(Debug, Clone, PartialEq)]
struct Weighted {
    name: Name,
    weight: f64,
}

/// The decayed weight of each of a user's categories.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct CategoryWeights {
    /// ⌊ts / half-life⌋ of the latest category-bearing event: the weights are relative to the
    /// start of this half-life period.
    period: i64,
    /// At most `max_tracked`, sorted by name (for lookup without allocating); the first
    /// inline, more in an allocation exactly as long as the categories it holds.
    entries: Entries,
}

impl CategoryWeights {
    /// Adds `base` · 2^((ts − reference) / half-life) to `name`'s weight. Allocates only when
    /// the category is new to the user and not their first.
    pub(crate) fn add(
        &mut self,
        name: &str,
        ts: EventTime,
        base: f64,
        config: &TopCategoriesConfig,
    ) {
        let half_life = config.half_life_ms();
        let period = ts.millis().div_euclid(half_life);
        if self.entries.is_empty() {
            self.period = period;
        } else if period > self.period {
            let scale = power_of_two(self.period.saturating_sub(period));
            for entry in self.entries.iter_mut() {
                entry.weight *= scale;
            }
            self.period = period;
        }
        let within_period = ts.millis().rem_euclid(half_life) as f64 / half_life as f64;
        let weight = base * within_period.exp2() * power_of_two(period.saturating_sub(self.period));

        match self.entries.binary_search_by(|e| e.name.as_str().cmp(name)) {
            Ok(at) => self.entries[at].weight += weight,
            Err(at) if self.entries.len() < config.max_tracked => self.entries.insert(
                at,
                Weighted {
                    name: Name::intern(name),
                    weight,
                },
            ),
            Err(_) => self.replace_last_ranked(name, weight),
        }
    }

    /// Makes room for a new category by dropping the last-ranked one, unless the newcomer
    /// would itself rank last.
    fn replace_last_ranked(&mut self, name: &str, weight: f64) {
        let max = self.entries.iter().map(|e| e.weight).fold(weight, f64::max);
        // Sorting key: smaller ranks first.
        let key = |name, weight| (Reverse(score(weight, max)), name);
        let newcomer = key(name, weight);
        let last_ranked = self
            .entries
            .iter()
            .enumerate()
            .max_by(|(_, a), (_, b)| {
                key(a.name.as_str(), a.weight).cmp(&key(b.name.as_str(), b.weight))
            })
            .map(|(at, e)| (at, newcomer < key(e.name.as_str(), e.weight)));
        if let Some((at, true)) = last_ranked {
            // Same length: shift in place, no allocation but the name's first sight.
            let entries = &mut self.entries;
            let to = entries.partition_point(|e| e.name.as_str() < name);
            let entry = Weighted {
                name: Name::intern(name),
                weight,
            };
            if to <= at {
                entries[to..=at].rotate_right(1);
                entries[to] = entry;
            } else {
                entries[at..to].rotate_left(1);
                entries[to - 1] = entry;
            }
        }
    }

    /// The first `count` categories by score, descending, then name, ascending.
    pub(crate) fn top(&self, count: usize) -> Vec<String> {
        let max = self.entries.iter().map(|e| e.weight).fold(0.0, f64::max);
        let mut ranked: Vec<(i64, &str)> = self
            .entries
            .iter()
            .map(|e| (score(e.weight, max), e.name.as_str()))
            .collect();
        ranked.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
        ranked
            .into_iter()
            .take(count)
            .map(|(_, name)| name.to_owned())
            .collect()
    }

    /// Heap bytes this user holds: the entries. The interned names are shared by every user
    /// and not counted.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.heap_bytes()
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.signed(self.period);
        w.varint(self.entries.len() as u128);
        for entry in self.entries.iter() {
            w.str(entry.name.as_str());
            w.f64(entry.weight);
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, StateDecodeError> {
        let period = r.signed("categories.period")?;
        let count = r.count("categories count")?;
        let mut entries: Vec<Weighted> = Vec::with_capacity(count);
        for _ in 0..count {
            let name = r.str("categories.name")?;
            if entries.last().is_some_and(|e| e.name.as_str() >= name) {
                return Err(invalid("categories.name", "names not strictly ascending"));
            }
            let weight = r.f64("categories.weight")?;
            if !(weight.is_finite() && weight >= 0.0) {
                return Err(invalid("categories.weight", "not a finite weight >= 0"));
            }
            entries.push(Weighted {
                name: Name::intern(name),
                weight,
            });
        }
        Ok(CategoryWeights {
            period,
            entries: Entries::from_sorted(entries),
        })
    }
}

/// `round(weight / max_weight · 10⁹)`; 0 for every category when all weights are 0 (possible
/// only with base weights configured to 0).
fn score(weight: f64, max: f64) -> i64 {
    if max > 0.0 {
        (weight / max * 1e9).round() as i64
    } else {
        0
    }
}

/// 2^`exponent` for `exponent <= 0`, exactly; 0 below the smallest normal `f64` (the weight of
/// an event 1022 half-lives older than the latest, about 39 years at 14 days, is 0).
fn power_of_two(exponent: i64) -> f64 {
    debug_assert!(exponent <= 0);
    if exponent < -1022 {
        0.0
    } else {
        f64::from_bits(((1023 + exponent) as u64) << 52)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, order_with, profile, search, view, view_of, DAY, HOUR};

    const W: i64 = 100 * DAY + 12 * HOUR;

    fn ts(ms: i64) -> EventTime {
        EventTime::from_millis(ms)
    }

    #[test]
    fn kinds_weigh_differently_and_decay_with_a_14_day_half_life() {
        let events = [
            // books: one order item 28 days before W: 5 / 4 = 1.25.
            order_with(ts(W - 28 * DAY), 100, 0, None, None, &[("books", 100, 3)]),
            // toys: a search at W: 2.
            search(ts(W), "lego", Some("toys")),
            // home: views 14 days before W and at W: 0.5 + 1 = 1.5.
            view_of(ts(W - 14 * DAY), "home"),
            view_of(ts(W), "home"),
            // No category: ignored.
            view(ts(W)),
        ];
        assert_eq!(
            profile(&events, ts(W)).top_categories,
            ["toys", "home", "books"]
        );
    }

    #[test]
    fn each_item_line_counts_once_whatever_its_quantity() {
        // books: two lines, 5 + 5 = 10; toys: one line of 100 units, 5; home: 4 views, 4.
        let mut events = vec![order_with(
            ts(W),
            0,
            0,
            None,
            None,
            &[("books", 100, 1), ("toys", 100, 100), ("books", 100, 1)],
        )];
        events.extend((0..4).map(|_| view_of(ts(W), "home")));
        assert_eq!(
            profile(&events, ts(W)).top_categories,
            ["books", "toys", "home"]
        );
    }

    #[test]
    fn ties_break_by_name_and_five_are_kept() {
        let names = ["数码", "travel", "books", "beauty", "home", "食品"];
        let events: Vec<_> = names.iter().map(|&n| view_of(ts(W), n)).collect();
        // Byte order: ASCII names first, then 数 (U+6570) before 食 (U+98DF).
        assert_eq!(
            profile(&events, ts(W)).top_categories,
            ["beauty", "books", "home", "travel", "数码"]
        );
    }

    #[test]
    fn the_ranking_does_not_depend_on_w() {
        let events = [view_of(at(10, 0), "old"), view_of(at(40, 0), "new")];
        for w in [at(40, 0), at(400, 0), at(4000, 0)] {
            assert_eq!(profile(&events, w).top_categories, ["new", "old"]);
        }
    }

    #[test]
    fn a_new_latest_period_rescales_exactly() {
        // Equal weights reached across a change of reference: a gets 1 on day 0, b 1.5 on
        // day 14 (one half-life later, a new period), then a 1 more on day 14...
        let config = TopCategoriesConfig::default();
        let mut weights = CategoryWeights::default();
        weights.add("a", at(0, 0), 1.0, &config);
        weights.add("b", at(14, 0), 1.5, &config);
        weights.add("a", at(14, 0), 1.0, &config);
        // ...a = 0.5 + 1 = 1.5 (relative to day 14), b = 1.5: equal, so by name.
        assert_eq!(weights.entries[0].weight, weights.entries[1].weight);
        assert_eq!(weights.top(5), ["a", "b"]);
    }

    #[test]
    fn weights_stay_finite_over_centuries() {
        let config = TopCategoriesConfig::default();
        let mut weights = CategoryWeights::default();
        for year in 0..200 {
            weights.add("a", at(year * 365, 0), 5.0, &config);
        }
        weights.add("b", at(0, 0), 1.0, &config);
        let a = weights.entries[0].weight;
        assert!(a.is_finite() && a < 10.0);
        // b is 5000 half-lives behind: weight 0, still listed, last.
        assert_eq!(weights.top(5), ["a", "b"]);
    }

    #[test]
    fn beyond_max_tracked_the_last_ranked_category_makes_room() {
        let config = TopCategoriesConfig {
            max_tracked: 2,
            count: 2,
            ..TopCategoriesConfig::default()
        };
        let mut weights = CategoryWeights::default();
        weights.add("a", at(10, 0), 1.0, &config);
        weights.add("b", at(10, 0), 2.0, &config);
        // c outranks a (weight 1, last): a goes.
        weights.add("c", at(10, 0), 1.5, &config);
        assert_eq!(weights.top(5), ["b", "c"]);
        // d would rank last: dropped, nothing allocated.
        weights.add("d", at(10, 0), 0.5, &config);
        assert_eq!(weights.top(5), ["b", "c"]);
        // bb ties with c, the last-ranked: by name, bb ranks first, so c goes.
        weights.add("bb", at(10, 0), 1.5, &config);
        assert_eq!(weights.top(5), ["b", "bb"]);
    }

    #[test]
    fn power_of_two_is_exact_and_underflows_to_zero() {
        assert_eq!(power_of_two(0), 1.0);
        assert_eq!(power_of_two(-1), 0.5);
        assert_eq!(power_of_two(-1022), f64::MIN_POSITIVE);
        assert_eq!(power_of_two(-1023), 0.0);
    }
}
