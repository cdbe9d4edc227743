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

use crate::signals::churn::reactivation::{self, Comebacks};
use crate::time::{Day, EventTime};

use super::codec::{invalid, Reader, StateDecodeError, Writer};

/// Days kept behind `day(W)`: the longest window, `events_prev_28d`, reaches back to
/// `day(W) − 34`, so every day `d > day(W) − 35` is kept and every older day can be folded.
/// The windows are fixed by the contract, so this is a constant, not configuration.
pub(crate) const RETENTION_DAYS: i32 = 35;

/// The log grows by this many entries when full, not by doubling: it settles at about
/// `RETENTION_DAYS` entries, and doubling from 32 to 64 would waste half a kilobyte per user.
const GROWTH: usize = 4;

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

/// A day with at least one user-initiated (`U`) event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ActiveDay {
    pub(crate) day: Day,
    /// `U` events on the day (saturating; a day of more than 4 billion events is not a person).
    pub(crate) events: u32,
    pub(crate) span: Span,
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

/// Per-day entries for the days after `horizon`, and a summary of the days up to it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DayLog {
    /// Active days after `horizon`, ascending.
    active: Vec<ActiveDay>,
    /// Hard-churn days after `horizon`, ascending.
    churn: Vec<ChurnDay>,
    /// The latest day folded into `folded` (`None` before the first prune). Events on or
    /// before it no longer enter the log: see [`DayLog::record_active`].
    horizon: Option<Day>,
    /// The comeback scan over every day up to `horizon`.
    folded: Comebacks,
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
        match self.active.binary_search_by_key(&day, |d| d.day) {
            Ok(at) => {
                let entry = &mut self.active[at];
                entry.events = entry.events.saturating_add(1);
                entry.span.widen(millis);
            }
            Err(at) => insert(
                &mut self.active,
                at,
                ActiveDay {
                    day,
                    events: 1,
                    span: Span::at(millis),
                },
            ),
        }
    }

    /// Notes a hard-churn event, for the comeback rule (see [`DayLog::record_active`]).
    pub(crate) fn record_churn(&mut self, ts: EventTime) {
        let (day, millis) = (ts.day(), ts.millis_of_day());
        if self.is_folded(day) {
            return;
        }
        match self.churn.binary_search_by_key(&day, |d| d.day) {
            Ok(at) => self.churn[at].span.widen(millis),
            Err(at) => insert(
                &mut self.churn,
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
        if self.horizon.is_some_and(|h| h >= horizon) {
            return;
        }
        let active = self.active.partition_point(|d| d.day <= horizon);
        let churn = self.churn.partition_point(|d| d.day <= horizon);
        self.folded = reactivation::scan(
            self.folded,
            &self.active[..active],
            &self.churn[..churn],
            gap_days,
        );
        self.active.drain(..active);
        self.churn.drain(..churn);
        self.horizon = Some(horizon);
    }

    /// The active days after the horizon, ascending.
    pub(crate) fn active_days(&self) -> &[ActiveDay] {
        &self.active
    }

    /// `first(d)` of the latest comeback day (docs/signals.md `reactivated_at`).
    pub(crate) fn reactivated_at(&self, gap_days: u32) -> Option<EventTime> {
        reactivation::scan(self.folded, &self.active, &self.churn, gap_days).latest()
    }

    /// Heap bytes held (by capacity, as the allocator sees them).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.active.capacity() * size_of::<ActiveDay>()
            + self.churn.capacity() * size_of::<ChurnDay>()
    }

    fn is_folded(&self, day: Day) -> bool {
        self.horizon.is_some_and(|h| day <= h)
    }

    /// Writes the log; every time in it is at or after `base` (the user's first event).
    pub(crate) fn encode(&self, base: EventTime, w: &mut Writer) {
        let base_day = base.day();
        match self.horizon {
            None => w.u8(0),
            Some(horizon) => {
                w.u8(1);
                w.signed(horizon.since(base_day).into());
            }
        }
        self.folded.encode(base, w);
        w.varint(self.active.len() as u128);
        let mut previous = base_day;
        for entry in &self.active {
            w.varint(entry.day.since(previous) as u128);
            w.varint(entry.events.into());
            encode_span(entry.span, w);
            previous = entry.day;
        }
        w.varint(self.churn.len() as u128);
        let mut previous = base_day;
        for entry in &self.churn {
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
        let mut day = None;
        for _ in 0..count {
            let this = next_day(r, base_day, day, "days.active day")?;
            let events: u32 = r.int("days.active events")?;
            if events == 0 {
                return Err(invalid(
                    "days.active events",
                    "an active day without events",
                ));
            }
            active.push(ActiveDay {
                day: this,
                events,
                span: decode_span(r, "days.active span")?,
            });
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
        Ok(DayLog {
            active,
            churn,
            horizon,
            folded,
        })
    }
}

/// Inserts at `at`, growing by [`GROWTH`] entries when full.
fn insert<T>(entries: &mut Vec<T>, at: usize, entry: T) {
    if entries.len() == entries.capacity() {
        entries.reserve_exact(GROWTH);
    }
    entries.insert(at, entry);
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
