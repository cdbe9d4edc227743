//! The BG/NBD model of repeat buying (Fader, Hardie & Lee, "Counting Your Customers the Easy
//! Way", Marketing Science 2005): from three numbers per customer ([`Rfm`]), the probability
//! that the customer is still active and the purchases to expect, given the population's
//! parameters ([`BgNbdParams`]). docs/churn-model.md has the formulas and their provenance.
//!
//! The model: while active, a customer buys at a rate λ (Poisson), λ ~ Gamma(r, α) over
//! customers; after each repeat purchase the customer drops out for good with probability p,
//! p ~ Beta(a, b). Time is in weeks, as in the paper.
//!
//! This module is the mathematics only: the maximum-likelihood fit of the parameters is the
//! `portrait-churn` crate, and nothing here reads or keeps state.

mod hypergeometric;
mod rfm;

pub use hypergeometric::{hyp2f1, Hyp2f1Error};
pub use rfm::{Rfm, RfmError, DAYS_PER_WEEK};

use libm::lgamma;

/// The population's parameters: purchase rates λ ~ Gamma(shape r, rate α) (α in weeks), dropout
/// probabilities p ~ Beta(a, b). All four are > 0, which [`BgNbdParams::new`] checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BgNbdParams {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

/// A parameter [`BgNbdParams::new`] refuses.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("BG/NBD parameter {name} must be finite and > 0, got {value}")]
pub struct BgNbdParamsError {
    pub name: &'static str,
    pub value: f64,
}

/// The published fit of the CDNOW sample (the paper's table 1), the parameters in force until
/// a fit of Portrait's own customers exists: a mean purchase rate r/α of one every 18 weeks
/// while active, and a mean dropout probability a/(a+b) of 25% after each repeat purchase.
impl Default for BgNbdParams {
    fn default() -> Self {
        Self {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        }
    }
}

/// Eq. 10 divides 0 by 0 at a = 1 and, without repeat purchases, at a + b = 1; its limits there
/// are finite. It is evaluated this far from such a point instead: a step of √ε balances the
/// step's own error against the cancellation next to the singularity, both about 1e-8 relative.
const STEP_OFF_SINGULARITY: f64 = 1.490_116_119_384_765_6e-8; // f64::EPSILON.sqrt()

