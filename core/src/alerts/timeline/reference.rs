//! The timeline's decisions the straightforward way, as first written: every event instant
//! settled with the full signals, and each candidate instant of a change time alone makes
//! evaluated from scratch (`reactivated_at` too: it is forgotten before every instant
//! settled). The tests hold the fast paths of `advance` and `next_due` to it: the same alerts,
//! the same next due time, the same stored timeline. A copy of the walk on purpose: an oracle
//! that shared the fast paths' code would share their mistakes.

use super::{Decide, History, Reactivated, StageTimeline};
use crate::alerts::{Alert, AlertRules};
use crate::signals::churn::{PREVIOUS_WINDOW_END, RECENT_WINDOW};
use crate::signals::SignalConfig;
use crate::time::{Day, EventTime, MILLIS_PER_DAY};

impl StageTimeline {
    /// [`StageTimeline::advance`], settling every instant in full.
    pub(crate) fn advance_reference(
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
            decide.reactivated.forget();
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
            self.run_ticks_reference(EventTime::from_millis(ts.millis() - 1), &mut decide);
            let history = self.history.get_or_insert_with(|| History::new(ts));
            let previous_active = history.last_active.get();
            for event in instant {
                history.apply(event.ts, event.class);
            }
            self.cursor = Some(ts).into();
            decide.reactivated.forget();
            self.settle(ts, previous_active, &mut decide);
        }
        self.run_ticks_reference(to, &mut decide);
        pending.drain(..due);
        self.pending = pending;
        self.cursor = Some(to).into();
        if let Some(history) = &mut self.history {
            history.days.prune(to, config.reactivation_gap_days);
        }
    }

    /// [`StageTimeline::next_due`], with the reference search.
    pub(crate) fn next_due_reference(&self, config: &SignalConfig) -> Option<EventTime> {
        if self.recheck {
            return self.cursor.get();
        }
        let first_pending = self.pending.iter().map(|p| p.ts).min();
        let next_change = self
            .history
            .as_ref()
            .zip(self.cursor.get())
            .and_then(|(h, cursor)| {
                h.next_stage_change_reference(
                    cursor,
                    first_pending.unwrap_or(EventTime::MAX),
                    config,
                )
            });
        first_pending.into_iter().chain(next_change).min()
    }

    fn run_ticks_reference<F: FnMut(Alert)>(
        &mut self,
        limit: EventTime,
        decide: &mut Decide<'_, F>,
    ) {
        while let Some(at) =
            self.history
                .as_ref()
                .zip(self.cursor.get())
                .and_then(|(history, cursor)| {
                    history.next_stage_change_reference(cursor, limit, decide.config)
                })
        {
            self.cursor = Some(at).into();
            decide.reactivated.forget();
            self.settle(at, None, decide);
        }
    }
}

impl History {
    /// Every candidate instant in `(after, limit]`, collected and sorted, each evaluated with
    /// the full signals until the stage differs.
    fn next_stage_change_reference(
        &self,
        after: EventTime,
        limit: EventTime,
        config: &SignalConfig,
    ) -> Option<EventTime> {
        let stage = self.stage?;
        let t = &config.lifecycle;
        let since = self.lifecycle().inactive_since().millis();
        let thresholds = [t.at_risk_days, t.dormant_days, t.churned_days]
            .map(|days| EventTime::from_millis(since + i64::from(days) * MILLIS_PER_DAY));
        let reactivated_at = self.lifecycle().reactivated_at(config);
        let window_edges = self.days.active_days().flat_map(|d| {
            [RECENT_WINDOW, PREVIOUS_WINDOW_END].map(|window| d.day.plus(window).start())
        });
        let expiries = [
            reactivated_at.map(EventTime::day),
            Some(self.first_seen.day()),
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
            .find(|&at| self.lifecycle().signals(at, reactivated_at, config).stage != stage)
    }
}
