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
//! The timeline keeps its own copy of the fields the stage reads (as of the cursor), apart
//! from the profile's state (as of every event applied): the profile runs up to the lateness
//! ahead of the alerts. Events are applied to it in time order, which is what makes the
//! `reactivated` comeback and the activation instant simple to see.
//!
//! Deciding is most of the alerts' cost, so it avoids the full signals where it can prove
//! them idle, with exactly the same outcome (the tests hold it to the straightforward
//! version, `timeline/reference.rs`): an instant whose events cannot move the stage (a second
//! event on an active day, [`History::unmoved_by`]) is not settled; the search for the next
//! change time alone makes slides the windows over the day log instead of summing them at
//! each candidate midnight ([`crate::state::lifecycle::StageSweep`]); and `reactivated_at`
//! is computed once per run of instants that cannot change it ([`Reactivated`]).

use super::reason::{reason, Context};
use super::{Alert, AlertKind, AlertRules, AlertSnapshot};
use crate::event::{Direction, Event, EventKind};
use crate::profile::seconds;
use crate::signals::activity::is_user_initiated;
use crate::signals::churn::is_hard_churn;
use crate::signals::{LifecycleStage, SignalConfig};
use crate::state::codec::{invalid, Reader, StateDecodeError, Writer};
use crate::state::days::DayLog;
use crate::state::lifecycle::Lifecycle;
use crate::state::maybe_time::MaybeTime;
use crate::time::{Day, EventTime, MILLIS_PER_DAY};

#[cfg(test)]
mod reference;

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

/// The user's history as of the cursor: the fields the stage reads.
#[derive(Debug, Clone, PartialEq)]
struct History {
    first_seen: EventTime,
    last_active: MaybeTime,
    last_churn: MaybeTime,
    days: DayLog,
    messages_sent: u64,
    /// `stage(cursor)`; `None` until the first instant is settled.
    stage: Option<LifecycleStage>,
    /// Whether the activation alert's instant has been decided.
    activated: bool,
}

impl History {
    fn new(ts: EventTime) -> Self {
        History {
            first_seen: ts,
            last_active: MaybeTime::NONE,
            last_churn: MaybeTime::NONE,
            days: DayLog::default(),
            messages_sent: 0,
            stage: None,
            activated: false,
        }
    }

    fn apply(&mut self, ts: EventTime, class: Class) {
        self.first_seen = self.first_seen.min(ts);
        match class {
            Class::Seen => {}
            Class::Active | Class::Message => {
                self.last_active.keep_latest(ts);
                self.days.record_active(ts);
                if class == Class::Message {
                    self.messages_sent += 1;
                }
            }
            Class::Churn => {
                self.last_churn.keep_latest(ts);
                self.days.record_churn(ts);
            }
        }
    }

    fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            first_seen: self.first_seen,
            last_active: self.last_active.get(),
            last_churn: self.last_churn.get(),
            days: &self.days,
        }
    }

    /// The first instant in `(after, limit]` at which time alone changes the stage.
    fn next_stage_change(
        &self,
        after: EventTime,
        limit: EventTime,
        config: &SignalConfig,
        reactivated: &mut Reactivated,
    ) -> Option<EventTime> {
        let stage = self.stage?;
        let t = &config.lifecycle;
        let since = self.lifecycle().inactive_since().millis();
        let thresholds = [t.at_risk_days, t.dormant_days, t.churned_days]
            .map(|days| EventTime::from_millis(since + i64::from(days) * MILLIS_PER_DAY));
        // Within a day nothing but a threshold can change the stage: most calls (between two
        // events of one day) end here, without allocating.
        let earliest = thresholds
            .into_iter()
            .filter(|&at| at > after)
            .fold(after.day().plus(1).start(), EventTime::min);
        if earliest > limit {
            return None;
        }

        // The other candidates: the midnights where a window edge passes an active day, and
        // where `reactivated` or `new` expire. The stage is evaluated at each, in time order,
        // until it differs: the thresholds and expiries, sorted here, merged with the window
        // edges the sweep finds as it slides the windows along.
        let lifecycle = self.lifecycle();
        let reactivated_at = reactivated.get(self, config);
        let expiries = [
            reactivated_at.map(EventTime::day),
            Some(self.first_seen.day()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|day| i32::try_from(i64::from(day.get()) + i64::from(t.recent_days)).ok())
        .map(|day| Day::new(day).start());
        let mut fixed = [EventTime::MAX; 5];
        let mut len = 0;
        for at in thresholds.into_iter().chain(expiries) {
            fixed[len] = at;
            len += 1;
        }
        fixed[..len].sort_unstable();
        let mut fixed = fixed[..len]
            .iter()
            .copied()
            .skip_while(|&at| at <= after)
            .peekable();
        let mut sweep = lifecycle.stage_sweep(after, reactivated_at);
        loop {
            let at = fixed
                .peek()
                .copied()
                .into_iter()
                .chain(sweep.next_window_edge())
                .min()
                .filter(|&at| at <= limit)?;
            while fixed.next_if_eq(&at).is_some() {}
            // Past the window edge too, if `at` is one: the sweep moves to `at`'s day.
            if sweep.stage(at, config) != stage {
                return Some(at);
            }
        }
    }

    /// Whether the events of one instant `at`, just applied, leave `stage(at)` as the last
    /// settled instant had it and raise nothing, so that [`StageTimeline::settle`] can be
    /// skipped. `previous_active` is `last_active` before them. Two cases are certain without
    /// computing the signals:
    ///
    /// - A user-initiated event on a day that already had one, in `reactivated`, `new` or
    ///   `active`. The stage was decided earlier on this day (at the day's first
    ///   user-initiated instant, which is never skipped, or later), so with the same day:
    ///   `days_inactive` was and is 0, the user was and is not hard-churned (no churn comes
    ///   after the new event), the comeback scan gives the same `reactivated_at` (the day's
    ///   first event, which opens any comeback, is unchanged), `first_seen` is the same, and
    ///   `events_7d` only grew, which lowers `frequency_drop`: no rule above the stage can
    ///   start to match, and the rules below read what they read before.
    /// - Hard-churn events and nothing user-initiated, in `churned`: the user is hard-churned
    ///   (the churn is after every activity) and stays `churned`.
    ///
    /// Unless the activation alert is due, which needs the signals for its snapshot.
    fn unmoved_by(
        &self,
        instant: &[Pending],
        at: EventTime,
        previous_active: Option<EventTime>,
        config: &SignalConfig,
    ) -> bool {
        if !self.activated && self.messages_sent >= u64::from(config.activation_messages) {
            return false;
        }
        let has = |wanted: &[Class]| instant.iter().any(|p| wanted.contains(&p.class));
        if has(&[Class::Active, Class::Message]) {
            previous_active.is_some_and(|previous| previous.day() == at.day())
                && matches!(
                    self.stage,
                    Some(
                        LifecycleStage::Reactivated | LifecycleStage::New | LifecycleStage::Active
                    )
                )
        } else {
            has(&[Class::Churn]) && self.stage == Some(LifecycleStage::Churned)
        }
    }
}

/// One user's stage in event time, decided up to a cursor, and the alerts it raised.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StageTimeline {
    /// The events up to the cursor; `None` until the first one is decided.
    history: Option<History>,
    /// Events after the cursor, in arrival order. A `Vec` rather than a `ThinVec` (16 bytes
    /// less): every event is pushed here, and a `ThinVec` reads its length from the heap, a
    /// cache miss per event that took 4.6% of a replay's CPU.
    pending: Vec<Pending>,
    /// Every instant up to this one is decided.
    cursor: MaybeTime,
    /// An event arrived at or before the cursor: `stage(cursor)` must be looked at again.
    recheck: bool,
    /// When each kind last fired (by `AlertKind` index), for the cooldown.
    fired: [MaybeTime; AlertKind::ALL.len()],
}

/// What [`StageTimeline::advance`] decides with, and where its alerts go.
struct Decide<'a, F> {
    user_id: &'a str,
    config: &'a SignalConfig,
    rules: &'a AlertRules,
    out: F,
    reactivated: Reactivated,
}

/// `reactivated_at` of the history as it stands, once computed, kept between the instants of
/// one [`StageTimeline::advance`]: the comeback scan is the dearest part of the signals. It
/// holds across the changes time alone makes (no event is applied) and across the instants
/// [`History::unmoved_by`] passes (their events leave it as it was); `advance` forgets it
/// before settling any other instant, and starts each call without it (late events are taken
/// in between calls).
#[derive(Debug, Default)]
struct Reactivated(Option<Option<EventTime>>);

impl Reactivated {
    fn get(&mut self, history: &History, config: &SignalConfig) -> Option<EventTime> {
        *self
            .0
            .get_or_insert_with(|| history.lifecycle().reactivated_at(config))
    }

    /// The history changed in a way that may move it.
    fn forget(&mut self) {
        self.0 = None;
    }
}

