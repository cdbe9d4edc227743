//! `reactivated_at`: when the user last came back.
//!
//! docs/signals.md: "let the *active days* be the distinct `day(ts)` over `U`, and for an active
//! day `d` let `first(d)` and `last(d)` be the smallest and largest ts of `U` on `d`. An active
//! day `d` with a previous active day `p` is a *comeback* when `d − p >= 30`, or when some event
//! `c` of `C` has `last(p) < ts(c) < first(d)` (the user churned after their last activity and
//! came back). `reactivated_at` = `first(d)` of the latest comeback day; NULL when there is
//! none. ... A churn event between two events of the same day is no comeback: the user never
//! left for a day."
//!
//! The rule is a left-to-right scan over the days, and the scan's state after any prefix of
//! days is three values ([`Comebacks`]). That is what lets the day log fold old days away: the
//! scan over the folded days is kept, and later scans resume from it.

use crate::state::codec::{invalid, Reader, StateDecodeError, Writer};
use crate::state::days::{ActiveDay, ChurnDay};
use crate::state::maybe_time::MaybeTime;
use crate::time::EventTime;

/// The comeback scan after some prefix of the user's days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Comebacks {
    /// `last(p)` of the latest active day scanned.
    last_active: MaybeTime,
    /// Whether a hard-churn event came after `last_active`. Only ever set once there is an
    /// active day: churn before the first active day cannot make a comeback.
    churned_since: bool,
    /// `first(d)` of the latest comeback day scanned.
    latest: MaybeTime,
}

impl Comebacks {
    /// The scan state from its parts (`last_active`, `churned_since`, `latest`), for a holder
    /// that stores them apart to pack them with its own fields.
    pub(crate) fn from_parts(
        last_active: MaybeTime,
        churned_since: bool,
        latest: MaybeTime,
    ) -> Self {
        Comebacks {
            last_active,
            churned_since,
            latest,
        }
    }

    /// The inverse of [`Comebacks::from_parts`].
    pub(crate) fn into_parts(self) -> (MaybeTime, bool, MaybeTime) {
        (self.last_active, self.churned_since, self.latest)
    }

    /// `reactivated_at` of the days scanned.
    pub(crate) fn latest(&self) -> Option<EventTime> {
        self.latest.get()
    }

    fn churn(&mut self) {
        self.churned_since = self.last_active.is_some();
    }

    fn active(&mut self, day: &ActiveDay, gap_days: u32) {
        if let Some(previous) = self.last_active.get() {
            let gap = i64::from(day.day.since(previous.day()));
            if gap >= i64::from(gap_days) || self.churned_since {
                self.latest = Some(day.first()).into();
            }
        }
        self.last_active = Some(day.last()).into();
        self.churned_since = false;
    }

    /// Writes the scan state; its times are at or after `base`.
    pub(crate) fn encode(&self, base: EventTime, w: &mut Writer) {
        let flags = u8::from(self.last_active.is_some())
            | u8::from(self.churned_since) << 1
            | u8::from(self.latest.is_some()) << 2;
        w.u8(flags);
        for ts in [self.last_active.get(), self.latest.get()]
            .into_iter()
            .flatten()
        {
            w.after(base, ts);
        }
    }

    pub(crate) fn decode(base: EventTime, r: &mut Reader) -> Result<Self, StateDecodeError> {
        let flags = r.u8("days.folded flags")?;
        if flags > 0b111 || (flags & 0b010 != 0 && flags & 0b001 == 0) {
            return Err(invalid(
                "days.folded flags",
                "unknown or inconsistent flags",
            ));
        }
        let mut read = |set: bool, field| set.then(|| r.after(base, field)).transpose();
        Ok(Comebacks {
            last_active: read(flags & 0b001 != 0, "days.folded last_active")?.into(),
            churned_since: flags & 0b010 != 0,
            latest: read(flags & 0b100 != 0, "days.folded latest")?.into(),
        })
    }
}

/// Resumes `from` over the next days: `active` and `churn` ascending, all after the days
/// `from` has seen.
///
/// Days are visited in order; on a day with both kinds of events, the churn events before the
/// day's first `U` event belong to the gap before it, those after its last `U` event to the
/// gap after it, and those in between to no gap at all.
pub(crate) fn scan(
    from: Comebacks,
    active: impl IntoIterator<Item = ActiveDay>,
    churn: &[ChurnDay],
    gap_days: u32,
) -> Comebacks {
    let mut scan = from;
    let mut churn = churn.iter().peekable();
    for day in active {
        while churn.next_if(|c| c.day < day.day).is_some() {
            scan.churn();
        }
        let same_day = churn.next_if(|c| c.day == day.day);
        if same_day.is_some_and(|c| c.span.first < day.span.first) {
            scan.churn();
        }
        scan.active(&day, gap_days);
        if same_day.is_some_and(|c| c.span.last > day.span.last) {
            scan.churn();
        }
    }
    if churn.next().is_some() {
        scan.churn();
    }
    scan
}

