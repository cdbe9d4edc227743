-- Churn risk distribution.
--
-- Question: how is churn_risk spread over the users, in tenths?
-- Columns:  bucket (UInt8): 0..9, floor(churn_risk * 10), with 1.0 (every hard-churned
--           user, and 60+ days inactive) counted in bucket 9;
--           risk (String): the bucket as a percent range, '0-10%' ... '90-100%';
--           users (UInt64).
-- Window:   every user's latest profile. Buckets without users are absent.
-- Macros:   none.
SELECT
    least(toUInt8(floor(churn_risk * 10)), 9) AS bucket,
    concat(toString(bucket * 10), '-', toString(bucket * 10 + 10), '%') AS risk,
    count() AS users
FROM user_profiles_current
GROUP BY bucket, risk
ORDER BY bucket
