//! The day log: bounded per-day history, enough for every windowed column and for comebacks.
//!
//! The windowed columns (`active_days_30d`, `events_7d`, `events_prev_28d`) count *days* and
//! *events per day* over windows that end at `day(W)`, and comebacks compare an active day with
//! the previous one. So instead of a per-event history the log keeps, for each day inside the
//! retention window, one entry: for an active day the number of `U` events and the first and
//! last `U` time of the day; for a day with hard-churn events the first and last `C` time. Days
//! that fall out of the window are folded into a [`Comebacks`] summary and dropped, which bounds
//! the log at about `RETENTION_DAYS` entries however long the user lives.
//!
//! Why first *and* last times per day suffice for comebacks: the rule only ever asks whether a
//! churn event lies strictly between `last(p)` of one active day and `first(d)` of the next. A
//! churn event on an active day counts only if it is before the day's first or after its last
//! `U` event, and as late events can only widen that span, the earliest and the latest churn
//! event of the day are the only ones that can ever count.
//!
//! Each active day also says whether the user ordered on it, so that an order tells a new
//! order day from one already counted (the churn model's repeat order days, `x`).
//!
//! Layout: the log is held by every user, so it is packed. An active day is a [`PackedDay`]
//! of 12 bytes (the day, and the first and last time of the day in 27 bits each, with the
//! order flag and the count of events in the 5 bits left over in each). A log of one day holds it inline, a log of more
//! in a vector exactly as long as the days it holds ([`ActiveDays`]). What few users need
//! lives in a [`Cold`] box, absent otherwise: the hard-churn days, and the counts of days with
//! more events than 10 bits hold.

use thin_vec::ThinVec;

use crate::signals::churn::reactivation::{self, Comebacks};
use crate::state::maybe_time::MaybeTime;
use crate::time::{Day, EventTime};

use super::codec::{invalid, Reader, StateDecodeError, Writer};

/// Days kept behind `day(W)`: the longest window, `events_prev_28d`, reaches back to
/// `day(W) − 34`, so every day `d > day(W) − 35` is kept and every older day can be folded.
/// The windows are fixed by the contract, so this is a constant, not configuration.
pub(crate) const RETENTION_DAYS: i32 = 35;

/// The first and last event of some kind on one day, in milliseconds since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) first: u32,
    pub(crate) last: u32,
}

impl Span {
    fn at(millis: u32) -> Self {
        Span {
            first: millis,
            last: millis,
        }
    }

    fn widen(&mut self, millis: u32) {
        self.first = self.first.min(millis);
        self.last = self.last.max(millis);
    }
}

/// A day with at least one user-initiated (`U`) event, as the rules read it (the log stores
/// it packed: [`PackedDay`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActiveDay {
    pub(crate) day: Day,
    /// `U` events on the day (saturating; a day of more than 4 billion events is not a person).
    pub(crate) events: u32,
    pub(crate) span: Span,
    /// Whether one of the events was an order.
    pub(crate) ordered: bool,
}

impl ActiveDay {
    /// `first(d)`: the earliest `U` time of the day.
    pub(crate) fn first(&self) -> EventTime {
        self.day.at(self.span.first)
    }

    /// `last(d)`: the latest `U` time of the day.
    pub(crate) fn last(&self) -> EventTime {
        self.day.at(self.span.last)
    }
}

/// A day with at least one hard-churn (`C`) event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChurnDay {
    pub(crate) day: Day,
    pub(crate) span: Span,
}

/// Bits of a millisecond of the day: `MILLIS_PER_DAY` < 2^27.
const MS_BITS: u32 = 27;
const MS_MASK: u32 = (1 << MS_BITS) - 1;
/// The count's bits in the first word (5) and in the second (4, below the order flag).
const COUNT_HIGH_BITS: u32 = 32 - MS_BITS;
const COUNT_LOW_BITS: u32 = 31 - MS_BITS;
/// The second word's top bit: the day had an order.
const ORDERED: u32 = 1 << 31;
/// A packed count of this value means "the count is in [`Cold::counts`]": days of at least
/// this many events.
const COUNT_ESCAPE: u32 = (1 << (COUNT_HIGH_BITS + COUNT_LOW_BITS)) - 1;

