-- Operator alerts (DESIGN.md "Alerts"): one row per alert the pipeline emitted, with its reason
-- and the signals behind it as of the transition. Dashboards and people read
-- profile_alerts_unique.
--
-- Alerts are at-least-once: a flush retried after a failed write, or a replay after a crash,
-- inserts the same alert again (same alert_id, same content, a later emitted_at). The sorting
-- key is exactly what alert_id hashes, (user_id, transition_at_ms, kind), so ReplacingMergeTree
-- collapses such repeats into one row, but only when parts merge (at an unknown time, possibly
-- never): readers go through FINAL (the view below), never assume one row per alert. Without a
-- version column the row kept is one of the repeats (normally the last inserted); they differ
-- in emitted_at only.
--
-- transition_at is the transition time in whole seconds, for date filters and display;
-- transition_at_ms keeps the milliseconds the alert_id was computed from. Monthly partitions
-- by transition time let old alerts be dropped a month at a time; a repeat has the same
-- transition time, so it always lands in the partition of the row it replaces.
-- stage_before is NULL when the transition happened at the user's first event; last_active_at
-- is NULL for a user never active. hard_churned is 0 or 1.
CREATE TABLE IF NOT EXISTS profile_alerts
(
    alert_id String,
    user_id String,
    kind String,
    transition_at DateTime('UTC'),
    transition_at_ms Int64,
    stage_before Nullable(String),
    stage_after String,
    reason String,
    days_inactive UInt32,
    events_7d UInt32,
    events_prev_28d UInt32,
    frequency_drop Float64,
    churn_risk Float64,
    hard_churned UInt8,
    messages_sent UInt64,
    last_active_at Nullable(DateTime('UTC')),
    emitted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(transition_at)
ORDER BY (user_id, transition_at_ms, kind);

-- Each alert once, exact even before any merge: FINAL collapses the repeats at read time.
-- Columns are listed, not `*`, so the view's shape is an explicit contract that a later ALTER
-- of the table cannot change behind its readers' backs.
CREATE VIEW IF NOT EXISTS profile_alerts_unique AS
SELECT
    alert_id,
    user_id,
    kind,
    transition_at,
    transition_at_ms,
    stage_before,
    stage_after,
    reason,
    days_inactive,
    events_7d,
    events_prev_28d,
    frequency_drop,
    churn_risk,
    hard_churned,
    messages_sent,
    last_active_at,
    emitted_at
FROM profile_alerts FINAL;
