-- Churned and reactivated users per day.
--
-- Question: how many users moved into `churned`, and how many came back (`reactivated`),
--           each day?
-- Columns:  day (Date): the day of the transition, in event time;
--           churned (UInt64), reactivated (UInt64): transitions into that stage that day.
-- Source:   the alerts (profile_alerts_unique): they are the stage transitions, each at its
--           own time (docs/alerts.md). A user churning twice within the 7-day alert
--           cooldown counts once. Empty when the ClickHouse alert sink is off.
-- Window:   the 90 days up to the pipeline's watermark day, toDate(max(updated_at)); days
--           with neither are absent.
-- Macros:   none.
SELECT
    toDate(transition_at) AS day,
    countIf(kind = 'churned') AS churned,
    countIf(kind = 'reactivated') AS reactivated
FROM profile_alerts_unique
WHERE kind IN ('churned', 'reactivated')
  AND day > (SELECT toDate(max(updated_at)) FROM user_profiles) - 90
GROUP BY day
ORDER BY day