/// An [`ActiveDay`] in 12 bytes: the first and last millisecond of the day in the low 27 bits
/// of two words, the count of events in the 5 + 4 bits above them (1 to 510; 511 when the
/// count is kept in [`Cold::counts`]), and the order flag in the last bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PackedDay {
    day: Day,
    first: u32,
    last: u32,
}

impl PackedDay {
    fn new(day: Day, span: Span, count: u32, ordered: bool) -> Self {
        debug_assert!((1..=COUNT_ESCAPE).contains(&count));
        PackedDay {
            day,
            first: span.first | (count >> COUNT_LOW_BITS) << MS_BITS,
            last: span.last
                | (count & ((1 << COUNT_LOW_BITS) - 1)) << MS_BITS
                | if ordered { ORDERED } else { 0 },
        }
    }

    fn span(&self) -> Span {
        Span {
            first: self.first & MS_MASK,
            last: self.last & MS_MASK,
        }
    }

    fn count(&self) -> u32 {
        (self.first >> MS_BITS) << COUNT_LOW_BITS | (self.last & !ORDERED) >> MS_BITS
    }

    fn ordered(&self) -> bool {
        self.last & ORDERED != 0
    }
}

/// The active days of a log, ascending, in 16 bytes. Most logs hold one day or none (a user
/// seen once, or once in the retention window), so one day is held inline and only two or
/// more take an allocation. That one is a `ThinVec`, one pointer with the length and capacity
/// in front of the entries on the heap: a boxed slice (pointer and length) beside the tag
/// would make this 24 bytes. Its capacity is kept exactly at its length: no growth slack (a
/// log settles at a few dozen entries, which doubling would round up to 64), and a new day
/// reallocates, once per user and day, not per event.
#[derive(Debug, Clone, PartialEq)]
enum ActiveDays {
    Empty,
    One(PackedDay),
    /// Two or more, never fewer: equal logs are equal values.
    Many(ThinVec<PackedDay>),
}

impl ActiveDays {
    /// `days`, in the variant for their number.
    fn from_slice(days: &[PackedDay]) -> Self {
        match days {
            [] => ActiveDays::Empty,
            &[day] => ActiveDays::One(day),
            _ => ActiveDays::Many(exact(days)),
        }
    }

    fn as_slice(&self) -> &[PackedDay] {
        match self {
            ActiveDays::Empty => &[],
            ActiveDays::One(day) => std::slice::from_ref(day),
            ActiveDays::Many(days) => days,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [PackedDay] {
        match self {
            ActiveDays::Empty => &mut [],
            ActiveDays::One(day) => std::slice::from_mut(day),
            ActiveDays::Many(days) => days,
        }
    }

    /// Inserts `day` at `at`, growing the entries by exactly one.
    fn insert(&mut self, at: usize, day: PackedDay) {
        match self {
            ActiveDays::Empty => *self = ActiveDays::One(day),
            ActiveDays::One(only) => {
                let mut days = ThinVec::with_capacity(2);
                days.push(*only);
                days.insert(at, day);
                *self = ActiveDays::Many(days);
            }
            ActiveDays::Many(days) => {
                days.reserve_exact(1);
                days.insert(at, day);
            }
        }
    }

    /// Drops the first `count` days.
    fn drop_first(&mut self, count: usize) {
        if count > 0 {
            *self = ActiveDays::from_slice(&self.as_slice()[count..]);
        }
    }

    /// Heap bytes held: the vector's length and capacity (two `usize`) and its entries.
    fn heap_bytes(&self) -> usize {
        match self {
            ActiveDays::Many(days) => 2 * size_of::<usize>() + size_of_val::<[PackedDay]>(days),
            _ => 0,
        }
    }
}

/// `days` in a `ThinVec` of exactly their length (collecting one would reserve at least 4).
fn exact(days: &[PackedDay]) -> ThinVec<PackedDay> {
    let mut exact = ThinVec::with_capacity(days.len());
    exact.extend_from_slice(days);
    exact
}

/// The rare parts of a log, boxed so that the users without them pay 8 bytes.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cold {
    /// Hard-churn days after the horizon, ascending.
    churn: Box<[ChurnDay]>,
    /// The counts of the active days whose [`PackedDay`] says [`COUNT_ESCAPE`], ascending.
    counts: Box<[(Day, u32)]>,
}

/// Per-day entries for the days after `horizon`, and a summary of the days up to it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DayLog {
    /// Active days after `horizon`, ascending.
    active: ActiveDays,
    /// Churn days and large counts; `None` when there are neither (never an empty box, so
    /// that equal logs are equal values).
    cold: Option<Box<Cold>>,
    /// The latest day folded into the summary ([`NO_HORIZON`] before the first prune). Events
    /// on or before it no longer enter the log: see [`DayLog::record_active`].
    horizon: Day,
    /// The comeback scan over every day up to `horizon` ([`DayLog::folded`]), in its three
    /// parts, so that the flag packs with the horizon instead of padding a struct of its own.
    folded_last_active: MaybeTime,
    folded_latest: MaybeTime,
    folded_churned_since: bool,
}

