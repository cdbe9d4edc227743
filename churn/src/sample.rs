//! The customers of a fit, arranged for the total log-likelihood that the optimiser evaluates
//! hundreds of times.

use std::collections::BTreeMap;

use portrait_core::churn_model::{BgNbdParams, Rfm};

/// The customers, and how many of them made each number of repeat purchases.
///
/// Eq. 6's log-gamma factors depend on a customer through x alone
/// ([`BgNbdParams::count_log_likelihood`]), and x takes few values (24 among CDNOW's 2,357
/// customers), so the total computes them once per
/// distinct x, weighted by its count; only the timing term is summed per customer.
pub(crate) struct Sample<'a> {
    customers: &'a [Rfm],
    customers_by_x: Vec<(f64, f64)>,
}

impl<'a> Sample<'a> {
    pub(crate) fn new(customers: &'a [Rfm]) -> Self {
        // `Rfm` guarantees a whole x ≥ 0, so it is exact as an integer key.
        let mut counts = BTreeMap::<u64, usize>::new();
        for rfm in customers {
            *counts.entry(rfm.x() as u64).or_default() += 1;
        }
        let customers_by_x = counts
            .into_iter()
            .map(|(x, count)| (x as f64, count as f64))
            .collect();
        Self {
            customers,
            customers_by_x,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.customers.len()
    }

    /// Σ ln L over the customers: the sum of [`BgNbdParams::log_likelihood`], in one pass.
    pub(crate) fn log_likelihood(&self, params: &BgNbdParams) -> f64 {
        let counts: f64 = self
            .customers_by_x
            .iter()
            .map(|&(x, count)| count * params.count_log_likelihood(x))
            .sum();
        let timings: f64 = self
            .customers
            .iter()
            .map(|&rfm| params.timing_log_likelihood(rfm))
            .sum();
        counts + timings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn total_equals_the_sum_of_each_customers_log_likelihood() {
        let customers = [
            (0.0, 0.0, 38.86),
            (2.0, 30.43, 38.86),
            (2.0, 3.0, 10.0),
            (7.0, 30.0, 31.0),
        ]
        .map(|(x, t_x, t)| Rfm::new(x, t_x, t).unwrap());
        let params = BgNbdParams::default();
        let one_by_one: f64 = customers
            .iter()
            .map(|&rfm| params.log_likelihood(rfm))
            .sum();
        let total = Sample::new(&customers).log_likelihood(&params);
        assert!(
            (total - one_by_one).abs() < 1e-12,
            "{total} vs {one_by_one}"
        );
    }
}
