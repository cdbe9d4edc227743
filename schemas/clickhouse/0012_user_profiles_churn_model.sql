-- The BG/NBD churn model's columns (docs/signals.md, "Churn probability"; docs/churn-model.md),
-- all NULL for a user without orders:
-- - repeat_order_days (the model's x): distinct order days after the first;
-- - order_span_days (7 t_x): last order day - first order day;
-- - customer_age_days (7 T): max(day(W), last order day) - first order day;
-- - p_alive: the probability that the customer is still active;
-- - expected_orders_90d: the orders to expect in the next 90 days.
-- The first three are what `portrait churn-model fit` reads; the last two are computed at each
-- flush from the parameters in force (the latest row of churn_model, or the defaults).
--
-- One statement, as in 0007: 18.16 has no ADD COLUMN IF NOT EXISTS. Added last, as RowBinary
-- rows list columns in order.
ALTER TABLE user_profiles
    ADD COLUMN repeat_order_days Nullable(UInt32),
    ADD COLUMN order_span_days Nullable(UInt32),
    ADD COLUMN customer_age_days Nullable(UInt32),
    ADD COLUMN p_alive Nullable(Float64),
    ADD COLUMN expected_orders_90d Nullable(Float64);
