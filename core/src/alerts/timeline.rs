//! [`StageTimeline`]: one user's lifecycle stage followed in event time, decided up to a cursor.
//!
//! The profile row says where a user stands at the watermark; an alert says *when* the user
//! moved. `stage(t)` is the stage of the events with `ts <= t` evaluated at `W = t`, a step
//! function that changes at event instants and, between events, at the instants where time
//! alone moves it (a `days_inactive` threshold, a midnight where a window edge passes an
//! active day or `reactivated`/`new` expire). The timeline walks that function up to a
//! *cursor* chosen by the pipeline (the alert decision point, `docs/alerts.md`): events after
//! the cursor wait in `pending`, so a transition is decided only once every event before it is
//! in, and each transition gets its own time, however many lie between two flushes.
//!
//! The stage reads a few fields of the user's history as of the cursor. The profile's state
//! holds them as of every event applied, up to the lateness ahead of the cursor; while no
//! event is pending the two agree, and the timeline reads the state's (most users, most of
//! the time: `history.rs`). Only while the user is active does it keep a copy as of the
//! cursor, to which it applies the pending events in time order, which is what makes the
//! `reactivated` comeback and the activation instant simple to see. So every call is given the
//! user's state: `record` before the event is applied to it, `advance` and `next_due` as it
//! stands. What a timeline holds, and why, is in `docs/state.md`, "The alert timeline".
//!
//! Deciding is most of the alerts' cost, so it avoids the full signals where it can prove
//! them idle, with exactly the same outcome (the tests hold it to the straightforward
//! version, `timeline/reference.rs`): an instant whose events cannot move the stage (a second
//! event on an active day, [`Past::unmoved_by`]) is not settled; the search for the next
//! change time alone makes slides the windows over the day log instead of summing them at
//! each candidate midnight ([`crate::state::lifecycle::StageSweep`]); and `reactivated_at`
//! is computed once per run of instants that cannot change it ([`Reactivated`]).

mod codec;
mod history;
mod mark;
#[cfg(test)]
mod reference;

use super::reason::{reason, Context};
use super::{Alert, AlertKind, AlertRules, AlertSnapshot};
use crate::event::{Direction, Event, EventKind};
use crate::profile::seconds;
use crate::signals::activity::is_user_initiated;
use crate::signals::churn::is_hard_churn;
use crate::signals::SignalConfig;
use crate::state::maybe_time::MaybeTime;
use crate::state::ProfileState;
use crate::time::EventTime;
use history::{History, Past, Reactivated};
use mark::Mark;

/// What the stage needs to know of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Not user-initiated nor hard churn: it only makes the user exist.
    Seen,
    /// User-initiated, other than a message.
    Active,
    /// A chat message from the user: user-initiated, and it counts towards activation.
    Message,
    /// A hard-churn event.
    Churn,
}

impl Class {
    /// In the blob, by code.
    const ALL: [Class; 4] = [Class::Seen, Class::Active, Class::Message, Class::Churn];

    fn of(kind: &EventKind<'_>) -> Class {
        match kind {
            EventKind::ChatMessage(chat) if chat.direction == Direction::User => Class::Message,
            kind if is_user_initiated(kind) => Class::Active,
            kind if is_hard_churn(kind) => Class::Churn,
            _ => Class::Seen,
        }
    }
}

/// An event after the cursor, waiting to be decided.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Pending {
    ts: EventTime,
    class: Class,
}

impl Pending {
    /// The event of a state that holds one alone: its time is `first_seen`, and its class
    /// shows in which of the fields the stage reads it set.
    fn only_event_of(state: &ProfileState) -> Pending {
        let Past {
            lifecycle,
            messages_sent,
        } = Past::of_state(state);
        let class = if messages_sent > 0 {
            Class::Message
        } else if lifecycle.last_active.is_some() {
            Class::Active
        } else if lifecycle.last_churn.is_some() {
            Class::Churn
        } else {
            Class::Seen
        };
        Pending {
            ts: lifecycle.first_seen,
            class,
        }
    }
}

/// One user's stage in event time, decided up to a cursor, and the alerts it raised. 24 bytes
/// and nothing on the heap for a user with every event decided who never alerted.
///
/// The history as of the cursor, and the events after it, are in one of three places:
///
/// - *in the state*: nothing is pending, and the history as of the cursor is the profile
///   state's once an instant is settled (empty before: see [`StageTimeline::record`]);
/// - *a new user's first event pending* (`Mark::first_pending`): nothing is decided yet,
///   and the state holds this event alone, so the state tells it. Every new user passes
///   through here, and a buffer per user, freed once the event is decided, would leave a
///   hole in the heap per user;
/// - *apart*: a history of the timeline's own and the pending events, while events are
///   pending, until a decision finds no event taken in since the one before (see
///   `Apart::idle_copy`), or for good when the state holds more than the timeline has seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimeline {
    decided: Decided,
    apart: Option<Box<Apart>>,
}