impl StageTimeline {
    /// Takes in one event. Returns `false` if the event is too late for the alerts: its time
    /// is at or before the cursor, whose transitions are decided already. It still counts
    /// from then on, and a change it makes is raised at the cursor by the next `advance`.
    pub fn record(&mut self, event: &Event<'_>) -> bool {
        let (ts, class) = (event.ts, Class::of(&event.kind));
        if self.cursor.get().is_some_and(|cursor| ts <= cursor) {
            self.history
                .get_or_insert_with(|| History::new(ts))
                .apply(ts, class);
            self.recheck = true;
            return false;
        }
        // Once the user exists, an event that is neither activity nor churn cannot move the
        // stage: `first_seen` is earlier already.
        if class != Class::Seen || self.history.is_none() {
            self.pending.push(Pending { ts, class });
        }
        true
    }

    /// The earliest decision point at which [`StageTimeline::advance`] has something to do:
    /// an event to decide, a change time alone makes, or a late event to look at.
    pub fn next_due(&self, config: &SignalConfig) -> Option<EventTime> {
        if self.recheck {
            return self.cursor.get();
        }
        let first_pending = self.pending.iter().map(|p| p.ts).min();
        let next_change = self
            .history
            .as_ref()
            .zip(self.cursor.get())
            .and_then(|(h, cursor)| {
                let limit = first_pending.unwrap_or(EventTime::MAX);
                h.next_stage_change(cursor, limit, config, &mut Reactivated::default())
            });
        first_pending.into_iter().chain(next_change).min()
    }

    /// Decides every instant up to `to`, in time order, and hands each alert to `out`.
    /// A `to` at or before the cursor decides nothing new.
    pub fn advance(
        &mut self,
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
        if std::mem::take(&mut self.recheck) {
            let cursor = self
                .cursor
                .get()
                .expect("only an event before the cursor sets recheck");
            self.settle(cursor, None, &mut decide);
        }
        if self.cursor.get().is_some_and(|cursor| to <= cursor) {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_unstable_by_key(|p| p.ts);
        let due = pending.partition_point(|p| p.ts <= to);
        for instant in pending[..due].chunk_by(|a, b| a.ts == b.ts) {
            let ts = instant[0].ts;
            self.run_ticks(EventTime::from_millis(ts.millis() - 1), &mut decide);
            let history = self.history.get_or_insert_with(|| History::new(ts));
            let previous_active = history.last_active.get();
            for event in instant {
                history.apply(event.ts, event.class);
            }
            self.cursor = Some(ts).into();
            if !history.unmoved_by(instant, ts, previous_active, config) {
                decide.reactivated.forget();
                self.settle(ts, previous_active, &mut decide);
            }
        }
        self.run_ticks(to, &mut decide);
        pending.drain(..due);
        if pending.is_empty() {
            // Freed rather than kept for the next events: the buffer grows to a user's busiest
            // stretch between two decisions, and kept, that would be every user's for good.
            pending = Vec::new();
        }
        self.pending = pending;
        self.cursor = Some(to).into();
        if let Some(history) = &mut self.history {
            history.days.prune(to, config.reactivation_gap_days);
        }
    }

    /// Decides the changes time alone makes after the cursor, up to `limit`.
    fn run_ticks<F: FnMut(Alert)>(&mut self, limit: EventTime, decide: &mut Decide<'_, F>) {
        while let Some(at) =
            self.history
                .as_ref()
                .zip(self.cursor.get())
                .and_then(|(history, cursor)| {
                    history.next_stage_change(cursor, limit, decide.config, &mut decide.reactivated)
                })
        {
            self.cursor = Some(at).into();
            self.settle(at, None, decide);
        }
    }

    /// Evaluates `stage(at)` with every event up to `at` applied, and raises what changed: a
    /// stage alert if the stage moved, the activation alert once enough messages are in.
    /// `previous_active` is `last_active` before the events at `at`, when they triggered this
    /// (it words a comeback's reason).
    fn settle<F: FnMut(Alert)>(
        &mut self,
        at: EventTime,
        previous_active: Option<EventTime>,
        decide: &mut Decide<'_, F>,
    ) {
        let history = self.history.as_mut().expect("settled after an event");
        let reactivated_at = decide.reactivated.get(history, decide.config);
        let signals = history
            .lifecycle()
            .signals(at, reactivated_at, decide.config);
        let before = history.stage.replace(signals.stage);
        let entered = (before != Some(signals.stage))
            .then(|| AlertKind::entering(signals.stage))
            .flatten();
        let activated = !history.activated
            && history.messages_sent >= u64::from(decide.config.activation_messages);
        history.activated |= activated;
        let raised = [entered, activated.then_some(AlertKind::Activated)];
        for kind in raised.into_iter().flatten() {
            let last = &mut self.fired[kind as usize];
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
                last_active: history.last_active.get(),
                previous_active,
                last_churn: history.last_churn.get(),
                first_seen: history.first_seen,
                messages_sent: history.messages_sent,
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
                    messages_sent: history.messages_sent,
                    last_active_at: history.last_active.get().map(seconds),
                },
            });
        }
    }
}

