-- Operator alerts per day, by kind.
--
-- Question: how many alerts did operators get each day, of each kind?
-- Columns:  day (Date): the day of the transition the alert announces, in event time;
--           activated, at_risk, dormant, churned, reactivated (UInt64): alerts of that kind
--           (docs/alerts.md), each alert once (profile_alerts_unique).
-- Window:   the 90 days up to the pipeline's watermark day, toDate(max(updated_at)); days
--           without alerts are absent. Empty when the ClickHouse alert sink is off.
-- Macros:   none.
-- One column per kind (the set is closed) rather than a (day, kind) long table, so every
-- client, Grafana included, draws one series per kind without pivoting.
SELECT
    toDate(transition_at) AS day,
    countIf(kind = 'activated') AS activated,
    countIf(kind = 'at_risk') AS at_risk,
    countIf(kind = 'dormant') AS dormant,
    countIf(kind = 'churned') AS churned,
    countIf(kind = 'reactivated') AS reactivated
FROM profile_alerts_unique
WHERE day > (SELECT toDate(max(updated_at)) FROM user_profiles) - 90
GROUP BY day
ORDER BY day