/// What is decided: up to where, the stage there, and the alerts sent.
#[derive(Debug, Clone, Default, PartialEq)]
struct Decided {
    mark: Mark,
    /// When each kind last fired (by `AlertKind` index), for the cooldown; `None` until the
    /// first alert (40 bytes in every timeline otherwise, where a user seen once raises none
    /// for 14 days).
    fired: Option<Box<Fired>>,
}

type Fired = [MaybeTime; TIMELINE_KINDS];

/// The kinds a timeline raises: every kind before [`AlertKind::SegmentEntered`], which a flush
/// raises.
pub(crate) const TIMELINE_KINDS: usize = AlertKind::SegmentEntered as usize;

/// The timeline's own history and the events after the cursor (see [`StageTimeline`]).
#[derive(Debug, Clone, PartialEq)]
struct Apart {
    /// The history as of the cursor; `None` until the first event is decided.
    history: Option<History>,
    /// Events after the cursor, in arrival order. A `Vec` rather than a `ThinVec` (8 bytes
    /// less): every event is pushed here, and a `ThinVec` reads its length from the heap, a
    /// cache miss per event that took 4.6% of a replay's CPU.
    pending: Vec<Pending>,
    /// Whether the state holds exactly the events of `history` and `pending` (and events that
    /// cannot move the stage), so that once nothing is pending `history` is the state's and
    /// can be dropped. `false` for a timeline begun after its state (a user stored before
    /// alerts were on): its history starts with the events it sees, as it always did.
    follows_state: bool,
}

impl StageTimeline {
    /// The parts as the blob and the reference walk see them: the timeline's own history, the
    /// pending events, and whether the state follows them (always, but for a timeline begun
    /// after its state). `first` holds a pending first event, which the state tells.
    fn parts<'a>(
        &'a self,
        state: &ProfileState,
        first: &'a mut Option<Pending>,
    ) -> (Option<&'a History>, &'a [Pending], bool) {
        match &self.apart {
            Some(apart) => (apart.history.as_ref(), &apart.pending, apart.follows_state),
            None if self.decided.mark.first_pending() => (
                None,
                std::slice::from_ref(first.insert(Pending::only_event_of(state))),
                true,
            ),
            None => (None, &[], true),
        }
    }

    /// Sets what [`StageTimeline::parts`] gives: a history that is the state's is kept if
    /// `keep_copy`, and dropped otherwise.
    fn set_parts(
        &mut self,
        (history, pending, follows_state): (Option<History>, Vec<Pending>, bool),
        keep_copy: bool,
        state: &ProfileState,
    ) {
        let in_state = follows_state && pending.is_empty() && (history.is_none() || !keep_copy);
        let first_pending = follows_state
            && history.is_none()
            && matches!(*pending, [first] if first == Pending::only_event_of(state));
        self.decided.mark.set_first_pending(first_pending);
        let kept_apart = !(in_state || first_pending);
        self.apart = kept_apart.then(|| {
            Box::new(Apart {
                history,
                pending,
                follows_state,
            })
        });
    }
}

impl Apart {
    /// Whether this is a copy of the history that is the state's: nothing is pending, and
    /// the state holds what the copy holds. It is kept through the decisions of a user's
    /// active stretch, so that events arriving between them are pushed onto it as they come,
    /// not each stretch between two decisions copied from the state again (a day log's
    /// allocation and copy per user and flush); the first decision that finds no event taken
    /// in since the one before drops it, so only the users with events since the last
    /// decision but one hold a copy. An idle copy is due at the next decision for that.
    fn idle_copy(&self) -> bool {
        self.pending.is_empty() && self.follows_state
    }

    /// Takes in an event: applied to the history if `late` (at or before the cursor), else
    /// pending, unless it cannot move the stage: once the user exists, an event that is
    /// neither activity nor churn only confirms a `first_seen` that is earlier already.
    fn take(&mut self, event: Pending, late: bool) {
        if late {
            self.history
                .get_or_insert_with(|| History::new(event.ts))
                .apply(event.ts, event.class);
        } else if event.class != Class::Seen || self.history.is_none() {
            self.pending.push(event);
        }
    }
}

