//! Promotion sensitivity: does the user buy only when there is a deal?
//!
//! docs/signals.md, "Promotion sensitivity":
//! - "A *promo order* has a non-empty `coupon_id` or `promo_id`, or `discount > 0`."
//! - "`promo_order_share` = promo_orders / orders; 0 without orders."
//! - "`discount_share` = Σ discount / Σ (amount + discount); 0 when the denominator is 0."
//! - "`promo_engagement`: page views with `is_promo = true`, plus searches whose `query`
//!   contains (case-insensitively) one of 优惠, 折扣, 秒杀, 满减, 券, coupon, sale, discount,
//!   deal, plus `promotion` events with action `claimed` or `redeemed`."
//! - "`promo_tier`, the first rule that matches: `unknown` (orders < 3), `promo_only`
//!   (promo_orders = orders), `high` (share >= 0.6), `medium` (share >= 0.3), `low`
//!   (share > 0), `none`."

use serde::{Deserialize, Serialize};

use crate::event::{wire_enum, EventKind, Order, PromotionAction};
use crate::signals::Keywords;

wire_enum! {
    /// The `promo_tier` column.
    pub enum PromoTier {
        /// Too few orders to tell.
        Unknown = "unknown",
        /// Every order was a promo order.
        PromoOnly = "promo_only",
        High = "high",
        Medium = "medium",
        Low = "low",
        /// No promo order at all.
        None = "none",
    }
}

/// The thresholds of `promo_tier` (`[signals.promo_tier]`); defaults from docs/signals.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PromoTierThresholds {
    /// Below this many orders the tier is `unknown`. Default 3.
    pub min_orders: u64,
    /// `high` from this promo order share. Default 0.6.
    pub high_share: f64,
    /// `medium` from this promo order share. Default 0.3.
    pub medium_share: f64,
}

impl Default for PromoTierThresholds {
    fn default() -> Self {
        PromoTierThresholds {
            min_orders: 3,
            high_share: 0.6,
            medium_share: 0.3,
        }
    }
}

/// Whether the order counts in `promo_orders`.
pub(crate) fn is_promo_order(order: &Order<'_>) -> bool {
    let non_empty = |id: &Option<_>| id.as_deref().is_some_and(|id: &str| !id.is_empty());
    non_empty(&order.coupon_id) || non_empty(&order.promo_id) || order.discount_cents > 0
}

/// Whether the event counts in `promo_engagement`.
pub(crate) fn is_promo_engagement(kind: &EventKind<'_>, promo_keywords: &Keywords) -> bool {
    match kind {
        EventKind::PageView(view) => view.is_promo,
        EventKind::Search(search) => promo_keywords.found_in(&search.query),
        EventKind::Promotion(promotion) => matches!(
            promotion.action,
            PromotionAction::Claimed | PromotionAction::Redeemed
        ),
        _ => false,
    }
}

/// `promo_order_share`.
pub(crate) fn promo_order_share(promo_orders: u64, orders: u64) -> f64 {
    if orders == 0 {
        0.0
    } else {
        promo_orders as f64 / orders as f64
    }
}

/// `discount_share`, from the sums in cents.
pub(crate) fn discount_share(discount_cents: i64, revenue_cents: i64) -> f64 {
    match revenue_cents.saturating_add(discount_cents) {
        0 => 0.0,
        paid_and_discounted => discount_cents as f64 / paid_and_discounted as f64,
    }
}

/// `promo_tier`.
pub(crate) fn promo_tier(orders: u64, promo_orders: u64, t: &PromoTierThresholds) -> PromoTier {
    let share = promo_order_share(promo_orders, orders);
    // Without orders the tier is unknown even if `min_orders` is configured to 0.
    if orders < t.min_orders.max(1) {
        PromoTier::Unknown
    } else if promo_orders == orders {
        PromoTier::PromoOnly
    } else if share >= t.high_share {
        PromoTier::High
    } else if share >= t.medium_share {
        PromoTier::Medium
    } else if share > 0.0 {
        PromoTier::Low
    } else {
        PromoTier::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Direction::User;
    use crate::event::PromotionAction::{Claimed, Expired, Issued, Redeemed};
    use crate::testing::{
        at, chat, order, order_with, profile, promo_view, promotion, search, view,
    };

    fn tier(orders: u64, promo_orders: u64) -> &'static str {
        promo_tier(orders, promo_orders, &PromoTierThresholds::default()).as_str()
    }

    #[test]
    fn promo_orders_need_a_non_empty_id_or_a_positive_discount() {
        let events = [
            order(at(90, 0), 10_000),
            order_with(at(90, 1), 10_000, 0, Some(""), Some(""), &[]),
            order_with(at(90, 2), 9_000, 1_000, None, None, &[]),
            order_with(at(90, 3), 10_000, 0, Some("c1"), None, &[]),
            order_with(at(90, 4), 10_000, 0, None, Some("618"), &[]),
        ];
        let p = profile(&events, at(91, 0));
        assert_eq!((p.orders, p.promo_orders), (5, 3));
        assert_eq!(p.promo_order_share, 0.6);
        assert_eq!(p.promo_tier, PromoTier::High);
        assert_eq!((p.revenue, p.discount_total), (490.0, 10.0));
        // 1 000 / (49 000 + 1 000) cents.
        assert_eq!(p.discount_share, 0.02);
    }

    #[test]
    fn promo_tier_follows_the_share_of_promo_orders() {
        assert_eq!(tier(0, 0), "unknown");
        assert_eq!(tier(2, 2), "unknown");
        assert_eq!(tier(3, 3), "promo_only");
        assert_eq!(tier(5, 3), "high"); // 0.6
        assert_eq!(tier(10, 3), "medium"); // 0.3
        assert_eq!(tier(4, 1), "low"); // 0.25
        assert_eq!(tier(3, 0), "none");
    }

    #[test]
    fn shares_are_zero_without_orders_or_money() {
        let p = profile(&[view(at(1, 0))], at(2, 0));
        assert_eq!((p.promo_order_share, p.discount_share), (0.0, 0.0));
        assert_eq!(p.promo_tier, PromoTier::Unknown);
        // A free order: amount 0, no discount.
        assert_eq!(discount_share(0, 0), 0.0);
    }

    #[test]
    fn promo_engagement_counts_promo_views_searches_and_claims() {
        let events = [
            promo_view(at(1, 1)),
            view(at(1, 2)),
            search(at(1, 3), "beauty SALE", None),
            search(at(1, 4), "pet food wholesale", None), // "sale" inside a word counts
            search(at(1, 5), "奶粉 优惠券", None),        // 优惠 and 券: one search, counted once
            search(at(1, 6), "lipstick", None),
            promotion(at(1, 7), Issued),
            promotion(at(1, 8), Claimed),
            promotion(at(1, 9), Redeemed),
            promotion(at(1, 10), Expired),
            chat(at(1, 11), User, Some("有优惠吗")), // chats do not count
        ];
        assert_eq!(profile(&events, at(2, 0)).promo_engagement, 6);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            PromoTier::NAMES,
            ["unknown", "promo_only", "high", "medium", "low", "none"]
        );
        for &tier in PromoTier::ALL {
            assert_eq!(PromoTier::parse(tier.as_str()), Some(tier));
        }
    }
}
