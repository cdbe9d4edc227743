-- The analysts' database, pseudonymised (docs/security.md, "Pseudonymisation"): applied by
-- `portrait migrate` when `[clickhouse] analytics_database` is set, after the numbered
-- migrations and the CRM's database. Not a numbered migration: it lives in another database,
-- whose name it needs. `{database}` and `{analytics_database}` are replaced by the configured
-- names, back-quoted; nothing else is substituted.
--
-- A copy, as for the CRM (crm/user_profiles_current.sql says why a view cannot do on 18.16),
-- of each table the dashboards read, kept by materialized views that put the pseudonyms in
-- place of the ids: user_id is the user's `user_key`, hex(HMAC-SHA256(key, user_id)) computed
-- by the pipeline; events' event_id is its `event_key` (event ids may contain the user id);
-- an alert's alert_id, a plain SHA-256 of the user id, kind and time that anyone could
-- recompute from a guessed id, is rebuilt from the pseudonym, kind and time (MD5 is enough: it
-- only has to tell alerts apart). A row without a pseudonym (written before the key was set,
-- or by a pipeline without it) is not copied: nothing holding a real id reaches this database.
-- The tables keep their names, columns and keys, and the views theirs, so every dashboard
-- query runs here unchanged.
--
-- `migrate` skips this file once {analytics_database}.profile_alerts_unique exists (created
-- last); it runs it from the top otherwise, and every statement is re-runnable (the backfills
-- may repeat rows, which the ReplacingMergeTree keys collapse as in the main tables).
CREATE DATABASE IF NOT EXISTS {analytics_database};

-- Same engine and key as the main tables; their user_key (and event_key) columns hold the
-- same pseudonyms as user_id (and event_id) here.
CREATE TABLE IF NOT EXISTS {analytics_database}.user_profiles AS {database}.user_profiles;
CREATE TABLE IF NOT EXISTS {analytics_database}.events AS {database}.events;
CREATE TABLE IF NOT EXISTS {analytics_database}.profile_alerts AS {database}.profile_alerts;

-- Columns by name, never `*`: a column added to a main table later must not break the
-- pipeline's inserts by not fitting the copy.
CREATE MATERIALIZED VIEW IF NOT EXISTS {analytics_database}.user_profiles_feed
TO {analytics_database}.user_profiles
AS SELECT
    user_key AS user_id,
    first_seen_at,
    first_contact_at,
    last_active_at,
    page_views,
    searches,
    messages_sent,
    messages_received,
    orders,
    promo_orders,
    revenue,
    discount_total,
    active_days_30d,
    activated,
    activated_at,
    days_inactive,
    events_7d,
    events_prev_28d,
    frequency_drop,
    hard_churned,
    marketing_averse,
    reactivated_at,
    lifecycle_stage,
    churn_risk,
    promo_order_share,
    discount_share,
    promo_engagement,
    promo_tier,
    rfm_recency_days,
    rfm_r,
    rfm_f,
    rfm_m,
    rfm_segment,
    top_categories,
    purchasing_power,
    updated_at,
    version,
    user_key,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM {database}.user_profiles
WHERE user_key != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {analytics_database}.events_feed
TO {analytics_database}.events
AS SELECT
    event_key AS event_id,
    user_key AS user_id,
    type,
    ts,
    day,
    category,
    page,
    amount,
    topic,
    partition,
    offset,
    user_key,
    event_key
FROM {database}.events
WHERE user_key != '';

CREATE MATERIALIZED VIEW IF NOT EXISTS {analytics_database}.profile_alerts_feed
TO {analytics_database}.profile_alerts
AS SELECT
    lower(hex(MD5(concat(user_key, '/', kind, '/', toString(transition_at_ms))))) AS alert_id,
    user_key AS user_id,
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
    emitted_at,
    user_key
FROM {database}.profile_alerts
WHERE user_key != '';

-- The rows written before the feeds existed (after them, so none written in between is missed).
INSERT INTO {analytics_database}.user_profiles
SELECT
    user_key AS user_id,
    first_seen_at,
    first_contact_at,
    last_active_at,
    page_views,
    searches,
    messages_sent,
    messages_received,
    orders,
    promo_orders,
    revenue,
    discount_total,
    active_days_30d,
    activated,
    activated_at,
    days_inactive,
    events_7d,
    events_prev_28d,
    frequency_drop,
    hard_churned,
    marketing_averse,
    reactivated_at,
    lifecycle_stage,
    churn_risk,
    promo_order_share,
    discount_share,
    promo_engagement,
    promo_tier,
    rfm_recency_days,
    rfm_r,
    rfm_f,
    rfm_m,
    rfm_segment,
    top_categories,
    purchasing_power,
    updated_at,
    version,
    user_key,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM {database}.user_profiles
WHERE user_key != '';

INSERT INTO {analytics_database}.events
SELECT
    event_key AS event_id,
    user_key AS user_id,
    type,
    ts,
    day,
    category,
    page,
    amount,
    topic,
    partition,
    offset,
    user_key,
    event_key
FROM {database}.events
WHERE user_key != '';

INSERT INTO {analytics_database}.profile_alerts
SELECT
    lower(hex(MD5(concat(user_key, '/', kind, '/', toString(transition_at_ms))))) AS alert_id,
    user_key AS user_id,
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
    emitted_at,
    user_key
FROM {database}.profile_alerts
WHERE user_key != '';

-- The contract views, the same columns as in {database}.
CREATE VIEW IF NOT EXISTS {analytics_database}.user_profiles_current AS
SELECT
    user_id,
    first_seen_at,
    first_contact_at,
    last_active_at,
    page_views,
    searches,
    messages_sent,
    messages_received,
    orders,
    promo_orders,
    revenue,
    discount_total,
    active_days_30d,
    activated,
    activated_at,
    days_inactive,
    events_7d,
    events_prev_28d,
    frequency_drop,
    hard_churned,
    marketing_averse,
    reactivated_at,
    lifecycle_stage,
    churn_risk,
    promo_order_share,
    discount_share,
    promo_engagement,
    promo_tier,
    rfm_recency_days,
    rfm_r,
    rfm_f,
    rfm_m,
    rfm_segment,
    top_categories,
    purchasing_power,
    updated_at,
    version,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM {analytics_database}.user_profiles FINAL;

CREATE VIEW IF NOT EXISTS {analytics_database}.profile_alerts_unique AS
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
FROM {analytics_database}.profile_alerts FINAL;
