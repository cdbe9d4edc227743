//! The churn model's columns, computed the naive way: the order days of the user's full event
//! list, and the BG/NBD formulas exactly as the paper prints them (Fader, Hardie & Lee 2005,
//! eqs. 10 and 13), with the hypergeometric function summed as its plain series.
//!
//! The pipeline evaluates a transformed, overflow-safe form of eq. 10 (docs/churn-model.md);
//! for the generator's buyers (tens of repeat days at most) the plain form is exact to far
//! below the verify tolerance, so the two agree where they should.

use std::collections::BTreeSet;

use crate::time::DAY_MS;

/// The default parameters (docs/churn-model.md): the published fit of the CDNOW sample, in
/// force while no fit of Portrait's own customers exists.
const R: f64 = 0.243;
const ALPHA: f64 = 4.414;
const A: f64 = 0.793;
const B: f64 = 2.426;

/// `expected_orders_90d`'s horizon, in weeks.
const HORIZON_WEEKS: f64 = 90.0 / 7.0;

/// The churn model's columns of a buyer.
pub(crate) struct ChurnModelColumns {
    pub(crate) repeat_order_days: u32,
    pub(crate) order_span_days: u32,
    pub(crate) customer_age_days: u32,
    pub(crate) p_alive: f64,
    pub(crate) expected_orders_90d: f64,
}

/// The columns for a user whose orders were at `order_times` (epoch ms, any order), at
/// watermark `w`; `None` without orders.
pub(crate) fn churn_model_columns(order_times: &[i64], w: i64) -> Option<ChurnModelColumns> {
    let days: BTreeSet<i64> = order_times.iter().map(|ts| ts.div_euclid(DAY_MS)).collect();
    let (&first, &last) = (days.first()?, days.last()?);
    let today = w.div_euclid(DAY_MS).max(last);
    let x = (days.len() - 1) as f64;
    let t_x = (last - first) as f64 / 7.0;
    let t = (today - first) as f64 / 7.0;
    Some(ChurnModelColumns {
        repeat_order_days: days.len() as u32 - 1,
        order_span_days: (last - first) as u32,
        customer_age_days: (today - first) as u32,
        p_alive: p_alive(x, t_x, t),
        expected_orders_90d: expected_purchases(HORIZON_WEEKS, x, t_x, t),
    })
}

/// Eq. 13: P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a / (b + x − 1) · ((α + T) / (α + t_x))^(r+x)).
fn p_alive(x: f64, t_x: f64, t: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    1.0 / (1.0 + A / (B + x - 1.0) * ((ALPHA + t) / (ALPHA + t_x)).powf(R + x))
}

/// Eq. 10: E[Y(h) | x, t_x, T] =
/// (a + b + x − 1) / (a − 1) · [1 − ((α + T) / (α + T + h))^(r+x) · ₂F₁(r + x, b + x;
/// a + b + x − 1; h / (α + T + h))] · P(alive).
fn expected_purchases(h: f64, x: f64, t_x: f64, t: f64) -> f64 {
    let z = h / (ALPHA + t + h);
    let bracket = 1.0
        - ((ALPHA + t) / (ALPHA + t + h)).powf(R + x) * hyp2f1(R + x, B + x, A + B + x - 1.0, z);
    (A + B + x - 1.0) / (A - 1.0) * bracket * p_alive(x, t_x, t)
}

/// Σₙ (a)ₙ (b)ₙ / ((c)ₙ n!) zⁿ for 0 <= z < 1, until the terms no longer change the sum.
fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    let mut n = 0.0;
    loop {
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        n += 1.0;
        if sum + term == sum {
            return sum;
        }
        sum += term;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `lifetimes`' BetaGeoFitter (0.11) with the parameters above, on CDNOW's first two
    /// customers: the values checked in at churn/tests/reference/cdnow_reference.csv.
    #[test]
    fn agrees_with_lifetimes_on_cdnow_customers() {
        for (x, t_x, t, alive, expected_39w) in [
            (
                2.0,
                213.0 / 7.0,
                272.0 / 7.0,
                0.726_589_721_835_494_8,
                1.226_115_806_149_333_4,
            ),
            (
                1.0,
                12.0 / 7.0,
                272.0 / 7.0,
                0.212_260_062_554_613_3,
                0.203_351_041_086_806_57,
            ),
        ] {
            assert!((p_alive(x, t_x, t) - alive).abs() < 1e-12);
            assert!((expected_purchases(39.0, x, t_x, t) - expected_39w).abs() < 1e-12);
        }
        assert_eq!(p_alive(0.0, 0.0, 10.0), 1.0);
    }

    #[test]
    fn counts_order_days_and_weeks() {
        let day = |d: i64| d * DAY_MS + 3_600_000;
        let columns = churn_model_columns(&[day(24), day(10), day(10), day(31)], day(38)).unwrap();
        assert_eq!(
            (
                columns.repeat_order_days,
                columns.order_span_days,
                columns.customer_age_days
            ),
            (2, 21, 28)
        );
        assert!(churn_model_columns(&[], day(38)).is_none());
    }

    #[test]
    fn the_plain_series_sums_a_known_value() {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z.
        let z: f64 = 0.5;
        assert!((hyp2f1(1.0, 1.0, 2.0, z) - (-(1.0 - z).ln() / z)).abs() < 1e-15);
    }
}