/// What [`DayLog::record_order`] knew of an order's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderDay {
    /// The first order of its day.
    New,
    /// The day had an order already.
    Known,
    /// The day is folded away, and whether it had an order with it.
    Folded,
}

/// `DayLog::horizon` before the first prune: no day is folded. Below every day of an event
/// time, so no day compares at or before it.
const NO_HORIZON: Day = Day::new(i32::MIN);

impl Default for DayLog {
    fn default() -> Self {
        DayLog {
            active: ActiveDays::Empty,
            cold: None,
            horizon: NO_HORIZON,
            folded_last_active: MaybeTime::NONE,
            folded_latest: MaybeTime::NONE,
            folded_churned_since: false,
        }
    }
}

impl DayLog {
    /// Counts a user-initiated event. An event on a day already folded away (it arrived after
    /// `W` had moved `RETENTION_DAYS` past it) is outside every window for good, and the
    /// comeback summary cannot take it in order any more; it is left out (docs/state.md,
    /// "Exactness").
    pub(crate) fn record_active(&mut self, ts: EventTime) {
        let (day, millis) = (ts.day(), ts.millis_of_day());
        if self.is_folded(day) {
            return;
        }
        match self.active.as_slice().binary_search_by_key(&day, |d| d.day) {
            Ok(at) => {
                let entry = self.active.as_slice()[at];
                let mut span = entry.span();
                span.widen(millis);
                let count = entry.count();
                if count + 1 == COUNT_ESCAPE {
                    self.cold_mut().set_count(day, COUNT_ESCAPE);
                } else if count == COUNT_ESCAPE {
                    self.cold_mut().add_event(day);
                }
                self.active.as_mut_slice()[at] =
                    PackedDay::new(day, span, (count + 1).min(COUNT_ESCAPE), entry.ordered());
            }
            Err(at) => self
                .active
                .insert(at, PackedDay::new(day, Span::at(millis), 1, false)),
        }
    }

    /// Marks `day` as a day with an order, after [`DayLog::record_active`] counted the order
    /// on it; says whether it was one already.
    pub(crate) fn record_order(&mut self, day: Day) -> OrderDay {
        if self.is_folded(day) {
            return OrderDay::Folded;
        }
        let days = self.active.as_mut_slice();
        let at = days
            .binary_search_by_key(&day, |d| d.day)
            .expect("an order is a user-initiated event, recorded on its day first");
        if days[at].ordered() {
            OrderDay::Known
        } else {
            days[at].last |= ORDERED;
            OrderDay::New
        }
    }

