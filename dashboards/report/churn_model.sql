-- The churn model's parameters in force, which the calibration chart's predictions use.
--
-- Question: which BG/NBD parameters does Portrait use now, and when were they fitted.
-- Columns:  fits (UInt64): 1 when churn_model holds a fit, 0 when it is empty; the report then
--           uses the published CDNOW parameters (docs/churn-model.md) and the other columns
--           are zeros;
--           fitted_at (DateTime('UTC')): when `portrait churn-model fit` ran, by the clock of
--           the machine that ran it (not event time);
--           r, alpha, a, b (Float64): the parameters (alpha in weeks);
--           customers (UInt64): the customers the fit saw.
-- Window:   every fit stored; the latest wins (by fitted_at, then by log-likelihood), as the
--           pipeline chooses it. Not limited to fits before D: fitted_at is the wall clock and D
--           is event time, so a report on replayed events from last year would never find one.
-- Macros:   none. Parameters: none.
-- One row always (an aggregate without GROUP BY over the latest fit or nothing), so the reader
-- never meets an empty result. The inner columns are renamed because 18.16 lets an alias that
-- equals a column name replace that column inside the aggregate (any(r) AS r would recurse).
SELECT
    count() AS fits,
    any(fit_time) AS fitted_at,
    any(fit_r) AS r,
    any(fit_alpha) AS alpha,
    any(fit_a) AS a,
    any(fit_b) AS b,
    any(fit_users) AS customers
FROM
(
    SELECT
        fitted_at AS fit_time,
        r AS fit_r,
        alpha AS fit_alpha,
        a AS fit_a,
        b AS fit_b,
        users AS fit_users
    FROM churn_model
    ORDER BY fitted_at DESC, log_likelihood DESC
    LIMIT 1
)
