//! Expected values come from outside this module: closed forms worked out here, the paper, and
//! `lifetimes` 0.11.3 (`BetaGeoFitter` with `params_` set to the default parameters) or mpmath
//! at 30 digits, as each test says.

use super::*;

fn rfm(x: f64, t_x: f64, t: f64) -> Rfm {
    Rfm::new(x, t_x, t).unwrap()
}

fn assert_close(actual: f64, expected: f64, tolerance: f64) {
    assert!(
        (actual - expected).abs() <= tolerance,
        "{actual} is not within {tolerance:e} of {expected}"
    );
}

/// The paper's worked example: CDNOW customer 1, two repeat purchases, the last at week 30.43,
/// seen for 38.86 weeks.
fn customer_one() -> Rfm {
    rfm(2.0, 30.43, 38.86)
}

#[test]
fn new_refuses_parameters_that_are_not_positive() {
    assert!(BgNbdParams::new(0.243, 4.414, 0.793, 2.426).is_ok());
    assert_eq!(
        BgNbdParams::new(0.243, 0.0, 0.793, 2.426),
        Err(BgNbdParamsError {
            name: "alpha",
            value: 0.0
        })
    );
    assert!(BgNbdParams::new(f64::NAN, 1.0, 1.0, 1.0).is_err());
    assert!(BgNbdParams::new(1.0, 1.0, 1.0, f64::INFINITY).is_err());
}

#[test]
fn p_alive_is_one_without_repeat_purchases() {
    let params = BgNbdParams::default();
    assert_eq!(params.p_alive(rfm(0.0, 0.0, 38.86)), 1.0);
    assert_eq!(params.p_alive(rfm(0.0, 0.0, 0.0)), 1.0);
}

#[test]
fn p_alive_with_the_last_purchase_at_the_watermark_is_the_chance_of_staying() {
    // T = t_x: the power is 1, so P(alive) = 1 / (1 + a / (b + x − 1))
    // = (b + x − 1) / (a + b + x − 1), which for x = 7 is 8.426 / 9.219.
    let params = BgNbdParams::default();
    assert_close(params.p_alive(rfm(7.0, 30.0, 30.0)), 8.426 / 9.219, 1e-15);
}

#[test]
fn p_alive_equals_lifetimes() {
    let params = BgNbdParams::default();
    assert_close(params.p_alive(customer_one()), 0.726_578_570_080_673, 1e-14);
    assert_close(
        params.p_alive(rfm(1.0, 1.71, 38.86)),
        0.212_100_985_377_379_1,
        1e-14,
    );
    assert_close(
        params.p_alive(rfm(20.0, 35.0, 38.86)),
        0.803_010_172_495_923_5,
        1e-14,
    );
}

#[test]
fn p_alive_falls_with_age_and_rises_with_the_last_purchase() {
    let params = BgNbdParams::default();
    for x in [1.0, 2.0, 10.0, 100.0] {
        let ages = [10.0, 10.5, 20.0, 52.0, 104.0];
        let by_age: Vec<f64> = ages
            .iter()
            .map(|&t| params.p_alive(rfm(x, 10.0, t)))
            .collect();
        assert!(
            by_age.windows(2).all(|pair| pair[1] < pair[0]),
            "x = {x}: {by_age:?}"
        );
        let lasts = [0.0, 1.0, 5.0, 9.9];
        let by_last: Vec<f64> = lasts
            .iter()
            .map(|&t_x| params.p_alive(rfm(x, t_x, 10.0)))
            .collect();
        assert!(
            by_last.windows(2).all(|pair| pair[1] > pair[0]),
            "x = {x}: {by_last:?}"
        );
    }
}

#[test]
fn p_alive_of_a_heavy_buyer_gone_quiet_is_zero_not_nan() {
    // (α + T) / (α + t_x) to the power 1000.243 overflows; its logarithm does not.
    let p = BgNbdParams::default().p_alive(rfm(1000.0, 1.0, 100.0));
    assert_eq!(p, 0.0);
}

#[test]
fn expected_purchases_equal_the_paper_and_lifetimes() {
    let params = BgNbdParams::default();
    let expected = |x, t_x, t| params.expected_purchases(39.0, rfm(x, t_x, t)).unwrap();
    // The paper, section 5: 1.226 purchases in the next 39 weeks for customer 1.
    assert_close(expected(2.0, 30.43, 38.86), 1.226, 5e-4);
    assert_close(expected(2.0, 30.43, 38.86), 1.226_028_174_767_135, 1e-12);
    assert_close(expected(0.0, 0.0, 38.86), 0.195_098_052_011_253_96, 1e-12);
    assert_close(expected(1.0, 1.71, 38.86), 0.203_186_987_079_751_83, 1e-12);
    assert_close(expected(7.0, 30.0, 30.0), 5.711_441_833_089_035, 1e-12);
    assert_close(expected(20.0, 35.0, 38.86), 11.379_982_083_413_397, 1e-11);
}

