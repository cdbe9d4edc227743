-- Time to activation, in three numbers.
--
-- Question: how many users are activated, and how fast does a typical one get there?
-- Columns:  activated_users (UInt64);
--           median_hours (Float64, 1 decimal): quantileExact(0.5) of the hours from
--           first_seen_at to activated_at, i.e. the element at index floor(n / 2) of the
--           sorted values (0-based; the upper median when n is even);
--           avg_hours (Float64, 1 decimal): their mean.
--           Both are 0 when nobody is activated.
-- Window:   every activated user.
-- Macros:   none.
-- One row (an aggregate without GROUP BY), so no ORDER BY is needed.
SELECT
    count() AS activated_users,
    round(if(activated_users = 0, 0, quantileExact(0.5)(hours)), 1) AS median_hours,
    round(if(activated_users = 0, 0, avg(hours)), 1) AS avg_hours
FROM
(
    SELECT (toUInt32(assumeNotNull(activated_at)) - toUInt32(first_seen_at)) / 3600 AS hours
    FROM user_profiles_current
    WHERE activated = 1
)
