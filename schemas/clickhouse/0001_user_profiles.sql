-- One row per written profile version; the CRM and dashboards read user_profiles_current.
-- Columns are the contract in docs/signals.md, in the order of the generator's ExpectedProfile.
-- Timestamps are whole seconds in UTC; NULL means "absent" (no such event yet).
--
-- ReplacingMergeTree(version) keeps, per user_id, the row with the highest version, but only
-- when parts merge (at an unknown time, possibly never): readers must go through FINAL (the
-- view below), never assume the table holds one row per user. No PARTITION BY: rows are only
-- replaced within a partition, and every partition key that changes over a user's life (a
-- month of updated_at, say) would leave old versions behind forever.
CREATE TABLE IF NOT EXISTS user_profiles
(
    user_id String,
    first_seen_at DateTime('UTC'),
    first_contact_at Nullable(DateTime('UTC')),
    last_active_at Nullable(DateTime('UTC')),
    page_views UInt64,
    searches UInt64,
    messages_sent UInt64,
    messages_received UInt64,
    orders UInt64,
    promo_orders UInt64,
    revenue Float64,
    discount_total Float64,
    active_days_30d UInt32,
    activated UInt8,
    activated_at Nullable(DateTime('UTC')),
    days_inactive UInt32,
    events_7d UInt32,
    events_prev_28d UInt32,
    frequency_drop Float64,
    hard_churned UInt8,
    marketing_averse UInt8,
    reactivated_at Nullable(DateTime('UTC')),
    lifecycle_stage String,
    churn_risk Float64,
    promo_order_share Float64,
    discount_share Float64,
    promo_engagement UInt64,
    promo_tier String,
    rfm_recency_days Nullable(UInt32),
    rfm_r Nullable(UInt8),
    rfm_f Nullable(UInt8),
    rfm_m Nullable(UInt8),
    rfm_segment Nullable(String),
    top_categories Array(String),
    purchasing_power Nullable(String),
    updated_at DateTime('UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY user_id;

-- The latest version of each user's profile, exact even before any merge: FINAL collapses the
-- versions at read time. Columns are listed, not `*`, so the view's shape is an explicit
-- contract that a later ALTER of the table cannot change behind the CRM's back.
CREATE VIEW IF NOT EXISTS user_profiles_current AS
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
    version
FROM user_profiles FINAL;
