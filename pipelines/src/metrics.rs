//! The engine's Prometheus metrics, published once per flush.
//!
//! The hot path counts in plain integers ([`RunSummary`]); handing them to the `metrics` facade
//! in bulk at flush keeps label lookups off the per-event path. Whoever installs a recorder (the
//! `portrait` binary's `/metrics` listener) sees them; without one, publishing is a no-op.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use portrait_core::event::EventType;
use portrait_core::time::EventTime;

use crate::RunSummary;

/// Publishes the running totals of `summary` and the facts of the flush that just ended.
pub fn publish(summary: &RunSummary, users: usize, watermark: Option<EventTime>, took: Duration) {
    for (event_type, count) in EventType::ALL.iter().zip(summary.events_by_type) {
        counter!("portrait_events_total", "type" => event_type.as_str()).absolute(count);
    }
    for (&reason, &count) in &summary.dead_letters {
        counter!("portrait_dead_letters_total", "reason" => reason).absolute(count);
    }
    for (&kind, &count) in &summary.alerts {
        counter!("portrait_alerts_total", "kind" => kind).absolute(count);
    }
    counter!("portrait_alert_late_events_total").absolute(summary.late_for_alerts);
    counter!("portrait_forgotten_messages_total").absolute(summary.forgotten);
    counter!("portrait_profiles_written_total").absolute(summary.profiles_written);
    counter!("portrait_flushes_total").absolute(summary.flushes);
    counter!("portrait_swept_users_total").absolute(summary.swept as u64);
    gauge!("portrait_users").set(users as f64);
    if let Some(watermark) = watermark {
        gauge!("portrait_watermark_seconds").set(watermark.millis() as f64 / 1000.0);
    }
    histogram!("portrait_flush_duration_seconds").record(took.as_secs_f64());
}