    /// Notes a hard-churn event, for the comeback rule (see [`DayLog::record_active`]).
    pub(crate) fn record_churn(&mut self, ts: EventTime) {
        let (day, millis) = (ts.day(), ts.millis_of_day());
        if self.is_folded(day) {
            return;
        }
        let cold = self.cold_mut();
        match cold.churn.binary_search_by_key(&day, |d| d.day) {
            Ok(at) => cold.churn[at].span.widen(millis),
            Err(at) => insert(
                &mut cold.churn,
                at,
                ChurnDay {
                    day,
                    span: Span::at(millis),
                },
            ),
        }
    }

    /// Folds every day no window can need once the watermark has reached `watermark`
    /// (`d <= day(W) − RETENTION_DAYS`) into the summary and drops it.
    pub(crate) fn prune(&mut self, watermark: EventTime, gap_days: u32) {
        let horizon = watermark.day().plus(-RETENTION_DAYS);
        if self.horizon >= horizon {
            return;
        }
        let active = self.active.as_slice().partition_point(|d| d.day <= horizon);
        let churn = self.churn().partition_point(|d| d.day <= horizon);
        let folded = reactivation::scan(
            self.folded(),
            self.active_days().take(active),
            &self.churn()[..churn],
            gap_days,
        );
        self.set_folded(folded);
        self.active.drop_first(active);
        if let Some(cold) = &mut self.cold {
            drop_first(&mut cold.churn, churn);
            let counts = cold.counts.partition_point(|&(d, _)| d <= horizon);
            drop_first(&mut cold.counts, counts);
            if cold.churn.is_empty() && cold.counts.is_empty() {
                self.cold = None;
            }
        }
        self.horizon = horizon;
    }

    /// The comeback scan over the days up to the horizon.
    fn folded(&self) -> Comebacks {
        Comebacks::from_parts(
            self.folded_last_active,
            self.folded_churned_since,
            self.folded_latest,
        )
    }

    fn set_folded(&mut self, folded: Comebacks) {
        (
            self.folded_last_active,
            self.folded_churned_since,
            self.folded_latest,
        ) = folded.into_parts();
    }

