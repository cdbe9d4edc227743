-- The CRM's database, for servers without SQL access control (ClickHouse 18.16): applied by
-- `portrait migrate` when `[clickhouse] crm_database` is set, after the numbered migrations
-- (docs/security.md, "Access control"). Not a numbered migration: it lives in another database,
-- whose name it needs. `{database}` and `{crm_database}` are replaced by the configured names,
-- back-quoted; nothing else is substituted.
--
-- Why a copy and not a view over {database}.user_profiles_current: 18.16 checks every table a
-- query reads, through views too, against the databases the reading user is allowed, so a CRM
-- user allowed only {crm_database} is refused the main database even through a view there.
-- (A Distributed table over the main view, queried as another user, does work, but it runs the
-- CRM's `IN (subquery)` on the main database as that user, which reads everything.) So the
-- copy is kept in {crm_database} by a materialized view: every insert into user_profiles,
-- by whoever makes it, is also written to the copy, in the same request.
--
-- `migrate` skips this file once {crm_database}.user_profiles_current exists (created last,
-- so every statement before it succeeded); it runs it from the top otherwise, and every
-- statement is re-runnable. The copy has user_profiles' engine and key, so older versions of a
-- profile collapse the same way and the backfill below may repeat rows harmlessly.
CREATE DATABASE IF NOT EXISTS {crm_database};

CREATE TABLE IF NOT EXISTS {crm_database}.user_profiles AS {database}.user_profiles;

-- Columns by name, never `*`: a column added to user_profiles later must not break the
-- pipeline's inserts by not fitting the copy.
CREATE MATERIALIZED VIEW IF NOT EXISTS {crm_database}.user_profiles_feed
TO {crm_database}.user_profiles
AS SELECT
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
    user_key,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM {database}.user_profiles;

-- The rows written before the feed existed (after it, so none written in between is missed).
-- Columns by name. The copy has every column of user_profiles at its creation, user_key
-- (0007) included, and 18.16 fills no missing column of a materialized view's target, so the
-- feed and this backfill list it too (the CRM's view does not show it).
INSERT INTO {crm_database}.user_profiles
(
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
    user_key,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
)
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
    user_key,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM {database}.user_profiles;

-- The contract of docs/crm.md, the same columns as {database}.user_profiles_current.
CREATE VIEW IF NOT EXISTS {crm_database}.user_profiles_current AS
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
FROM {crm_database}.user_profiles FINAL;
