//! One customer's purchase history as BG/NBD sees it: three numbers, which is why the model fits
//! a streaming state.

/// Days in a week: the model counts time in weeks, Portrait's profiles in whole days.
pub const DAYS_PER_WEEK: f64 = 7.0;

/// A customer's repeat purchases x, the time t_x of the last one and the customer's age T, in
/// weeks from the first purchase (the paper's notation; `lifetimes` calls them frequency,
/// recency and T).
///
/// Not to be confused with [`crate::signals::RfmSegment`], the recency–frequency–monetary
/// segment of docs/signals.md: this one has no money and counts time from the first purchase.
///
/// Built by [`Rfm::new`], which rejects histories no customer can have, so the model's
/// formulas need not check them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rfm {
    x: f64,
    t_x: f64,
    t: f64,
}

/// A history [`Rfm::new`] refuses, with the values given.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum RfmError {
    #[error("repeat purchases x must be a whole number ≥ 0, got {x}")]
    RepeatPurchases { x: f64 },
    #[error("age T must be finite and ≥ 0 weeks, got {t}")]
    Age { t: f64 },
    #[error(
        "the last purchase t_x = {t_x} must lie in [0, T = {t}] weeks, and be 0 without repeat \
         purchases (x = {x})"
    )]
    LastPurchase { x: f64, t_x: f64, t: f64 },
}

impl Rfm {
    /// A customer at the moment of the first purchase: no repeat purchase, and no time yet.
    pub const AT_FIRST_PURCHASE: Rfm = Rfm {
        x: 0.0,
        t_x: 0.0,
        t: 0.0,
    };

    /// `x` repeat purchases (purchase periods after the first: the paper and Portrait count
    /// distinct days), the last at `t_x` weeks after the first purchase, observed `t` weeks
    /// after the first purchase.
    pub fn new(x: f64, t_x: f64, t: f64) -> Result<Self, RfmError> {
        if !(x >= 0.0 && x.is_finite() && x.fract() == 0.0) {
            return Err(RfmError::RepeatPurchases { x });
        }
        if !(t >= 0.0 && t.is_finite()) {
            return Err(RfmError::Age { t });
        }
        let last_purchase_fits = (0.0..=t).contains(&t_x) && (x > 0.0 || t_x == 0.0);
        if !last_purchase_fits {
            return Err(RfmError::LastPurchase { x, t_x, t });
        }
        Ok(Self { x, t_x, t })
    }

    /// The history a profile's columns hold in whole days (docs/signals.md, "Churn
    /// probability"): `repeat_order_days` (x), `order_span_days` (7 t_x) and
    /// `customer_age_days` (7 T), the days divided by 7. The one conversion from days to
    /// weeks: the flush's `p_alive` and the fit read the columns through it alike.
    pub fn from_days(
        repeat_order_days: u32,
        order_span_days: u32,
        customer_age_days: u32,
    ) -> Result<Self, RfmError> {
        Self::new(
            f64::from(repeat_order_days),
            f64::from(order_span_days) / DAYS_PER_WEEK,
            f64::from(customer_age_days) / DAYS_PER_WEEK,
        )
    }

    /// Repeat purchases x.
    pub fn x(&self) -> f64 {
        self.x
    }

    /// Weeks from the first purchase to the last, t_x (0 without repeat purchases).
    pub fn t_x(&self) -> f64 {
        self.t_x
    }

    /// Weeks from the first purchase to the end of observation, T.
    pub fn t(&self) -> f64 {
        self.t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_histories_a_customer_can_have() {
        let rfm = Rfm::new(2.0, 30.43, 38.86).unwrap();
        assert_eq!((rfm.x(), rfm.t_x(), rfm.t()), (2.0, 30.43, 38.86));
        assert_eq!(
            Rfm::new(0.0, 0.0, 0.0),
            Ok(Rfm::AT_FIRST_PURCHASE),
            "first purchase at the watermark"
        );
        assert!(
            Rfm::new(3.0, 10.0, 10.0).is_ok(),
            "last purchase at the watermark"
        );
    }

    #[test]
    fn days_are_sevenths_of_a_week() {
        let rfm = Rfm::from_days(2, 21, 28).unwrap();
        assert_eq!((rfm.x(), rfm.t_x(), rfm.t()), (2.0, 3.0, 4.0));
        assert_eq!(
            Rfm::from_days(0, 1, 3),
            Err(RfmError::LastPurchase {
                x: 0.0,
                t_x: 1.0 / 7.0,
                t: 3.0 / 7.0
            })
        );
    }

    #[test]
    fn rejects_histories_no_customer_can_have() {
        for x in [-1.0, 1.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Rfm::new(x, 0.0, 1.0),
                Err(RfmError::RepeatPurchases { .. })
            ));
        }
        for t in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(matches!(Rfm::new(0.0, 0.0, t), Err(RfmError::Age { .. })));
        }
        for (x, t_x, t) in [(1.0, 5.0, 4.0), (1.0, -1.0, 4.0), (0.0, 2.0, 4.0)] {
            assert_eq!(
                Rfm::new(x, t_x, t),
                Err(RfmError::LastPurchase { x, t_x, t })
            );
        }
    }
}