    /// The active days after the horizon, ascending.
    pub(crate) fn active_days(&self) -> impl Iterator<Item = ActiveDay> + Clone + '_ {
        self.active.as_slice().iter().map(|entry| ActiveDay {
            day: entry.day,
            events: match entry.count() {
                COUNT_ESCAPE => self
                    .cold
                    .as_ref()
                    .map_or(COUNT_ESCAPE, |c| c.count(entry.day)),
                count => count,
            },
            span: entry.span(),
            ordered: entry.ordered(),
        })
    }

    /// The hard-churn days after the horizon, ascending.
    fn churn(&self) -> &[ChurnDay] {
        self.cold.as_ref().map_or(&[], |cold| &cold.churn)
    }

    fn cold_mut(&mut self) -> &mut Cold {
        self.cold.get_or_insert_with(Box::default)
    }

    /// `first(d)` of the latest comeback day (docs/signals.md `reactivated_at`).
    pub(crate) fn reactivated_at(&self, gap_days: u32) -> Option<EventTime> {
        reactivation::scan(self.folded(), self.active_days(), self.churn(), gap_days).latest()
    }

    /// Heap bytes held (every list is exactly as long as its entries).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.active.heap_bytes()
            + self.cold.as_ref().map_or(0, |cold| {
                size_of::<Cold>()
                    + size_of_val::<[ChurnDay]>(&cold.churn)
                    + size_of_val::<[(Day, u32)]>(&cold.counts)
            })
    }

    fn is_folded(&self, day: Day) -> bool {
        day <= self.horizon
    }

    /// Writes the log; every time in it is at or after `base` (the user's first event).
    pub(crate) fn encode(&self, base: EventTime, w: &mut Writer) {
        let base_day = base.day();
        if self.horizon == NO_HORIZON {
            w.u8(0);
        } else {
            w.u8(1);
            w.signed(self.horizon.since(base_day).into());
        }
        self.folded().encode(base, w);
        w.varint(self.active.as_slice().len() as u128);
        let mut previous = base_day;
        for entry in self.active_days() {
            w.varint(entry.day.since(previous) as u128);
            w.varint(u128::from(entry.events) << 1 | u128::from(entry.ordered));
            encode_span(entry.span, w);
            previous = entry.day;
        }
        w.varint(self.churn().len() as u128);
        let mut previous = base_day;
        for entry in self.churn() {
            w.varint(entry.day.since(previous) as u128);
            encode_span(entry.span, w);
            previous = entry.day;
        }
    }

    /// Reads what [`DayLog::encode`] wrote, checking the invariants the log relies on: days
    /// ascending and after the horizon, spans inside their day, no empty active day.
    pub(crate) fn decode(base: EventTime, r: &mut Reader) -> Result<Self, StateDecodeError> {
        let base_day = base.day();
        let horizon = match r.u8("days.horizon flag")? {
            0 => None,
            1 => Some(shifted(
                base_day,
                r.signed("days.horizon")?,
                "days.horizon",
            )?),
            _ => return Err(invalid("days.horizon flag", "neither 0 nor 1")),
        };
        let folded = Comebacks::decode(base, r)?;
        if folded != Comebacks::default() && horizon.is_none() {
            return Err(invalid("days.folded", "a summary without a horizon"));
        }
        // Entries start after the horizon and after the first event's day.
        let floor = horizon.map_or(base_day, |h| h.plus(1).max(base_day));

        let count = r.count("days.active count")?;
        let mut active = Vec::with_capacity(count);
        let mut counts = Vec::new();
        let mut day = None;
        for _ in 0..count {
            let this = next_day(r, base_day, day, "days.active day")?;
            let events_and_order: u64 = r.int("days.active events")?;
            let ordered = events_and_order & 1 == 1;
            let events = u32::try_from(events_and_order >> 1)
                .map_err(|_| invalid("days.active events", "more than 2^32 events"))?;
            if events == 0 {
                return Err(invalid(
                    "days.active events",
                    "an active day without events",
                ));
            }
            if events >= COUNT_ESCAPE {
                counts.push((this, events));
            }
            let span = decode_span(r, "days.active span")?;
            active.push(PackedDay::new(
                this,
                span,
                events.min(COUNT_ESCAPE),
                ordered,
            ));
            day = Some(this);
        }
        let count = r.count("days.churn count")?;
        let mut churn = Vec::with_capacity(count);
        let mut day = None;
        for _ in 0..count {
            let this = next_day(r, base_day, day, "days.churn day")?;
            churn.push(ChurnDay {
                day: this,
                span: decode_span(r, "days.churn span")?,
            });
            day = Some(this);
        }
        let starts_early = |first: Option<Day>| first.is_some_and(|d| d < floor);
        if starts_early(active.first().map(|d| d.day)) || starts_early(churn.first().map(|d| d.day))
        {
            return Err(invalid("days", "an entry on or before the horizon"));
        }
        let cold = (!churn.is_empty() || !counts.is_empty()).then(|| {
            Box::new(Cold {
                churn: churn.into_boxed_slice(),
                counts: counts.into_boxed_slice(),
            })
        });
        let mut log = DayLog {
            active: ActiveDays::from_slice(&active),
            cold,
            horizon: horizon.unwrap_or(NO_HORIZON),
            ..DayLog::default()
        };
        log.set_folded(folded);
        Ok(log)
    }
}

impl Cold {
    /// The count of a day whose packed count says [`COUNT_ESCAPE`].
    fn count(&self, day: Day) -> u32 {
        self.counts
            .binary_search_by_key(&day, |&(d, _)| d)
            .map_or(COUNT_ESCAPE, |at| self.counts[at].1)
    }

    fn set_count(&mut self, day: Day, count: u32) {
        match self.counts.binary_search_by_key(&day, |&(d, _)| d) {
            Ok(at) => self.counts[at].1 = count,
            Err(at) => insert(&mut self.counts, at, (day, count)),
        }
    }

    fn add_event(&mut self, day: Day) {
        if let Ok(at) = self.counts.binary_search_by_key(&day, |&(d, _)| d) {
            let count = &mut self.counts[at].1;
            *count = count.saturating_add(1);
        }
    }
}

