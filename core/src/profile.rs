//! [`Profile`]: one user's row of the `user_profiles` table, as evaluated at a watermark.
//!
//! One field per column of docs/signals.md, with the column's name and the type ClickHouse
//! holds it in: timestamps are `DateTime` seconds (⌊ms / 1000⌋), absent values are `None`
//! (NULL), money is cents / 100. The closed sets are enums whose `as_str` is the column value.
//! `updated_at` and `version` are not here: they say when a row was written, which is the
//! pipeline's business.

pub use crate::signals::{LifecycleStage, PromoTier, PurchasingPower, RfmSegment};
use crate::time::EventTime;

/// The profile of one user at one watermark.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub user_id: String,
    // Activity
    pub first_seen_at: i64,
    pub first_contact_at: Option<i64>,
    pub last_active_at: Option<i64>,
    pub page_views: u64,
    pub searches: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
    pub orders: u64,
    pub promo_orders: u64,
    pub revenue: f64,
    pub discount_total: f64,
    pub active_days_30d: u32,
    // Activation
    pub activated: bool,
    pub activated_at: Option<i64>,
    // Churn
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub hard_churned: bool,
    pub marketing_averse: bool,
    pub reactivated_at: Option<i64>,
    pub lifecycle_stage: LifecycleStage,
    pub churn_risk: f64,
    // Promotion sensitivity
    pub promo_order_share: f64,
    pub discount_share: f64,
    pub promo_engagement: u64,
    pub promo_tier: PromoTier,
    // Value
    pub rfm_recency_days: Option<u32>,
    pub rfm_r: Option<u8>,
    pub rfm_f: Option<u8>,
    pub rfm_m: Option<u8>,
    pub rfm_segment: Option<RfmSegment>,
    pub top_categories: Vec<String>,
    pub purchasing_power: Option<PurchasingPower>,
    // Churn probability
    pub repeat_order_days: Option<u32>,
    pub order_span_days: Option<u32>,
    pub customer_age_days: Option<u32>,
    pub p_alive: Option<f64>,
    pub expected_orders_90d: Option<f64>,
}

/// A `DateTime` column value: ⌊ms / 1000⌋ (flooring, so instants before 1970 work too).
pub(crate) fn seconds(ts: EventTime) -> i64 {
    ts.millis().div_euclid(1000)
}

/// A money column value from whole cents.
pub(crate) fn money(cents: i64) -> f64 {
    cents as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_floor() {
        assert_eq!(seconds(EventTime::from_millis(1_999)), 1);
        assert_eq!(seconds(EventTime::from_millis(-1)), -1);
    }

    #[test]
    fn money_is_cents_over_100() {
        assert_eq!(money(1_050), 10.5);
        assert_eq!(money(30), 0.3);
    }
}
