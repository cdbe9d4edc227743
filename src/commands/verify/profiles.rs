//! The profile half of `portrait verify`: `user_profiles_current` read back as the truth's
//! [`ExpectedProfile`]s.

use portrait_generator::ExpectedProfile;
use serde::Deserialize;

use super::store::Store;

/// One row of `user_profiles_current`: timestamps as `DateTime` epoch seconds, booleans as
/// `UInt8` (ClickHouse 18.16 has no `Bool`; the Parquet tables keep its types).
#[derive(Debug, clickhouse::Row, Deserialize)]
struct Row {
    user_id: String,
    first_seen_at: u32,
    first_contact_at: Option<u32>,
    last_active_at: Option<u32>,
    page_views: u64,
    searches: u64,
    messages_sent: u64,
    messages_received: u64,
    orders: u64,
    promo_orders: u64,
    revenue: f64,
    discount_total: f64,
    active_days_30d: u32,
    activated: u8,
    activated_at: Option<u32>,
    days_inactive: u32,
    events_7d: u32,
    events_prev_28d: u32,
    frequency_drop: f64,
    hard_churned: u8,
    marketing_averse: u8,
    reactivated_at: Option<u32>,
    lifecycle_stage: String,
    churn_risk: f64,
    promo_order_share: f64,
    discount_share: f64,
    promo_engagement: u64,
    promo_tier: String,
    rfm_recency_days: Option<u32>,
    rfm_r: Option<u8>,
    rfm_f: Option<u8>,
    rfm_m: Option<u8>,
    rfm_segment: Option<String>,
    top_categories: Vec<String>,
    purchasing_power: Option<String>,
    repeat_order_days: Option<u32>,
    order_span_days: Option<u32>,
    customer_age_days: Option<u32>,
    p_alive: Option<f64>,
    expected_orders_90d: Option<f64>,
}

impl From<Row> for ExpectedProfile {
    fn from(r: Row) -> Self {
        let time = |t: u32| i64::from(t);
        ExpectedProfile {
            user_id: r.user_id,
            first_seen_at: time(r.first_seen_at),
            first_contact_at: r.first_contact_at.map(time),
            last_active_at: r.last_active_at.map(time),
            page_views: r.page_views,
            searches: r.searches,
            messages_sent: r.messages_sent,
            messages_received: r.messages_received,
            orders: r.orders,
            promo_orders: r.promo_orders,
            revenue: r.revenue,
            discount_total: r.discount_total,
            active_days_30d: r.active_days_30d,
            activated: r.activated != 0,
            activated_at: r.activated_at.map(time),
            days_inactive: r.days_inactive,
            events_7d: r.events_7d,
            events_prev_28d: r.events_prev_28d,
            frequency_drop: r.frequency_drop,
            hard_churned: r.hard_churned != 0,
            marketing_averse: r.marketing_averse != 0,
            reactivated_at: r.reactivated_at.map(time),
            lifecycle_stage: r.lifecycle_stage,
            churn_risk: r.churn_risk,
            promo_order_share: r.promo_order_share,
            discount_share: r.discount_share,
            promo_engagement: r.promo_engagement,
            promo_tier: r.promo_tier,
            rfm_recency_days: r.rfm_recency_days,
            rfm_r: r.rfm_r,
            rfm_f: r.rfm_f,
            rfm_m: r.rfm_m,
            rfm_segment: r.rfm_segment,
            top_categories: r.top_categories,
            purchasing_power: r.purchasing_power,
            repeat_order_days: r.repeat_order_days,
            order_span_days: r.order_span_days,
            customer_age_days: r.customer_age_days,
            p_alive: r.p_alive,
            expected_orders_90d: r.expected_orders_90d,
        }
    }
}

/// Every profile in `user_profiles_current` (the latest version of each user), sorted by
/// user id as the truth is.
pub(super) async fn read_current(store: &Store) -> anyhow::Result<Vec<ExpectedProfile>> {
    let rows: Vec<Row> = store.rows("user_profiles_current", "user_id").await?;
    Ok(rows.into_iter().map(ExpectedProfile::from).collect())
}
