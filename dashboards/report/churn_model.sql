-- The churn model's parameters in force, which the calibration chart's predictions use.
--
-- Question: which BG/NBD parameters does Portrait use now, and when were they fitted.
-- Columns:  fitted_at (DateTime('UTC')): when `portrait churn-model fit` ran, by the clock of
--           the machine that ran it (not event time);
--           r, alpha, a, b (Float64): the parameters (alpha in weeks);
--           customers (UInt64): the customers the fit saw.
-- Window:   every fit stored; the latest wins (by fitted_at, then by log-likelihood), as the
--           pipeline chooses it. Not limited to fits before D: fitted_at is the wall clock and D
--           is event time, so a report on replayed events from last year would never find one.
--           No row when churn_model is empty: the report then uses the published CDNOW
--           parameters (docs/churn-model.md), as the pipeline does.
-- Macros:   none. Parameters: none.
SELECT
    fitted_at,
    r,
    alpha,
    a,
    b,
    users AS customers
FROM churn_model
ORDER BY fitted_at DESC, log_likelihood DESC
LIMIT 1
