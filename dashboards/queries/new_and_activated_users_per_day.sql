-- New and activated users per day.
--
-- Question: how many users arrived each day, and how many became activated each day?
-- Columns:  day (Date);
--           new_users (UInt64): users whose first_seen_at falls on that day;
--           activated_users (UInt64): users whose activated_at falls on that day.
-- Window:   the 90 days up to the pipeline's watermark day, toDate(max(updated_at)); days
--           with neither are absent.
-- Macros:   none.
--
-- Two aggregations glued by UNION ALL rather than one GROUP BY, because a user's two dates
-- usually fall on different days.
SELECT
    day,
    sum(new_count) AS new_users,
    sum(activated_count) AS activated_users
FROM
(
    SELECT
        toDate(first_seen_at) AS day,
        count() AS new_count,
        toUInt64(0) AS activated_count
    FROM user_profiles_current
    GROUP BY day
    UNION ALL
    SELECT
        toDate(assumeNotNull(activated_at)) AS day,
        toUInt64(0) AS new_count,
        count() AS activated_count
    FROM user_profiles_current
    WHERE activated = 1
    GROUP BY day
)
WHERE day > (SELECT toDate(max(updated_at)) FROM user_profiles) - 90
GROUP BY day
ORDER BY day
