//! An alert for the sink tests, whose id core pins (computed independently with Python's
//! hashlib): the tests that write it somewhere can check the id they read back.

use portrait_core::alerts::{Alert, AlertKind, AlertSnapshot};
use portrait_core::signals::LifecycleStage;
use portrait_core::time::EventTime;

/// 2026-01-01T00:00:00Z, in epoch milliseconds.
pub const NEW_YEAR_MS: i64 = 1_767_225_600_000;

/// `dormant()`'s id.
pub const DORMANT_ID: &str = "d424017bf689b2a99ff9844d5d956d45";

/// User u000042 turning dormant at [`NEW_YEAR_MS`].
pub fn dormant() -> Alert {
    Alert {
        user_id: "u000042".to_owned(),
        kind: AlertKind::Dormant,
        at: EventTime::from_millis(NEW_YEAR_MS),
        stage_before: Some(LifecycleStage::AtRisk),
        stage_after: LifecycleStage::Dormant,
        reason: "no activity for 30 days (last active 2025-12-02)".to_owned(),
        snapshot: AlertSnapshot {
            days_inactive: 30,
            events_7d: 0,
            events_prev_28d: 12,
            frequency_drop: 0.75,
            churn_risk: 0.8,
            hard_churned: false,
            messages_sent: 3,
            last_active_at: Some(1_764_633_600),
        },
        segments: Vec::new(),
    }
}
