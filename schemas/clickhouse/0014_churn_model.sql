-- The BG/NBD churn model's parameters (docs/churn-model.md): one row per
-- `portrait churn-model fit`, never updated. The pipeline uses the latest row (by fitted_at,
-- then by log-likelihood) at start and, in live mode, every churn_model.refresh_interval_ms;
-- without any row it uses the published CDNOW parameters. `users` customers were fitted, with
-- the total log-likelihood `log_likelihood` after `iterations` Nelder-Mead iterations.
-- DateTime, not DateTime64: 18.16 has no sub-second time type.
CREATE TABLE IF NOT EXISTS churn_model
(
    fitted_at DateTime('UTC'),
    r Float64,
    alpha Float64,
    a Float64,
    b Float64,
    users UInt64,
    log_likelihood Float64,
    iterations UInt64
)
ENGINE = MergeTree
ORDER BY fitted_at;
