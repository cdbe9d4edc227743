//! `purchasing_power`: what the user typically pays per item.
//!
//! docs/signals.md: "`purchasing_power`, from the average item price p = Σ (price · qty) / Σ qty
//! over all order items: `low` (p < 50), `medium` (p < 200), `high` (p < 800), `premium`
//! otherwise; NULL when the user has ordered no items."
//!
//! Both sums are kept in integers (cents and units) and compared without dividing,
//! `p < t ⇔ Σ(price · qty) < t · Σ qty`, so the tier never depends on rounding.

use serde::{Deserialize, Serialize};

use crate::event::{wire_enum, Item};
use crate::state::codec::{Reader, StateDecodeError, Writer};

wire_enum! {
    /// The `purchasing_power` column.
    pub enum PurchasingPower {
        Low = "low",
        Medium = "medium",
        High = "high",
        Premium = "premium",
    }
}

/// The tier bounds (`[signals.purchasing_power]`): the average item price, in cents, below
/// which a user is `low`, `medium` and `high`. Default [5000, 20000, 80000] (50, 200, 800).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PurchasingPowerThresholds {
    pub below_cents: [u64; 3],
}

impl Default for PurchasingPowerThresholds {
    fn default() -> Self {
        PurchasingPowerThresholds {
            below_cents: [5_000, 20_000, 80_000],
        }
    }
}

/// Σ (price · qty) and Σ qty over every order item seen. Saturating, and 128 bits for the
/// cents: one item line can be `i64::MAX` cents times `u32::MAX` units. The cents are two
/// `u64` halves rather than a `u128`, whose 16-byte alignment would pad the whole state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ItemSpend {
    cents: [u64; 2],
    quantity: u64,
}

impl ItemSpend {
    /// No items.
    pub(crate) const NONE: ItemSpend = ItemSpend {
        cents: [0; 2],
        quantity: 0,
    };

    pub(crate) fn record(&mut self, item: &Item<'_>) {
        // The decoder guarantees `price_cents >= 0`.
        let price = u128::from(u64::try_from(item.price_cents).unwrap_or(0));
        self.set_cents(self.cents().saturating_add(price * u128::from(item.qty)));
        self.quantity = self.quantity.saturating_add(u64::from(item.qty));
    }

    fn cents(&self) -> u128 {
        u128::from(self.cents[1]) << 64 | u128::from(self.cents[0])
    }

    fn set_cents(&mut self, cents: u128) {
        self.cents = [cents as u64, (cents >> 64) as u64];
    }

    /// `purchasing_power`; `None` without items.
    pub(crate) fn tier(&self, t: &PurchasingPowerThresholds) -> Option<PurchasingPower> {
        if self.quantity == 0 {
            return None;
        }
        let cents = self.cents();
        let below = |bound: u64| cents < u128::from(bound) * u128::from(self.quantity);
        Some(match t.below_cents {
            [low, ..] if below(low) => PurchasingPower::Low,
            [_, medium, _] if below(medium) => PurchasingPower::Medium,
            [_, _, high] if below(high) => PurchasingPower::High,
            _ => PurchasingPower::Premium,
        })
    }

    pub(crate) fn encode(&self, w: &mut Writer) {
        w.varint(self.cents());
        w.varint(self.quantity.into());
    }

    pub(crate) fn decode(r: &mut Reader) -> Result<Self, StateDecodeError> {
        let mut spend = ItemSpend::NONE;
        spend.set_cents(r.varint("items.cents")?);
        spend.quantity = r.int("items.quantity")?;
        Ok(spend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, order, order_with, profile};

    fn tier_of(items: &[(&'static str, i64, u32)]) -> Option<PurchasingPower> {
        profile(&[order_with(at(1, 0), 0, 0, None, None, items)], at(2, 0)).purchasing_power
    }

    #[test]
    fn uses_the_quantity_weighted_average_price() {
        // (10.00 · 1 + 110.00 · 1) / 2 = 60.00: medium.
        assert_eq!(
            tier_of(&[("books", 1_000, 1), ("home", 11_000, 1)]),
            Some(PurchasingPower::Medium)
        );
        // (10.00 · 3 + 110.00 · 1) / 4 = 35.00: low.
        assert_eq!(
            tier_of(&[("books", 1_000, 3), ("home", 11_000, 1)]),
            Some(PurchasingPower::Low)
        );
    }

    #[test]
    fn bounds_are_exclusive() {
        let tiers = [
            (4_999, PurchasingPower::Low),
            (5_000, PurchasingPower::Medium),
            (19_999, PurchasingPower::Medium),
            (20_000, PurchasingPower::High),
            (79_999, PurchasingPower::High),
            (80_000, PurchasingPower::Premium),
        ];
        for (price, tier) in tiers {
            assert_eq!(tier_of(&[("books", price, 2)]), Some(tier), "{price}");
        }
    }

    #[test]
    fn averages_across_orders() {
        // 40.00 and 70.00, one unit each: 55.00, medium, though each order alone differs.
        let events = [
            order_with(at(1, 0), 0, 0, None, None, &[("a", 4_000, 1)]),
            order_with(at(1, 1), 0, 0, None, None, &[("b", 7_000, 1)]),
        ];
        assert_eq!(
            profile(&events, at(2, 0)).purchasing_power,
            Some(PurchasingPower::Medium)
        );
    }

    #[test]
    fn no_items_no_tier() {
        assert_eq!(
            profile(&[order(at(1, 0), 500)], at(2, 0)).purchasing_power,
            None
        );
    }

    #[test]
    fn huge_lines_saturate_instead_of_overflowing() {
        let mut spend = ItemSpend::default();
        let item = Item {
            category: "x".into(),
            price_cents: i64::MAX,
            qty: u32::MAX,
        };
        spend.record(&item);
        spend.record(&item);
        let tier = spend.tier(&PurchasingPowerThresholds::default());
        assert_eq!(tier, Some(PurchasingPower::Premium));
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(PurchasingPower::NAMES, ["low", "medium", "high", "premium"]);
        for &tier in PurchasingPower::ALL {
            assert_eq!(PurchasingPower::parse(tier.as_str()), Some(tier));
        }
    }
}