/// What [`StageTimeline::advance`] decides with, and where its alerts go.
struct Decide<'a, F> {
    user_id: &'a str,
    config: &'a SignalConfig,
    rules: &'a AlertRules,
    out: F,
    reactivated: Reactivated,
}

impl StageTimeline {
    /// Takes in one event; `state` is the user's profile state before the event is applied to
    /// it (`None` for a new user, whose state this event starts). Returns `false` if the event
    /// is too late for the alerts: its time is at or before the cursor, whose transitions are
    /// decided already. It still counts from then on, and a change it makes is raised at the
    /// cursor by the next `advance`.
    pub fn record(&mut self, state: Option<&ProfileState>, event: &Event<'_>) -> bool {
        let event = Pending {
            ts: event.ts,
            class: Class::of(&event.kind),
        };
        let mark = &mut self.decided.mark;
        let late = mark.cursor().is_some_and(|cursor| event.ts <= cursor);
        if late {
            mark.set_recheck();
        }
        if let Some(apart) = &mut self.apart {
            apart.take(event, late);
            return !late;
        }
        if mark.stage().is_some() {
            // The state takes the event too, so it stays the history as of the cursor if the
            // event is late or cannot move the stage; otherwise the history as of the cursor
            // is the state as it stands, copied before the event is applied.
            if !late && event.class != Class::Seen {
                let state = state.expect("a settled timeline has a state");
                self.apart = Some(Box::new(Apart {
                    history: Some(History::of(Past::of_state(state))),
                    pending: vec![event],
                    follows_state: true,
                }));
            }
            return !late;
        }
        // Nothing settled yet. A pending first event is the state's to tell until this one
        // comes. A state from before this event, with no first event pending, holds events
        // the timeline never saw: the timeline was begun after it, and keeps a history of its
        // own.
        let mut apart = match (mark.first_pending(), state) {
            (true, state) => {
                let state = state.expect("a pending first event is in the state");
                mark.set_first_pending(false);
                Apart {
                    history: None,
                    pending: vec![Pending::only_event_of(state)],
                    follows_state: true,
                }
            }
            (false, None) if !late => {
                mark.set_first_pending(true);
                return true;
            }
            (false, state) => Apart {
                history: None,
                pending: Vec::new(),
                follows_state: state.is_none(),
            },
        };
        apart.take(event, late);
        self.apart = Some(Box::new(apart));
        !late
    }

    /// The earliest decision point at which [`StageTimeline::advance`] has something to do:
    /// an event to decide, a change time alone makes, a late event to look at, or a copy of
    /// the history to drop if no event comes before it.
    pub fn next_due(&self, state: &ProfileState, config: &SignalConfig) -> Option<EventTime> {
        let mark = self.decided.mark;
        if mark.recheck() || self.apart.as_ref().is_some_and(|apart| apart.idle_copy()) {
            return mark.cursor();
        }
        let (first_pending, past) = match &self.apart {
            Some(apart) => (
                apart.pending.iter().map(|p| p.ts).min(),
                apart.history.as_ref().map(History::past),
            ),
            None if mark.first_pending() => (Some(Pending::only_event_of(state).ts), None),
            None => (None, Some(Past::of_state(state))),
        };
        let limit = first_pending.unwrap_or(EventTime::MAX);
        let next_change =
            past.zip(mark.cursor())
                .zip(mark.stage())
                .and_then(|((past, cursor), stage)| {
                    past.next_stage_change(
                        stage,
                        cursor,
                        limit,
                        config,
                        &mut Reactivated::default(),
                    )
                });
        first_pending.into_iter().chain(next_change).min()
    }

    /// Every instant up to here is decided: the profile state must not be pruned past it
    /// (`ProfileState::prune`), as the timeline reads it from here on. `None` before the
    /// first decision.
    pub fn cursor(&self) -> Option<EventTime> {
        self.decided.mark.cursor()
    }

