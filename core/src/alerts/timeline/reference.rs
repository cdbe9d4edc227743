//! The timeline's decisions the straightforward way, as first written: every event instant
//! settled with the full signals, each candidate instant of a change time alone makes
//! evaluated from scratch (`reactivated_at` too: it is forgotten before every instant
//! settled), and the history always an owned copy (the state's copied where the timeline
//! reads the state), kept or dropped afterwards by the same rule. The tests hold the fast paths of `advance` and `next_due` to it: the same
//! alerts, the same next due time, the same stored timeline. A copy of the walk on purpose: an
//! oracle that shared the fast paths' code would share their mistakes.

use super::history::{History, Past};
use super::{Decide, Decided, Reactivated, StageTimeline};
use crate::alerts::{Alert, AlertRules};
use crate::signals::churn::{PREVIOUS_WINDOW_END, RECENT_WINDOW};
use crate::signals::{LifecycleStage, SignalConfig};
use crate::state::ProfileState;
use crate::time::{Day, EventTime, MILLIS_PER_DAY};

impl StageTimeline {
    /// [`StageTimeline::advance`], settling every instant in full.
    pub(crate) fn advance_reference(
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
        let had_copy = self.apart.is_some();
        let mut history = self.own_history(state);
        let mut first = None;
        let (_, pending, follows_state) = self.parts(state, &mut first);
        let mut pending = pending.to_vec();
        let decided = &mut self.decided;
        let rechecked = decided.mark.take_recheck();
        if rechecked {
            let cursor = decided
                .mark
                .cursor()
                .expect("only an event before the cursor sets recheck");
            let history = history.as_ref().expect("a late event is in the history");
            decide.reactivated.forget();
            decided.settle(history.past(), cursor, None, &mut decide);
        }
        if decided.mark.cursor().is_some_and(|cursor| to <= cursor) {
            let parts = (history, pending, follows_state);
            self.set_parts(parts, had_copy && rechecked, state);
            return;
        }
        pending.sort_unstable_by_key(|p| p.ts);
        let due = pending.partition_point(|p| p.ts <= to);
        for instant in pending[..due].chunk_by(|a, b| a.ts == b.ts) {
            let ts = instant[0].ts;
            if let Some(history) = &history {
                decided.run_ticks_reference(
                    history.past(),
                    EventTime::from_millis(ts.millis() - 1),
                    &mut decide,
                );
            }
            let history = history.get_or_insert_with(|| History::new(ts));
            let previous_active = history.last_active.get();
            for event in instant {
                history.apply(event.ts, event.class);
            }
            decided.mark.set_cursor(ts);
            decide.reactivated.forget();
            decided.settle(history.past(), ts, previous_active, &mut decide);
        }
        if let Some(history) = &mut history {
            decided.run_ticks_reference(history.past(), to, &mut decide);
            history.days.prune(to, config.reactivation_gap_days);
        }
        pending.drain(..due);
        decided.mark.set_cursor(to);
        let events_taken = rechecked || due > 0;
        let parts = (history, pending, follows_state);
        self.set_parts(parts, had_copy && events_taken, state);
    }

    /// [`StageTimeline::next_due`], with the reference search.
    pub(crate) fn next_due_reference(
        &self,
        state: &ProfileState,
        config: &SignalConfig,
    ) -> Option<EventTime> {
        let mark = self.decided.mark;
        if mark.recheck() || self.apart.as_ref().is_some_and(|apart| apart.idle_copy()) {
            return mark.cursor();
        }
        let history = self.own_history(state);
        let mut first = None;
        let (_, pending, _) = self.parts(state, &mut first);
        let first_pending = pending.iter().map(|p| p.ts).min();
        let next_change = history
            .as_ref()
            .zip(mark.cursor())
            .zip(mark.stage())
            .and_then(|((history, cursor), stage)| {
                history.past().next_stage_change_reference(
                    stage,
                    cursor,
                    first_pending.unwrap_or(EventTime::MAX),
                    config,
                )
            });
        first_pending.into_iter().chain(next_change).min()
    }

    /// The history as of the cursor as an owned copy: the timeline's own, or the state's once
    /// an instant is settled.
    fn own_history(&self, state: &ProfileState) -> Option<History> {
        match &self.apart {
            Some(apart) => apart.history.clone(),
            None => self
                .decided
                .mark
                .stage()
                .map(|_| History::of(Past::of_state(state))),
        }
    }
}

impl Decided {
    fn run_ticks_reference<F: FnMut(Alert)>(
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
                    past.next_stage_change_reference(stage, cursor, limit, decide.config)
                })
        {
            self.mark.set_cursor(at);
            decide.reactivated.forget();
            self.settle(past, at, None, decide);
        }
    }
}

impl Past<'_> {
    /// Every candidate instant in `(after, limit]`, collected and sorted, each evaluated with
    /// the full signals until the stage differs from `stage`.
    fn next_stage_change_reference(
        self,
        stage: LifecycleStage,
        after: EventTime,
        limit: EventTime,
        config: &SignalConfig,
    ) -> Option<EventTime> {
        let t = &config.lifecycle;
        let lifecycle = self.lifecycle;
        let since = lifecycle.inactive_since().millis();
        let thresholds = [t.at_risk_days, t.dormant_days, t.churned_days]
            .map(|days| EventTime::from_millis(since + i64::from(days) * MILLIS_PER_DAY));
        let reactivated_at = lifecycle.reactivated_at(config);
        let window_edges = lifecycle.days.active_days().flat_map(|d| {
            [RECENT_WINDOW, PREVIOUS_WINDOW_END].map(|window| d.day.plus(window).start())
        });
        let expiries = [
            reactivated_at.map(EventTime::day),
            Some(lifecycle.first_seen.day()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|day| i32::try_from(i64::from(day.get()) + i64::from(t.recent_days)).ok())
        .map(|day| Day::new(day).start());
        let mut candidates: Vec<EventTime> = thresholds
            .into_iter()
            .chain(window_edges)
            .chain(expiries)
            .filter(|&at| after < at && at <= limit)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .find(|&at| lifecycle.signals(at, reactivated_at, config).stage != stage)
    }
}
