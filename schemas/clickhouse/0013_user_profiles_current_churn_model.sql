-- user_profiles_current with the churn model's columns of 0012, appended at the end as
-- docs/crm.md ("Versioning") promises its readers. 18.16 has no CREATE OR REPLACE VIEW: the
-- view is dropped and created again, which is re-runnable as a whole. The columns are listed
-- for the reason 0001 gives; user_key stays out, as before (it is the analysts' pseudonym, not
-- a profile column).
DROP TABLE IF EXISTS user_profiles_current;

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
    version,
    repeat_order_days,
    order_span_days,
    customer_age_days,
    p_alive,
    expected_orders_90d
FROM user_profiles FINAL;
