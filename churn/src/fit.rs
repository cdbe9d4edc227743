//! Maximum likelihood by Nelder–Mead, as `lifetimes`' `BetaGeoFitter` does it: over the
//! logarithms of (r, α, a, b), so that the search space is all of ℝ⁴ and no step can leave the
//! positive parameters, starting from all four at 1.
//!
//! Why Nelder–Mead: it needs the likelihood only, not its gradient (which would add digamma
//! terms to the core's formulas), and with four parameters it converges in about 130 iterations
//! (a few hundred evaluations, each one pass over the customers).

use argmin::core::{CostFunction, Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::neldermead::NelderMead;
use portrait_core::churn_model::{BgNbdParams, Rfm};

use crate::sample::Sample;

/// The result of [`fit`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// The maximum-likelihood parameters.
    pub params: BgNbdParams,
    /// The total log-likelihood at `params`, Σ ln L over the customers.
    pub log_likelihood: f64,
    /// The customers fitted.
    pub users: usize,
    /// Nelder–Mead iterations, each one or two likelihood evaluations (six when the simplex
    /// shrinks).
    pub iterations: u64,
}

/// Why [`fit`] gave no parameters.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("no customers to fit the churn model to")]
    NoCustomers,
    #[error(
        "the churn model's fit did not converge within {iterations} Nelder–Mead iterations; \
         it stopped at {last:?}"
    )]
    NotConverged { iterations: u64, last: BgNbdParams },
    #[error("the churn model's optimiser failed: {0}")]
    Optimiser(#[source] argmin::core::Error),
}

/// Iterations before giving up. CDNOW and a million synthetic customers converge in about 130;
/// the cap only stops a search that wanders.
const MAX_ITERATIONS: u64 = 5_000;

/// The simplex stops when its vertices' mean negative log-likelihoods per customer spread by
/// less than this (standard deviation). Per customer, so the same tolerance fits 2,000 and
/// 1,000,000 customers; 1e-12 is above the sum's rounding noise (about √n · ε relative, 10⁻¹³
/// for a million customers) and pins the parameters far closer than the data determine them.
const COST_TOLERANCE: f64 = 1e-12;

/// The first simplex: the start, all parameters at 1, and one vertex per parameter with that
/// parameter's logarithm moved by this much (a factor of about 1.6).
const FIRST_STEP: f64 = 0.5;

/// The maximum-likelihood (r, α, a, b) for these customers' histories.
pub fn fit(customers: &[Rfm]) -> Result<Fit, FitError> {
    if customers.is_empty() {
        return Err(FitError::NoCustomers);
    }
    let sample = Sample::new(customers);
    let start = vec![0.0; 4];
    let simplex = std::iter::once(start.clone())
        .chain((0..start.len()).map(|axis| {
            let mut vertex = start.clone();
            vertex[axis] += FIRST_STEP;
            vertex
        }))
        .collect();
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(COST_TOLERANCE)
        .map_err(FitError::Optimiser)?;
    let result = Executor::new(MeanNegativeLogLikelihood(&sample), solver)
        .configure(|state| state.max_iters(MAX_ITERATIONS))
        .run()
        .map_err(FitError::Optimiser)?;
    let state = result.state();
    let params = state
        .get_best_param()
        .and_then(|logs| from_logs(logs))
        .expect("Nelder–Mead's best vertex has a finite likelihood: the start has one");
    let iterations = state.get_iter();
    if *state.get_termination_status()
        != TerminationStatus::Terminated(TerminationReason::SolverConverged)
    {
        return Err(FitError::NotConverged {
            iterations,
            last: params,
        });
    }
    Ok(Fit {
        params,
        log_likelihood: -state.get_best_cost() * sample.len() as f64,
        users: sample.len(),
        iterations,
    })
}

/// The parameters whose logarithms these are, if all four are finite and > 0 (far out in the
/// search space, exp overflows to ∞ or underflows to 0).
fn from_logs(logs: &[f64]) -> Option<BgNbdParams> {
    let [r, alpha, a, b] = logs else {
        unreachable!("the simplex has four coordinates")
    };
    BgNbdParams::new(r.exp(), alpha.exp(), a.exp(), b.exp()).ok()
}

/// What Nelder–Mead minimises: −Σ ln L / n over the parameters' logarithms. The mean rather
/// than the sum so that [`COST_TOLERANCE`] means the same for any number of customers.
struct MeanNegativeLogLikelihood<'a>(&'a Sample<'a>);

impl CostFunction for MeanNegativeLogLikelihood<'_> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, logs: &Self::Param) -> Result<f64, argmin::core::Error> {
        let sample = self.0;
        // Outside the parameters the model allows, or where the likelihood is not a number,
        // the cost is +∞: the simplex moves away without the optimiser failing.
        let cost = from_logs(logs)
            .map(|params| -sample.log_likelihood(&params) / sample.len() as f64)
            .filter(|cost| !cost.is_nan())
            .unwrap_or(f64::INFINITY);
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_customers_is_an_error() {
        assert!(matches!(fit(&[]), Err(FitError::NoCustomers)));
    }

    #[test]
    fn the_fit_is_a_maximum() {
        // A handful of hand-made customers: the fitted likelihood beats every neighbour's.
        let customers = [
            (0.0, 0.0, 30.0),
            (0.0, 0.0, 12.0),
            (1.0, 2.0, 30.0),
            (3.0, 20.0, 25.0),
            (5.0, 9.0, 40.0),
            (8.0, 30.0, 31.0),
            (2.0, 5.0, 6.0),
        ]
        .map(|(x, t_x, t)| Rfm::new(x, t_x, t).unwrap());
        let fitted = fit(&customers).unwrap();
        assert_eq!(fitted.users, customers.len());
        let p = fitted.params;
        let total = |params: BgNbdParams| -> f64 {
            customers
                .iter()
                .map(|&rfm| params.log_likelihood(rfm))
                .sum()
        };
        assert!((total(p) - fitted.log_likelihood).abs() < 1e-9);
        for factor in [0.99, 1.01] {
            let neighbours = [
                BgNbdParams::new(p.r() * factor, p.alpha(), p.a(), p.b()),
                BgNbdParams::new(p.r(), p.alpha() * factor, p.a(), p.b()),
                BgNbdParams::new(p.r(), p.alpha(), p.a() * factor, p.b()),
                BgNbdParams::new(p.r(), p.alpha(), p.a(), p.b() * factor),
            ];
            for neighbour in neighbours {
                assert!(total(neighbour.unwrap()) < fitted.log_likelihood);
            }
        }
    }
}