    /// Decides every instant up to `to`, in time order, and hands each alert to `out`.
    /// `state` is the user's profile state with every recorded event applied. A `to` at or
    /// before the cursor decides nothing new.
    pub fn advance(
        &mut self,
        state: &ProfileState,
        user_id: &str,
        to: EventTime,
        config: &SignalConfig,
        rules: &AlertRules,
        out: impl FnMut(Alert),
    ) {
        let mut decide = Decide {
            user_id,
            config,
            rules,
            out,
            reactivated: Reactivated::default(),
        };
        let StageTimeline { decided, apart } = self;
        let in_state = Past::of_state(state);
        let rechecked = decided.mark.take_recheck();
        if rechecked {
            let cursor = decided
                .mark
                .cursor()
                .expect("only an event before the cursor sets recheck");
            let past = match apart {
                Some(apart) => apart.history.as_ref().map(History::past),
                None => Some(in_state),
            };
            decided.settle(
                past.expect("a late event is in the history"),
                cursor,
                None,
                &mut decide,
            );
        }
        let mut events_taken = rechecked;
        if decided.mark.cursor().is_none_or(|cursor| to > cursor) {
            match apart {
                Some(apart) => events_taken |= apart.advance(decided, to, &mut decide),
                None if decided.mark.first_pending() => {
                    let first = Pending::only_event_of(state);
                    if first.ts <= to {
                        // The state holds this one event: it is the history as of it.
                        decided.mark.set_first_pending(false);
                        decided.decide_instant(in_state, &[first], None, &mut decide);
                        decided.run_ticks(in_state, to, &mut decide);
                    }
                }
                None => decided.run_ticks(in_state, to, &mut decide),
            }
            decided.mark.set_cursor(to);
        }
        if !events_taken && apart.as_ref().is_some_and(|apart| apart.idle_copy()) {
            *apart = None;
        }
    }
}

impl Apart {
    /// [`StageTimeline::advance`] of a timeline with a history of its own. Returns whether it
    /// decided any event.
    fn advance<F: FnMut(Alert)>(
        &mut self,
        decided: &mut Decided,
        to: EventTime,
        decide: &mut Decide<'_, F>,
    ) -> bool {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by_key(|p| p.ts);
        let due = pending.partition_point(|p| p.ts <= to);
        for instant in pending[..due].chunk_by(|a, b| a.ts == b.ts) {
            let ts = instant[0].ts;
            if let Some(history) = &self.history {
                decided.run_ticks(
                    history.past(),
                    EventTime::from_millis(ts.millis() - 1),
                    decide,
                );
            }
            let history = self.history.get_or_insert_with(|| History::new(ts));
            let previous_active = history.last_active.get();
            for event in instant {
                history.apply(event.ts, event.class);
            }
            decided.decide_instant(history.past(), instant, previous_active, decide);
        }
        if let Some(history) = &mut self.history {
            decided.run_ticks(history.past(), to, decide);
            history.days.prune(to, decide.config.reactivation_gap_days);
        }
        pending.drain(..due);
        if pending.is_empty() {
            // Freed rather than kept for the next events: the buffer grows to a user's busiest
            // stretch between two decisions, and kept, that would be every user's for good.
            pending = Vec::new();
        }
        self.pending = pending;
        due > 0
    }
}

impl Decided {
    /// Moves the cursor to the events of one instant, applied to `past`, and settles it
    /// unless they cannot move the stage. `previous_active` is `last_active` before them.
    fn decide_instant<F: FnMut(Alert)>(
        &mut self,
        past: Past<'_>,
        instant: &[Pending],
        previous_active: Option<EventTime>,
        decide: &mut Decide<'_, F>,
    ) {
        let at = instant[0].ts;
        self.mark.set_cursor(at);
        let settled = (self.mark.stage(), self.mark.activated());
        if !past.unmoved_by(settled, instant, at, previous_active, decide.config) {
            decide.reactivated.forget();
            self.settle(past, at, previous_active, decide);
        }
    }

    /// Decides the changes time alone makes to `past` after the cursor, up to `limit`.
    fn run_ticks<F: FnMut(Alert)>(
        &mut self,
        past: Past<'_>,
        limit: EventTime,
        decide: &mut Decide<'_, F>,
    ) {
        while let Some(at) =
            self.mark
                .cursor()
                .zip(self.mark.stage())
                .and_then(|(cursor, stage)| {
                    past.next_stage_change(
                        stage,
                        cursor,
                        limit,
                        decide.config,
                        &mut decide.reactivated,
                    )
                })
        {
            self.mark.set_cursor(at);
            self.settle(past, at, None, decide);
        }
    }

