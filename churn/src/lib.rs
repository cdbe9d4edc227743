//! The maximum-likelihood fit of the BG/NBD churn model (issue 11; docs/churn-model.md).
//!
//! [`fit`] takes every customer's (x, t_x, T) and returns the parameters (r, α, a, b) under
//! which those histories are most likely, for [`portrait_core::churn_model`] to turn into each
//! customer's P(alive) and expected purchases. The model's formulas live in the core crate,
//! which has no optimiser; this crate adds the optimiser and nothing else: no I/O, so the caller
//! reads the histories (from ClickHouse or Parquet) and stores the result.
//!
//! - `sample`: the customers arranged so that the total log-likelihood costs one pass.
//! - `fit`: Nelder–Mead over the parameters' logarithms.

mod fit;
mod sample;

pub use fit::{fit, Fit, FitError};
