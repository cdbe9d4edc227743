//! The alert half of `portrait verify`: `profile_alerts_unique` read back as the generator's
//! [`ExpectedAlert`]s (who, what, when, from which stage to which). The generator knows the
//! stage and activation alerts only: those of segments, which depend on the configuration
//! (docs/segments.md), are left out.

use portrait_core::alerts::AlertKind;
use portrait_generator::ExpectedAlert;
use serde::Deserialize;

use super::store::Store;

#[derive(Debug, clickhouse::Row, Deserialize)]
struct Row {
    user_id: String,
    kind: String,
    transition_at_ms: i64,
    stage_before: Option<String>,
    stage_after: String,
}

/// Every stage and activation alert in `profile_alerts_unique`, sorted as the expected alerts
/// are.
pub(super) async fn read_unique(store: &Store) -> anyhow::Result<Vec<ExpectedAlert>> {
    let rows: Vec<Row> = store.rows("profile_alerts_unique", "alert_id").await?;
    let mut alerts: Vec<ExpectedAlert> = rows
        .into_iter()
        .filter(|row| row.kind != AlertKind::SegmentEntered.as_str())
        .map(|row| ExpectedAlert {
            user_id: row.user_id,
            kind: row.kind,
            at_ms: row.transition_at_ms,
            stage_before: row.stage_before,
            stage_after: row.stage_after,
        })
        .collect();
    alerts.sort();
    Ok(alerts)
}