impl BgNbdParams {
    /// Parameters r, α, a, b, each finite and > 0.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self, BgNbdParamsError> {
        for (name, value) in [("r", r), ("alpha", alpha), ("a", a), ("b", b)] {
            if !(value > 0.0 && value.is_finite()) {
                return Err(BgNbdParamsError { name, value });
            }
        }
        Ok(Self { r, alpha, a, b })
    }

    /// Shape r of the purchase rates' gamma distribution.
    pub fn r(&self) -> f64 {
        self.r
    }

    /// Rate α of the purchase rates' gamma distribution, in weeks.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// First shape a of the dropout probabilities' beta distribution.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// Second shape b of the dropout probabilities' beta distribution.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// P(alive | x, t_x, T), the paper's eq. 12:
    ///
    /// ```text
    /// 1 / (1 + δ(x>0) · a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x))
    /// ```
    ///
    /// A customer without repeat purchases is alive for sure: the model lets customers drop out
    /// only right after a repeat purchase. The second term is computed as the exponential of
    /// its logarithm, because the power alone overflows for heavy buyers who went quiet.
    pub fn p_alive(&self, rfm: Rfm) -> f64 {
        if rfm.x() == 0.0 {
            return 1.0;
        }
        1.0 / (1.0 + self.log_odds_of_dropout(rfm).exp())
    }

    /// ln(a / (b + x − 1) · ((α + T) / (α + t_x))^(r + x)) for x > 0: the log-odds of having
    /// dropped out, P(dead) / P(alive).
    fn log_odds_of_dropout(&self, rfm: Rfm) -> f64 {
        let Self { r, alpha, a, b } = *self;
        let x = rfm.x();
        (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + rfm.t()) / (alpha + rfm.t_x())).ln()
    }

    /// E[Y(t) | x, t_x, T]: the purchases to expect in the `t` weeks after T, the paper's
    /// eq. 10:
    ///
    /// ```text
    /// (a + b + x − 1) / (a − 1)
    ///   · [1 − ((α + T) / (α + T + t))^(r + x) · ₂F₁(r + x, b + x; a + b + x − 1; z)]
    ///   · P(alive),                                                  z = t / (α + T + t)
    /// ```
    ///
    /// By Euler's transformation ₂F₁(A, B; C; z) = (1 − z)^(C−A−B) ₂F₁(C − A, C − B; C; z) the
    /// bracket is 1 − (1 − z)^(a−1) · ₂F₁(a + b − 1 − r, a − 1; a + b + x − 1; z), which is
    /// what is computed: the original ₂F₁ grows like (1 − z)^−(r+x) and overflows for heavy
    /// buyers, while the transformed one has parameters that do not grow with x (and a third
    /// that does, so its series converges faster the more a customer bought).
    ///
    /// Errors only where the series cannot be summed: z within about 4·10⁻⁵ of 1, a horizon
    /// tens of thousands of times α + T.
    pub fn expected_purchases(&self, t: f64, rfm: Rfm) -> Result<f64, Hyp2f1Error> {
        let Self {
            r,
            alpha,
            mut a,
            mut b,
        } = *self;
        let x = rfm.x();
        if a == 1.0 {
            a += STEP_OFF_SINGULARITY;
        }
        if x == 0.0 && a + b == 1.0 {
            b += STEP_OFF_SINGULARITY;
        }
        let c = a + b + x - 1.0;
        let age = alpha + rfm.t();
        let z = t / (age + t);
        let one_minus_z = age / (age + t);
        let transformed = hyp2f1(a + b - 1.0 - r, a - 1.0, c, z)?;
        let bracket = 1.0 - one_minus_z.powf(a - 1.0) * transformed;
        Ok(c / (a - 1.0) * bracket * self.p_alive(rfm))
    }

    /// E[X(t)]: the repeat purchases to expect in the first `t` weeks after a customer's first
    /// purchase, for a customer drawn at random from the population, the paper's eq. 9:
    ///
    /// ```text
    /// (a + b − 1) / (a − 1) · [1 − (α / (α + t))^r · ₂F₁(r, b; a + b − 1; t / (α + t))]
    /// ```
    ///
    /// Unconditional: nothing is known about the customer but the first purchase, which is
    /// what the calibration check needs (the repeat purchases a cohort of new customers will
    /// make, against those it made). It is eq. 10 for a customer seen at the moment of the
    /// first purchase (x = t_x = T = 0), and is computed as that, so it shares
    /// [`Self::expected_purchases`]' transformation, its steps off the removable singularities
    /// at a = 1 and a + b = 1, and its errors.
    pub fn expected_repeat_purchases(&self, t: f64) -> Result<f64, Hyp2f1Error> {
        self.expected_purchases(t, Rfm::AT_FIRST_PURCHASE)
    }

    /// ln L(r, α, a, b | x, t_x, T), one customer's log-likelihood, the paper's eq. 6:
    ///
    /// ```text
    /// L = B(a, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r + x))
    ///   + δ(x>0) · B(a + 1, b + x − 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r + x))
    /// ```
    ///
    /// as [`Self::count_log_likelihood`] + [`Self::timing_log_likelihood`].
    pub fn log_likelihood(&self, rfm: Rfm) -> f64 {
        self.count_log_likelihood(rfm.x()) + self.timing_log_likelihood(rfm)
    }

    /// The part of [`Self::log_likelihood`] that depends on the customer through x alone, the
    /// common factor of both terms of eq. 6 in logs (`lifetimes`' A₁ + A₂):
    ///
    /// ```text
    /// ln Γ(r + x) − ln Γ(r) + r ln α + ln Γ(a + b) + ln Γ(b + x) − ln Γ(b) − ln Γ(a + b + x)
    /// ```
    ///
    /// Public so that a sum over many customers computes its log-gammas once per distinct x.
    pub fn count_log_likelihood(&self, x: f64) -> f64 {
        let Self { r, alpha, a, b } = *self;
        lgamma(r + x) - lgamma(r) + r * alpha.ln() + lgamma(a + b) + lgamma(b + x)
            - lgamma(b)
            - lgamma(a + b + x)
    }

    /// The rest of [`Self::log_likelihood`]: ln(e^A₃ + δ(x>0) e^A₄) with
    ///
    /// ```text
    /// A₃ = −(r + x) ln(α + T)        A₄ = ln a − ln(b + x − 1) − (r + x) ln(α + t_x)
    /// ```
    ///
    /// summed as log-sum-exp (the larger term factored out), as `lifetimes` does, because both
    /// terms underflow for customers with many purchases.
    pub fn timing_log_likelihood(&self, rfm: Rfm) -> f64 {
        let Self { r, alpha, .. } = *self;
        let x = rfm.x();
        let alive_throughout = -(r + x) * (alpha + rfm.t()).ln();
        if x == 0.0 {
            return alive_throughout;
        }
        // A₄ − A₃ is the log-odds of dropout of `p_alive`.
        let dropped_after_last = alive_throughout + self.log_odds_of_dropout(rfm);
        let larger = alive_throughout.max(dropped_after_last);
        let smaller = alive_throughout.min(dropped_after_last);
        larger + (smaller - larger).exp().ln_1p()
    }
}

#[cfg(test)]
mod tests;