#[test]
fn expected_purchases_start_at_zero_and_grow_with_the_horizon() {
    let params = BgNbdParams::default();
    for history in [customer_one(), rfm(0.0, 0.0, 5.0), rfm(30.0, 20.0, 21.0)] {
        assert_eq!(params.expected_purchases(0.0, history), Ok(0.0));
        let horizons = [1.0, 13.0, 39.0, 520.0];
        let by_horizon: Vec<f64> = horizons
            .iter()
            .map(|&t| params.expected_purchases(t, history).unwrap())
            .collect();
        assert!(
            by_horizon.windows(2).all(|pair| pair[1] > pair[0]),
            "{history:?}: {by_horizon:?}"
        );
    }
}

#[test]
fn expected_purchases_of_a_heavy_new_buyer_are_finite() {
    // x = 500 in the first week: the untransformed ₂F₁ would be about 10^300.
    let e = BgNbdParams::default()
        .expected_purchases(39.0, rfm(500.0, 1.0, 1.0))
        .unwrap();
    assert!(e.is_finite() && e > 100.0, "{e}");
}

#[test]
fn expected_purchases_are_continuous_through_the_removable_singularities() {
    // a = 1 (any x) and a + b = 1 (x = 0) make eq. 10 read 0/0; the value there must lie
    // between its neighbours'.
    let around = |r, b, history, a_or_b: fn(f64, f64) -> (f64, f64)| {
        [-1e-6, 0.0, 1e-6].map(|step| {
            let (a, b) = a_or_b(step, b);
            BgNbdParams::new(r, 4.414, a, b)
                .unwrap()
                .expected_purchases(39.0, history)
                .unwrap()
        })
    };
    let [below, at, above] = around(0.243, 2.426, customer_one(), |step, b| (1.0 + step, b));
    assert!(at.is_finite() && (below.min(above)..=below.max(above)).contains(&at));
    let [below, at, above] = around(0.243, 0.7, rfm(0.0, 0.0, 38.86), |step, _| {
        (0.3, 0.7 + step)
    });
    assert!(at.is_finite() && (below.min(above)..=below.max(above)).contains(&at));
}

#[test]
fn log_likelihood_without_repeat_purchases_is_the_chance_of_none() {
    // x = 0: both beta ratios are 1 and L = (α / (α + T))^r.
    let params = BgNbdParams::default();
    let t = 38.86;
    assert_close(
        params.log_likelihood(rfm(0.0, 0.0, t)),
        0.243 * (4.414_f64 / (4.414 + t)).ln(),
        1e-14,
    );
}

#[test]
fn log_likelihood_equals_eq_6_in_mpmath() {
    let params = BgNbdParams::default();
    assert_close(
        params.log_likelihood(customer_one()),
        -9.458_606_307_066_27,
        1e-12,
    );
    assert_close(
        params.log_likelihood(rfm(1.0, 1.71, 38.86)),
        -4.469_093_275_032_588,
        1e-12,
    );
    // e^A₃ and e^A₄ alone are below f64's smallest number here (A₃ ≈ −807); their log-sum-exp
    // is not.
    assert_close(
        params.log_likelihood(rfm(200.0, 50.0, 52.0)),
        49.059_595_073_921_1,
        1e-9,
    );
}

/// `lifetimes`' `expected_number_of_purchases_up_to_time` for three populations and horizons
/// from a day to two years, written by churn/tests/reference/make_reference.py.
const EXPECTED_REPEAT_PURCHASES: &str =
    include_str!("../../../churn/tests/reference/expected_repeat_purchases.csv");

#[test]
fn expected_repeat_purchases_equal_lifetimes() {
    let mut lines = EXPECTED_REPEAT_PURCHASES.lines();
    assert_eq!(
        lines.next(),
        Some("r,alpha,a,b,t,expected_repeat_purchases")
    );
    let mut checked = 0;
    for line in lines {
        let fields: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
        let [r, alpha, a, b, t, expected] = fields[..] else {
            panic!("not six numbers: {line}");
        };
        let actual = BgNbdParams::new(r, alpha, a, b)
            .unwrap()
            .expected_repeat_purchases(t)
            .unwrap();
        assert_close(actual, expected, 1e-12 * expected.abs());
        checked += 1;
    }
    assert_eq!(checked, 30);
}

#[test]
fn expected_repeat_purchases_are_continuous_through_a_equal_to_one() {
    // (a + b − 1) / (a − 1) divides by 0 at a = 1 (lifetimes returns inf there); the limit is
    // finite and the value there must lie between its neighbours'.
    let [below, at, above] = [-1e-6, 0.0, 1e-6].map(|step| {
        BgNbdParams::new(0.243, 4.414, 1.0 + step, 2.426)
            .unwrap()
            .expected_repeat_purchases(39.0)
            .unwrap()
    });
    assert!(at.is_finite() && (below.min(above)..=below.max(above)).contains(&at));
    assert_close(at, below, 1e-5 * below);
}
