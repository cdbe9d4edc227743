-- New, churned and reactivated users per day, over the 30 days ending the report's date.
--
-- Question: how many users arrived, how many churned and how many came back, each day.
-- Columns:  day (Date): one row for each of the 30 days D-29 .. D, in order, zeros included;
--           new_users (UInt64): users whose first_seen_at falls on that day
--           (user_profiles_current);
--           churned (UInt64), reactivated (UInt64): transitions into that stage that day, in
--           event time, from the alerts (profile_alerts_unique), as in
--           dashboards/queries/churned_and_reactivated_per_day.sql. A user churning twice
--           within the 7-day alert cooldown counts once; both are 0 when the ClickHouse alert
--           sink is off.
-- Window:   the 30 days ending D, the report's date.
-- Macros:   none. Parameters: the report's date D as 'YYYY-MM-DD', bound to every placeholder.
-- The first branch gives every day a row of zeros (18.16 has no WITH FILL); the sums add the
-- counts on top. Three aggregations glued by UNION ALL rather than a JOIN, whose defaults
-- differ between 18.16 and current ClickHouse.
SELECT
    day,
    sum(new_count) AS new_users,
    sum(churned_count) AS churned,
    sum(reactivated_count) AS reactivated
FROM
(
    SELECT
        toDate(?) - number AS day,
        toUInt64(0) AS new_count,
        toUInt64(0) AS churned_count,
        toUInt64(0) AS reactivated_count
    FROM numbers(30)
    UNION ALL
    SELECT
        toDate(first_seen_at) AS day,
        count() AS new_count,
        toUInt64(0) AS churned_count,
        toUInt64(0) AS reactivated_count
    FROM user_profiles_current
    WHERE day > toDate(?) - 30
      AND day <= toDate(?)
    GROUP BY day
    UNION ALL
    SELECT
        toDate(transition_at) AS day,
        toUInt64(0) AS new_count,
        countIf(kind = 'churned') AS churned_count,
        countIf(kind = 'reactivated') AS reactivated_count
    FROM profile_alerts_unique
    WHERE kind IN ('churned', 'reactivated')
      AND day > toDate(?) - 30
      AND day <= toDate(?)
    GROUP BY day
)
GROUP BY day
ORDER BY day