/// The blob form, for `profile_state`: absolute times are zigzag varints, the history's times
/// distances from its `first_seen`, flags one bit each. `docs/state.md` has the layout.
impl StageTimeline {
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u8(u8::from(self.history.is_some())
            | u8::from(self.cursor.is_some()) << 1
            | u8::from(self.recheck) << 2);
        if let Some(cursor) = self.cursor.get() {
            w.signed(cursor.millis());
        }
        if let Some(history) = &self.history {
            history.encode(w);
        }
        w.varint(self.pending.len() as u128);
        for pending in &self.pending {
            w.signed(pending.ts.millis());
            w.u8(pending.class as u8);
        }
        let fired = self
            .fired
            .iter()
            .enumerate()
            .fold(0u8, |bits, (i, at)| bits | u8::from(at.is_some()) << i);
        w.u8(fired);
        for at in self.fired.iter().filter_map(|at| at.get()) {
            w.signed(at.millis());
        }
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, StateDecodeError> {
        let flags = r.u8("timeline flags")?;
        if flags >= 1 << 3 {
            return Err(invalid("timeline flags", "unknown flags set"));
        }
        let cursor = (flags & 2 != 0)
            .then(|| time(r, "timeline cursor"))
            .transpose()?;
        let history = (flags & 1 != 0).then(|| History::decode(r)).transpose()?;
        let count = r.count("timeline pending count")?;
        let mut pending = Vec::with_capacity(count);
        for _ in 0..count {
            let ts = time(r, "timeline pending time")?;
            let class = *Class::ALL
                .get(usize::from(r.u8("timeline pending class")?))
                .ok_or(invalid("timeline pending class", "unknown class"))?;
            pending.push(Pending { ts, class });
        }
        let bits = r.u8("timeline fired")?;
        if u32::from(bits) >= 1 << AlertKind::ALL.len() {
            return Err(invalid("timeline fired", "unknown kinds set"));
        }
        let mut fired = [MaybeTime::NONE; AlertKind::ALL.len()];
        for (i, at) in fired.iter_mut().enumerate() {
            if bits & 1 << i != 0 {
                *at = Some(time(r, "timeline fired time")?).into();
            }
        }
        Ok(StageTimeline {
            history,
            pending,
            cursor: cursor.into(),
            recheck: flags & 4 != 0,
            fired,
        })
    }
}

impl History {
    fn encode(&self, w: &mut Writer) {
        let base = self.first_seen;
        w.signed(base.millis());
        w.u8(u8::from(self.last_active.is_some())
            | u8::from(self.last_churn.is_some()) << 1
            | u8::from(self.activated) << 2);
        for ts in [self.last_active.get(), self.last_churn.get()]
            .into_iter()
            .flatten()
        {
            w.after(base, ts);
        }
        w.u8(self.stage.map_or(u8::MAX, |stage| stage as u8));
        w.varint(self.messages_sent.into());
        self.days.encode(base, w);
    }

    fn decode(r: &mut Reader) -> Result<Self, StateDecodeError> {
        let first_seen = time(r, "timeline first_seen")?;
        let flags = r.u8("timeline history flags")?;
        if flags >= 1 << 3 {
            return Err(invalid("timeline history flags", "unknown flags set"));
        }
        let mut optional = |bit: u8, field| {
            (flags & 1 << bit != 0)
                .then(|| r.after(first_seen, field))
                .transpose()
        };
        let last_active = optional(0, "timeline last_active")?;
        let last_churn = optional(1, "timeline last_churn")?;
        let stage = match r.u8("timeline stage")? {
            u8::MAX => None,
            code => Some(
                *LifecycleStage::ALL
                    .get(usize::from(code))
                    .ok_or(invalid("timeline stage", "unknown stage"))?,
            ),
        };
        Ok(History {
            first_seen,
            last_active: last_active.into(),
            last_churn: last_churn.into(),
            messages_sent: r.int("timeline messages_sent")?,
            days: DayLog::decode(first_seen, r)?,
            stage,
            activated: flags & 4 != 0,
        })
    }
}

/// An absolute time, checked to be an event time.
fn time(r: &mut Reader, field: &'static str) -> Result<EventTime, StateDecodeError> {
    EventTime::try_from_millis(r.signed(field)?)
        .map_err(|_| invalid(field, "outside the years 0000 to 9999"))
}
