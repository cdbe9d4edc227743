//! [`ProfileState::evaluate`]: the state and a watermark in, the profile row out.
//!
//! The columns split in two: those that depend on the events alone (counters, extremes,
//! `reactivated_at`, tiers, categories) and those that also move with `W` ([`Windowed`]:
//! the day windows, the whole days since an instant, and what is computed from them). The split
//! is what lets [`ProfileState::next_change`] find the next change without evaluating whole
//! profiles.

use super::lifecycle::Lifecycle;
use super::ProfileState;
use crate::churn_model::BgNbdParams;
use crate::profile::{money, seconds, Profile};
use crate::signals::churn::probability::OrderHistory;
use crate::signals::value::rfm::Rfm;
use crate::signals::{activity, elapsed, promotion, LifecycleStage, SignalConfig};
use crate::time::EventTime;

/// The columns that change with the watermark.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Windowed {
    active_days_30d: u32,
    days_inactive: u32,
    events_7d: u32,
    events_prev_28d: u32,
    frequency_drop: f64,
    lifecycle_stage: LifecycleStage,
    churn_risk: f64,
    rfm: Option<Rfm>,
}

impl ProfileState {
    /// The profile row of user `user_id` at `watermark`, with the churn model's columns under
    /// `churn_model`. Pure: the same state, watermark and parameters always give the same row.
    /// `watermark` must not be before one already pruned at.
    pub fn evaluate(
        &self,
        user_id: &str,
        watermark: EventTime,
        config: &SignalConfig,
        churn_model: &BgNbdParams,
    ) -> Profile {
        let reactivated_at = self.reactivated_at(config);
        let history = self.order_history(watermark);
        let windowed = self.windowed(watermark, reactivated_at, config);
        let chat = self.chat_totals();
        let activated_at = chat.first_messages.activated_at(config.activation_messages);
        let rfm = windowed.rfm;
        let totals = self.order_totals();
        Profile {
            user_id: user_id.to_owned(),
            first_seen_at: seconds(self.first_seen),
            first_contact_at: self.first_contact.get().map(seconds),
            last_active_at: self.last_active.get().map(seconds),
            page_views: self.page_views,
            searches: self.searches,
            messages_sent: chat.messages_sent,
            messages_received: chat.messages_received,
            orders: totals.orders,
            promo_orders: totals.promo_orders,
            revenue: money(totals.revenue_cents),
            discount_total: money(totals.discount_cents),
            active_days_30d: windowed.active_days_30d,
            activated: chat.messages_sent >= u64::from(config.activation_messages),
            activated_at: activated_at.map(seconds),
            days_inactive: windowed.days_inactive,
            events_7d: windowed.events_7d,
            events_prev_28d: windowed.events_prev_28d,
            frequency_drop: windowed.frequency_drop,
            hard_churned: self.lifecycle().hard_churned(),
            marketing_averse: chat.marketing_averse,
            reactivated_at: reactivated_at.map(seconds),
            lifecycle_stage: windowed.lifecycle_stage,
            churn_risk: windowed.churn_risk,
            promo_order_share: promotion::promo_order_share(totals.promo_orders, totals.orders),
            discount_share: promotion::discount_share(totals.discount_cents, totals.revenue_cents),
            promo_engagement: self.promo_engagement,
            promo_tier: promotion::promo_tier(
                totals.orders,
                totals.promo_orders,
                &config.promo_tier,
            ),
            rfm_recency_days: rfm.map(|rfm| rfm.recency_days),
            rfm_r: rfm.map(|rfm| rfm.r),
            rfm_f: rfm.map(|rfm| rfm.f),
            rfm_m: rfm.map(|rfm| rfm.m),
            rfm_segment: rfm.map(|rfm| rfm.segment),
            top_categories: self.categories.top(config.top_categories.count),
            purchasing_power: totals.items.tier(&config.purchasing_power),
            repeat_order_days: history.map(|h| h.repeat_order_days),
            order_span_days: history.map(|h| h.order_span_days),
            customer_age_days: history.map(|h| h.customer_age_days),
            p_alive: history.map(|h| h.p_alive(churn_model)),
            expected_orders_90d: history.and_then(|h| h.expected_orders_90d(churn_model)),
        }
    }

    /// The buyer's order history at `watermark` as the churn model reads it; `None` without
    /// orders.
    pub(super) fn order_history(&self, watermark: EventTime) -> Option<OrderHistory> {
        let totals = self.order_totals();
        totals.last_order.get().map(|last| {
            OrderHistory::new(
                totals.order_days,
                totals.first_order_day,
                last.day(),
                watermark.day(),
            )
        })
    }

    /// The columns that move with `watermark`, given `reactivated_at` (which does not).
    pub(super) fn windowed(
        &self,
        watermark: EventTime,
        reactivated_at: Option<EventTime>,
        config: &SignalConfig,
    ) -> Windowed {
        let churn = self.lifecycle().signals(watermark, reactivated_at, config);
        let totals = self.order_totals();
        Windowed {
            active_days_30d: activity::active_days_30d(self.days.active_days(), watermark.day()),
            days_inactive: churn.days_inactive,
            events_7d: churn.events_7d,
            events_prev_28d: churn.events_prev_28d,
            frequency_drop: churn.frequency_drop,
            lifecycle_stage: churn.stage,
            churn_risk: churn.churn_risk,
            rfm: totals.last_order.get().map(|last| {
                let recency_days = elapsed::whole_days(last, watermark);
                Rfm::score(
                    recency_days,
                    totals.orders,
                    totals.revenue_cents,
                    &config.rfm,
                )
            }),
        }
    }

    /// The fields the churn columns are computed from (and the alert timeline's stage, which
    /// reads them from here while it has no events pending).
    pub(crate) fn lifecycle(&self) -> Lifecycle<'_> {
        Lifecycle {
            first_seen: self.first_seen,
            last_active: self.last_active.get(),
            last_churn: self.last_churn.get(),
            days: &self.days,
        }
    }

    /// Chat messages from the user, which activation counts.
    pub(crate) fn messages_sent(&self) -> u64 {
        self.chat_totals().messages_sent
    }

    pub(super) fn reactivated_at(&self, config: &SignalConfig) -> Option<EventTime> {
        self.lifecycle().reactivated_at(config)
    }
}