    /// Evaluates `stage(at)` from `past`, every event up to `at` applied, and raises what
    /// changed: a stage alert if the stage moved, the activation alert once enough messages
    /// are in. `previous_active` is `last_active` before the events at `at`, when they
    /// triggered this (it words a comeback's reason).
    fn settle<F: FnMut(Alert)>(
        &mut self,
        past: Past<'_>,
        at: EventTime,
        previous_active: Option<EventTime>,
        decide: &mut Decide<'_, F>,
    ) {
        let lifecycle = past.lifecycle;
        let reactivated_at = decide.reactivated.get(past, decide.config);
        let signals = lifecycle.signals(at, reactivated_at, decide.config);
        let before = self.mark.replace_stage(signals.stage);
        let entered = (before != Some(signals.stage))
            .then(|| AlertKind::entering(signals.stage))
            .flatten();
        let activated = !self.mark.activated()
            && past.messages_sent >= u64::from(decide.config.activation_messages);
        if activated {
            self.mark.set_activated();
        }
        let raised = [entered, activated.then_some(AlertKind::Activated)];
        for kind in raised.into_iter().flatten() {
            let fired = self
                .fired
                .get_or_insert_with(|| Box::new([MaybeTime::NONE; TIMELINE_KINDS]));
            let last = &mut fired[kind as usize];
            let cooldown = decide.rules.cooldown_ms();
            if last
                .get()
                .is_some_and(|last| at.millis() - last.millis() < cooldown)
            {
                continue;
            }
            *last = Some(at).into();
            let context = Context {
                kind,
                at,
                signals: &signals,
                thresholds: &decide.config.lifecycle,
                last_active: lifecycle.last_active,
                previous_active,
                last_churn: lifecycle.last_churn,
                first_seen: lifecycle.first_seen,
                messages_sent: past.messages_sent,
            };
            (decide.out)(Alert {
                user_id: decide.user_id.to_owned(),
                kind,
                at,
                stage_before: before,
                stage_after: signals.stage,
                reason: reason(&context),
                snapshot: AlertSnapshot {
                    days_inactive: signals.days_inactive,
                    events_7d: signals.events_7d,
                    events_prev_28d: signals.events_prev_28d,
                    frequency_drop: signals.frequency_drop,
                    churn_risk: signals.churn_risk,
                    hard_churned: signals.hard_churned,
                    messages_sent: past.messages_sent,
                    last_active_at: lifecycle.last_active.map(seconds),
                },
                segments: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::LifecycleStage;
    use crate::testing::{at, view, Followed};

    #[test]
    fn a_timeline_keeps_a_history_of_its_own_only_while_the_user_is_active() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        assert_eq!(size_of::<StageTimeline>(), 24);
        let mut user = Followed::default();
        user.record(&view(at(100, 8)));
        let first_pending = |user: &Followed| user.timeline.decided.mark.first_pending();
        assert!(first_pending(&user) && user.timeline.apart.is_none());
        user.advance(at(100, 7), &config, &rules, |_| {});
        assert!(first_pending(&user), "not decided yet");
        user.advance(at(100, 9), &config, &rules, |_| {});
        assert!(!first_pending(&user));
        assert_eq!(user.timeline.apart, None);
        assert_eq!(user.timeline.decided.fired, None);

        user.record(&view(at(101, 8)));
        let Some(apart) = &user.timeline.apart else {
            panic!("a pending event: {:?}", user.timeline);
        };
        assert_eq!(
            apart.history.as_ref().map(|h| h.last_active.get()),
            Some(Some(at(100, 8)))
        );
        user.advance(at(101, 7), &config, &rules, |_| {});
        assert!(user.timeline.apart.is_some(), "still pending");
        user.advance(at(101, 9), &config, &rules, |_| {});
        let idle = |user: &Followed| user.timeline.apart.as_ref().map(|apart| apart.idle_copy());
        assert_eq!(idle(&user), Some(true), "kept through an active stretch");
        assert_eq!(user.next_due(&config), Some(at(101, 9)));
        user.advance(at(101, 10), &config, &rules, |_| {});
        assert_eq!(idle(&user), None, "dropped once idle");
    }

    #[test]
    fn a_timeline_begun_after_its_state_decides_from_the_events_it_sees() {
        let (config, rules) = (SignalConfig::default(), AlertRules::default());
        // Stored before alerts were on: days 0 to 5. The timeline sees a view 95 days later
        // as the user's first event (`new`, no comeback), as it always did, and keeps its
        // own history from then on.
        let old: Vec<_> = (0..6).map(|day| view(at(day, 8))).collect();
        let mut user = Followed::begun_after(&old);
        let mut alerts = Vec::new();
        user.record(&view(at(100, 8)));
        user.advance(at(100, 9), &config, &rules, |a| alerts.push(a));
        assert!(alerts.is_empty(), "{alerts:?}");
        let Some(apart) = &user.timeline.apart else {
            panic!("a history of its own: {:?}", user.timeline);
        };
        assert!(!apart.follows_state && apart.pending.is_empty());
        assert_eq!(
            apart.history.as_ref().map(|h| h.first_seen),
            Some(at(100, 8))
        );
        assert_eq!(
            user.timeline.decided.mark.stage(),
            Some(LifecycleStage::New)
        );
    }
}
