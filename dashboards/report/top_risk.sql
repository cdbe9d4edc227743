-- The users most likely to churn who have not churned yet: the operators' call list.
--
-- Question: which 20 users have the highest churn_risk, leaving out those already churned.
-- Columns:  user_id (String);
--           lifecycle_stage (String);
--           churn_risk (Float64): in [0, 1] (docs/signals.md);
--           days_inactive (UInt32);
--           last_active_at (Nullable(DateTime('UTC'))): NULL for a user never active;
--           frequency_drop (Float64);
--           orders (UInt64), revenue (Float64): what the user is worth.
-- Window:   every user's latest profile, as of the watermark in summary.sql. Churned users
--           (lifecycle_stage = 'churned': removed the staff contact, closed the account, or
--           60+ days inactive) are left out: their risk is 1 or close to it, they would fill
--           the list, and the churned alerts already name them; the list is for users who can
--           still be kept.
-- Macros:   none. Parameters: none.
-- Ties in churn_risk are broken by user_id, so the list is the same on every run.
SELECT
    user_id,
    lifecycle_stage,
    churn_risk,
    days_inactive,
    last_active_at,
    frequency_drop,
    orders,
    revenue
FROM user_profiles_current
WHERE lifecycle_stage != 'churned'
ORDER BY churn_risk DESC, user_id
LIMIT 20
