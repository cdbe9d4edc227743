//! RFM: recency, frequency and monetary value of a buyer, graded 1–5, and a segment.
//!
//! docs/signals.md, "Value":
//! - "`rfm_recency_days` = max(0, ⌊(W − max order ts) / DAY⌋); NULL without orders."
//! - "`rfm_r`, `rfm_f`, `rfm_m` (NULL without orders):"
//!
//!   | score | R: recency days | F: orders | M: revenue |
//!   |---|---|---|---|
//!   | 5 | <= 7 | >= 10 | >= 3000 |
//!   | 4 | <= 30 | 5–9 | >= 1000 |
//!   | 3 | <= 90 | 3–4 | >= 300 |
//!   | 2 | <= 180 | 2 | >= 100 |
//!   | 1 | > 180 | 1 | < 100 |
//!
//! - "`rfm_segment` (NULL without orders), an R × F grid:"
//!
//!   | | F 1 | F 2–3 | F 4–5 |
//!   |---|---|---|---|
//!   | R 4–5 | `new_customer` | `potential_loyalist` | `champions` |
//!   | R 3 | `promising` | `needs_attention` | `loyal` |
//!   | R 1–2 | `hibernating` | `at_risk` | `cant_lose` |
//!
//! The score thresholds are configurable; the grid is on scores, so it is not.

use serde::{Deserialize, Serialize};

use crate::event::wire_enum;

wire_enum! {
    /// The `rfm_segment` column: a cell of the R × F grid.
    pub enum RfmSegment {
        NewCustomer = "new_customer",
        PotentialLoyalist = "potential_loyalist",
        Champions = "champions",
        Promising = "promising",
        NeedsAttention = "needs_attention",
        Loyal = "loyal",
        Hibernating = "hibernating",
        AtRisk = "at_risk",
        CantLose = "cant_lose",
    }
}

/// The score thresholds (`[signals.rfm]`); each list gives the bound for the scores 5, 4, 3
/// and 2, in that order, and anything beyond the last bound scores 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RfmThresholds {
    /// R: at most this many days since the last order. Default [7, 30, 90, 180].
    pub recency_days: [u32; 4],
    /// F: at least this many orders. Default [10, 5, 3, 2].
    pub orders: [u64; 4],
    /// M: at least this much revenue, in cents. Default [300000, 100000, 30000, 10000]
    /// (3000, 1000, 300 and 100).
    pub revenue_cents: [i64; 4],
}

impl Default for RfmThresholds {
    fn default() -> Self {
        RfmThresholds {
            recency_days: [7, 30, 90, 180],
            orders: [10, 5, 3, 2],
            revenue_cents: [300_000, 100_000, 30_000, 10_000],
        }
    }
}

/// The RFM columns of a user with at least one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rfm {
    pub(crate) recency_days: u32,
    pub(crate) r: u8,
    pub(crate) f: u8,
    pub(crate) m: u8,
    pub(crate) segment: RfmSegment,
}

impl Rfm {
    pub(crate) fn score(
        recency_days: u32,
        orders: u64,
        revenue_cents: i64,
        t: &RfmThresholds,
    ) -> Rfm {
        let r = grade(&t.recency_days, |&most| recency_days <= most);
        let f = grade(&t.orders, |&least| orders >= least);
        Rfm {
            recency_days,
            r,
            f,
            m: grade(&t.revenue_cents, |&least| revenue_cents >= least),
            segment: segment(r, f),
        }
    }
}

/// 5 for the first bound `meets`, 4 for the second, ..., 1 when none does.
fn grade<T>(bounds: &[T; 4], meets: impl Fn(&T) -> bool) -> u8 {
    bounds.iter().position(meets).map_or(1, |at| 5 - at as u8)
}

fn segment(r: u8, f: u8) -> RfmSegment {
    use RfmSegment::*;
    match (r, f) {
        (4.., 1) => NewCustomer,
        (4.., 2..=3) => PotentialLoyalist,
        (4.., _) => Champions,
        (3, 1) => Promising,
        (3, 2..=3) => NeedsAttention,
        (3, _) => Loyal,
        (_, 1) => Hibernating,
        (_, 2..=3) => AtRisk,
        _ => CantLose,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, order, profile, view};

    fn scores(days: u32, orders: u64, cents: i64) -> (u8, u8, u8) {
        let rfm = Rfm::score(days, orders, cents, &RfmThresholds::default());
        (rfm.r, rfm.f, rfm.m)
    }

    #[test]
    fn thresholds_are_inclusive_at_each_bound() {
        assert_eq!(scores(7, 10, 300_000), (5, 5, 5));
        assert_eq!(scores(8, 9, 299_999), (4, 4, 4));
        assert_eq!(scores(30, 5, 100_000), (4, 4, 4));
        assert_eq!(scores(31, 4, 99_999), (3, 3, 3));
        assert_eq!(scores(90, 3, 30_000), (3, 3, 3));
        assert_eq!(scores(91, 2, 10_000), (2, 2, 2));
        assert_eq!(scores(180, 2, 10_000), (2, 2, 2));
        assert_eq!(scores(181, 1, 9_999), (1, 1, 1));
    }

    #[test]
    fn the_grid_covers_every_cell() {
        assert_eq!(segment(5, 1), RfmSegment::NewCustomer);
        assert_eq!(segment(4, 3), RfmSegment::PotentialLoyalist);
        assert_eq!(segment(4, 4), RfmSegment::Champions);
        assert_eq!(segment(3, 1), RfmSegment::Promising);
        assert_eq!(segment(3, 2), RfmSegment::NeedsAttention);
        assert_eq!(segment(3, 5), RfmSegment::Loyal);
        assert_eq!(segment(2, 1), RfmSegment::Hibernating);
        assert_eq!(segment(1, 3), RfmSegment::AtRisk);
        assert_eq!(segment(1, 4), RfmSegment::CantLose);
    }

    #[test]
    fn scores_a_buyer_from_orders() {
        // 5 orders of 200.00, the last 31 days 12 hours before W.
        let events: Vec<_> = (0..5).map(|i| order(at(65 + i, 0), 20_000)).collect();
        let p = profile(&events, at(100, 12));
        assert_eq!(p.rfm_recency_days, Some(31));
        assert_eq!((p.rfm_r, p.rfm_f, p.rfm_m), (Some(3), Some(4), Some(4)));
        assert_eq!(p.rfm_segment, Some(RfmSegment::Loyal));

        let single = profile(&[order(at(100, 0), 9_999)], at(100, 12));
        assert_eq!(
            (single.rfm_r, single.rfm_f, single.rfm_m),
            (Some(5), Some(1), Some(1))
        );
        assert_eq!(single.rfm_segment, Some(RfmSegment::NewCustomer));
    }

    #[test]
    fn no_orders_no_rfm() {
        let p = profile(&[view(at(1, 0))], at(2, 0));
        assert_eq!(
            (p.rfm_recency_days, p.rfm_r, p.rfm_f, p.rfm_m),
            (None, None, None, None)
        );
        assert_eq!(p.rfm_segment, None);
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            RfmSegment::NAMES,
            [
                "new_customer",
                "potential_loyalist",
                "champions",
                "promising",
                "needs_attention",
                "loyal",
                "hibernating",
                "at_risk",
                "cant_lose"
            ]
        );
        for &segment in RfmSegment::ALL {
            assert_eq!(RfmSegment::parse(segment.as_str()), Some(segment));
        }
    }
}
