-- Churn risk distribution.
--
-- Question: how is churn_risk spread over the users, in tenths?
-- Columns:  bucket (UInt8): 0..9, floor(churn_risk * 10), so a risk of exactly k/10 is in
--           bucket k, and 1.0 (every hard-churned user, and 60+ days inactive) in bucket 9;
--           risk (String): the bucket as a percent range, '0-10%' ... '90-100%';
--           users (UInt64).
-- Window:   every user's latest profile. Buckets without users are absent.
-- Macros:   none.
-- The + 1e-9 puts a risk of exactly k/10 in bucket k: churn_risk is a float, and 6 days
-- inactive (a risk of 1/10) is stored as 1 - (1 - 6/60) = 0.09999999999999998. A risk is
-- never that close below a tenth otherwise (it is a fraction with a small denominator).
SELECT
    least(toUInt8(floor(churn_risk * 10 + 1e-9)), 9) AS bucket,
    concat(toString(bucket * 10), '-', toString(bucket * 10 + 10), '%') AS risk,
    count() AS users
FROM user_profiles_current
GROUP BY bucket, risk
ORDER BY bucket