#[cfg(test)]
mod tests {
    use crate::event::AccountAction::{Cancel, FriendDeleted, Login, Register};
    use crate::testing::{account, at, profile, state_of, view, DAY};

    /// `reactivated_at` in epoch seconds, as the column holds it.
    fn reactivated_at(events: &[crate::event::Event<'static>]) -> Option<i64> {
        profile(events, at(200, 0)).reactivated_at
    }

    #[test]
    fn a_29_day_gap_is_no_comeback_and_30_days_is() {
        // Days are compared, not times: 23:00 on day 50 to 00:00 on day 79 is 29 days.
        let gap = |days: i64| {
            [
                view(at(50, 23)),
                view(at(50 + days, 0)),
                view(at(50 + days, 5)),
            ]
        };
        assert_eq!(reactivated_at(&gap(29)), None);
        assert_eq!(reactivated_at(&gap(30)), Some(80 * DAY / 1000));
    }

    #[test]
    fn cancel_between_active_days_makes_a_comeback() {
        let events = [
            view(at(90, 9)),
            account(at(90, 20), Cancel),
            account(at(91, 8), Register),
            view(at(91, 9)),
        ];
        assert_eq!(reactivated_at(&events), Some(at(91, 8).millis() / 1000));
    }

    #[test]
    fn churn_between_two_events_of_the_same_day_is_no_comeback() {
        let events = [
            view(at(90, 9)),
            account(at(90, 10), FriendDeleted),
            view(at(90, 11)),
            view(at(91, 9)),
        ];
        assert_eq!(reactivated_at(&events), None);
    }

    #[test]
    fn churn_at_the_same_millisecond_as_activity_is_not_between() {
        // The delete shares the instant of day 90's last event, the cancel that of day 91's
        // first: neither is strictly between them.
        let events = [
            view(at(90, 21)),
            account(at(90, 21), FriendDeleted),
            view(at(91, 9)),
            account(at(91, 9), Cancel),
        ];
        assert_eq!(reactivated_at(&events), None);
    }

    #[test]
    fn churn_on_the_comeback_day_before_its_first_event_counts() {
        let events = [
            view(at(90, 9)),
            account(at(91, 7), Cancel),
            account(at(91, 8), Login),
            view(at(91, 23)),
        ];
        assert_eq!(reactivated_at(&events), Some(at(91, 8).millis() / 1000));
    }

    #[test]
    fn a_late_event_between_churn_and_the_next_day_moves_the_comeback() {
        // The cancel at 20:00 on day 90 first separates day 90 from day 92. A view at 22:00 on
        // day 90 arrives late: the cancel is now inside day 90, which is no gap at all...
        let mut events = vec![
            view(at(90, 9)),
            account(at(90, 20), Cancel),
            view(at(92, 9)),
        ];
        assert_eq!(reactivated_at(&events), Some(at(92, 9).millis() / 1000));
        events.push(view(at(90, 22)));
        assert_eq!(reactivated_at(&events), None);
        // ...and a view on day 91 before the cancel's day ends makes no difference either way.
        events.push(view(at(91, 3)));
        assert_eq!(reactivated_at(&events), None);
    }

    #[test]
    fn the_latest_comeback_wins() {
        let events = [
            view(at(10, 1)),
            view(at(50, 2)), // comeback: 40 days
            view(at(60, 3)),
            view(at(95, 4)), // comeback: 35 days
            view(at(96, 5)),
        ];
        assert_eq!(reactivated_at(&events), Some(at(95, 4).millis() / 1000));
    }

    #[test]
    fn churn_before_the_first_activity_makes_no_comeback() {
        let events = [account(at(90, 1), Cancel), view(at(91, 1))];
        assert_eq!(reactivated_at(&events), None);
    }

    #[test]
    fn a_comeback_folded_away_by_prune_is_remembered() {
        let config = crate::signals::SignalConfig::default();
        let mut state = state_of(&[view(at(10, 1)), view(at(50, 2))]);
        // Folds every day up to 200 − 35 = 165: both days, and the comeback on day 50.
        state.prune(at(200, 0), &config);
        let reactivated = |state: &crate::state::ProfileState| {
            state
                .evaluate("u", at(200, 0), &config, &Default::default())
                .reactivated_at
        };
        assert_eq!(reactivated(&state), Some(at(50, 2).millis() / 1000));
        // Day 190 comes 140 days after the folded day 50.
        state.apply(&view(at(190, 1)), &config);
        assert_eq!(reactivated(&state), Some(at(190, 1).millis() / 1000));
    }
}