/// Inserts at `at`, growing the slice by exactly one entry (one reallocation).
fn insert<T>(entries: &mut Box<[T]>, at: usize, entry: T) {
    let mut grown = std::mem::take(entries).into_vec();
    grown.reserve_exact(1);
    grown.insert(at, entry);
    *entries = grown.into_boxed_slice();
}

/// Drops the first `count` entries, shrinking the slice to the rest.
fn drop_first<T>(entries: &mut Box<[T]>, count: usize) {
    if count > 0 {
        let mut rest = std::mem::take(entries).into_vec();
        rest.drain(..count);
        *entries = rest.into_boxed_slice();
    }
}

fn encode_span(span: Span, w: &mut Writer) {
    w.varint(span.first.into());
    w.varint((span.last - span.first).into());
}

fn decode_span(r: &mut Reader, field: &'static str) -> Result<Span, StateDecodeError> {
    let first = r.millis_of_day(field)?;
    let length: u32 = r.int(field)?;
    let last = first
        .checked_add(length)
        .filter(|&last| i64::from(last) < crate::time::MILLIS_PER_DAY)
        .ok_or(invalid(field, "a span beyond the end of its day"))?;
    Ok(Span { first, last })
}

/// Reads a day delta: the first entry's from the base day (>= 0), later ones from the previous
/// entry (>= 1, so days are strictly ascending).
fn next_day(
    r: &mut Reader,
    base: Day,
    previous: Option<Day>,
    field: &'static str,
) -> Result<Day, StateDecodeError> {
    let delta: i64 = r.int(field)?;
    let (from, least) = match previous {
        None => (base, 0),
        Some(previous) => (previous, 1),
    };
    if delta < least {
        return Err(invalid(field, "days not strictly ascending"));
    }
    shifted(from, delta, field)
}

