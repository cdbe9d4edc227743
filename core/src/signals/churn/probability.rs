//! The churn model's columns: a buyer's order history as BG/NBD reads it, and what the model
//! makes of it (`core::churn_model`; docs/churn-model.md).
//!
//! docs/signals.md, "Churn probability" (every column NULL without orders):
//! - "`repeat_order_days` (x): distinct order days after the first order day."
//! - "`order_span_days` (7 t_x) = day(last order ts) − day(first order ts)."
//! - "`customer_age_days` (7 T) = max(day(W), day(last order ts)) − day(first order ts)."
//! - "`p_alive`: the probability that the buyer is still a customer, BG/NBD's P(alive | x, t_x,
//!   T), with t_x and T in weeks (days / 7)."
//! - "`expected_orders_90d`: the order days to expect in the next 90 days, BG/NBD's
//!   E[Y(t) | x, t_x, T] at t = 90 / 7 weeks."
//!
//! Orders count by day, as the paper's CDNOW purchases do: several orders on one day are one
//! purchase occasion. `customer_age_days` is at least `order_span_days` even for an order ahead
//! of the watermark, which the model requires (t_x ≤ T).

use crate::churn_model::{BgNbdParams, Rfm};
use crate::time::Day;

/// `expected_orders_90d`'s horizon, in days.
const HORIZON_DAYS: f64 = 90.0;
const DAYS_PER_WEEK: f64 = 7.0;

/// A buyer's order history in whole days: the three numbers the churn model needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OrderHistory {
    pub(crate) repeat_order_days: u32,
    pub(crate) order_span_days: u32,
    pub(crate) customer_age_days: u32,
}

impl OrderHistory {
    /// The history of `order_days` distinct order days from `first` to `last`, on day `today`
    /// = day(W). `first <= last`, and one order day exactly when they are equal: the state
    /// keeps these invariants.
    pub(crate) fn new(order_days: u32, first: Day, last: Day, today: Day) -> Self {
        let days_since_first =
            |day: Day| u32::try_from(day.since(first)).expect("no order day is before the first");
        OrderHistory {
            repeat_order_days: order_days - 1,
            order_span_days: days_since_first(last),
            customer_age_days: days_since_first(today.max(last)),
        }
    }

    /// `p_alive`.
    pub(crate) fn p_alive(&self, model: &BgNbdParams) -> f64 {
        model.p_alive(self.in_weeks())
    }

    /// `expected_orders_90d`; `None` where the model's series cannot be summed, which takes
    /// parameters that no data set of purchases on separate days gives (α of a few minutes).
    pub(crate) fn expected_orders_90d(&self, model: &BgNbdParams) -> Option<f64> {
        model
            .expected_purchases(HORIZON_DAYS / DAYS_PER_WEEK, self.in_weeks())
            .ok()
    }

    fn in_weeks(&self) -> Rfm {
        Rfm::new(
            f64::from(self.repeat_order_days),
            f64::from(self.order_span_days) / DAYS_PER_WEEK,
            f64::from(self.customer_age_days) / DAYS_PER_WEEK,
        )
        .expect("a history the state keeps is one the model accepts")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, order, profile, view};

    #[test]
    fn counts_order_days_not_orders_and_weeks_from_the_first() {
        // Two orders on day 10, one on day 24, one on day 31; W on day 38.
        let events = [
            order(at(10, 9), 1_000),
            order(at(10, 18), 1_000),
            order(at(24, 1), 1_000),
            view(at(30, 0)),
            order(at(31, 23), 1_000),
        ];
        let p = profile(&events, at(38, 12));
        assert_eq!(p.repeat_order_days, Some(2));
        assert_eq!(p.order_span_days, Some(21));
        assert_eq!(p.customer_age_days, Some(28));
        let history = Rfm::new(2.0, 3.0, 4.0).unwrap();
        let model = BgNbdParams::default();
        assert_eq!(p.p_alive, Some(model.p_alive(history)));
        assert_eq!(
            p.expected_orders_90d,
            model.expected_purchases(90.0 / 7.0, history).ok()
        );
    }

    #[test]
    fn a_single_order_day_is_alive_for_sure() {
        let events = [order(at(10, 9), 1_000), order(at(10, 10), 1_000)];
        let p = profile(&events, at(20, 0));
        assert_eq!(
            (p.repeat_order_days, p.order_span_days, p.customer_age_days),
            (Some(0), Some(0), Some(10))
        );
        assert_eq!(p.p_alive, Some(1.0));
    }

    #[test]
    fn an_order_ahead_of_the_watermark_ages_the_buyer_to_its_day() {
        let events = [order(at(10, 9), 1_000), order(at(12, 9), 1_000)];
        let p = profile(&events, at(11, 0));
        assert_eq!((p.order_span_days, p.customer_age_days), (Some(2), Some(2)));
    }

    #[test]
    fn no_orders_no_churn_model_columns() {
        let p = profile(&[view(at(10, 9))], at(20, 0));
        assert_eq!(
            (p.repeat_order_days, p.p_alive, p.expected_orders_90d),
            (None, None, None)
        );
    }
}