/// `from` moved by `delta` days, if that is a day of an event time (so that day arithmetic
/// on it cannot overflow).
fn shifted(from: Day, delta: i64, field: &'static str) -> Result<Day, StateDecodeError> {
    let valid = i64::from(EventTime::MIN.day().get())..=i64::from(EventTime::MAX.day().get());
    i64::from(from.get())
        .checked_add(delta)
        .filter(|day| valid.contains(day))
        .map(|day| Day::new(day as i32))
        .ok_or(invalid(field, "day outside the years 0000 to 9999"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::codec::{Reader, Writer};
    use crate::testing::{at, DAY};

    fn round_trip(log: &DayLog, base: EventTime) -> DayLog {
        let mut blob = Vec::new();
        log.encode(base, &mut Writer::new(&mut blob));
        let mut r = Reader::new(&blob);
        let decoded = DayLog::decode(base, &mut r).unwrap();
        r.finish().unwrap();
        decoded
    }

    #[test]
    fn a_day_packs_into_12_bytes_with_its_span_and_count() {
        assert_eq!(size_of::<PackedDay>(), 12);
        let span = Span {
            first: 86_399_998,
            last: 86_399_999,
        };
        for count in [1, 15, 16, 500, COUNT_ESCAPE] {
            for ordered in [false, true] {
                let packed = PackedDay::new(Day::new(-3), span, count, ordered);
                assert_eq!(
                    (packed.span(), packed.count(), packed.ordered()),
                    (span, count, ordered)
                );
            }
        }
    }

    #[test]
    fn one_day_is_held_inline_and_a_second_takes_one_exact_allocation() {
        assert_eq!(size_of::<DayLog>(), 48);
        let base = at(8, 0);
        let mut log = DayLog::default();
        log.record_active(at(10, 9));
        log.record_active(at(10, 7));
        assert!(matches!(log.active, ActiveDays::One(_)));
        assert_eq!(log.heap_bytes(), 0);
        assert_eq!(round_trip(&log, base), log);

        // A day before it goes first; both then live in a vector of exactly two.
        log.record_active(at(8, 12));
        let ActiveDays::Many(days) = &log.active else {
            panic!("two days are {:?}", log.active);
        };
        assert_eq!(days.capacity(), 2);
        assert_eq!(log.heap_bytes(), 16 + 2 * 12);
        let days: Vec<(Day, u32, Span)> = log
            .active_days()
            .map(|d| (d.day, d.events, d.span))
            .collect();
        let span = |first: i64, last: i64| Span {
            first: at(0, first).millis() as u32,
            last: at(0, last).millis() as u32,
        };
        assert_eq!(
            days,
            [
                (at(8, 0).day(), 1, span(12, 12)),
                (at(10, 0).day(), 2, span(7, 9))
            ]
        );
        assert_eq!(round_trip(&log, base), log);
        log.record_active(at(9, 1));
        assert_eq!(log.active_days().count(), 3);
        assert_eq!(log.heap_bytes(), 16 + 3 * 12);

        // Folding days away goes back to one inline day (W on day 44 folds the days up to 9),
        // then to none, each equal to the same log decoded.
        log.prune(EventTime::from_millis(at(44, 0).millis()), 30);
        assert!(matches!(log.active, ActiveDays::One(_)));
        assert_eq!(log.active_days().next().map(|d| d.events), Some(2));
        assert_eq!(round_trip(&log, base), log);
        log.prune(EventTime::from_millis(at(46, 0).millis()), 30);
        assert_eq!(log.active, ActiveDays::Empty);
        assert_eq!(round_trip(&log, base), log);
    }

    #[test]
    fn a_day_of_more_events_than_9_bits_counts_them_all() {
        let base = at(10, 0);
        let mut log = DayLog::default();
        let events = 3 * COUNT_ESCAPE + 5;
        for i in 0..events {
            log.record_active(EventTime::from_millis(base.millis() + i64::from(i)));
        }
        log.record_active(at(11, 1));
        let days: Vec<(Day, u32)> = log.active_days().map(|d| (d.day, d.events)).collect();
        assert_eq!(days, [(at(10, 0).day(), events), (at(11, 0).day(), 1)]);
        assert_eq!(round_trip(&log, base), log);

        // Folded away (W on day 45 folds the days up to 10), the count goes with its day, and
        // so does the box it was in.
        log.prune(EventTime::from_millis(at(10, 0).millis() + 35 * DAY), 30);
        assert_eq!(log.active_days().count(), 1);
        assert!(log.cold.is_none());
    }

    #[test]
    fn an_order_marks_its_day_once_and_the_mark_outlives_more_events() {
        let base = at(10, 0);
        let mut log = DayLog::default();
        let day = at(10, 0).day();
        log.record_active(at(10, 9));
        assert_eq!(log.record_order(day), OrderDay::New);
        assert_eq!(log.record_order(day), OrderDay::Known);
        for _ in 0..COUNT_ESCAPE {
            log.record_active(at(10, 11));
        }
        log.record_active(at(11, 1));
        let ordered: Vec<(Day, bool)> = log.active_days().map(|d| (d.day, d.ordered)).collect();
        assert_eq!(ordered, [(day, true), (at(11, 0).day(), false)]);
        assert_eq!(round_trip(&log, base), log);
        // Folded away (W on day 45 folds the days up to 10), the day no longer tells.
        log.prune(EventTime::from_millis(at(10, 0).millis() + 35 * DAY), 30);
        assert_eq!(log.record_order(day), OrderDay::Folded);
    }

    #[test]
    fn churn_days_live_in_the_cold_box_until_folded() {
        let mut log = DayLog::default();
        log.record_active(at(10, 9));
        assert!(log.cold.is_none());
        log.record_churn(at(10, 20));
        log.record_churn(at(10, 8));
        assert_eq!(
            log.churn(),
            [ChurnDay {
                day: at(10, 0).day(),
                span: Span {
                    first: at(0, 8).millis() as u32,
                    last: at(0, 20).millis() as u32,
                },
            }]
        );
        assert_eq!(round_trip(&log, at(10, 0)), log);
        log.prune(EventTime::from_millis(at(10, 0).millis() + 36 * DAY), 30);
        assert_eq!((log.active_days().count(), log.cold.is_none()), (0, true));
    }
}
