-- Operator alerts by kind: on the report's date, and over the 30 days ending it.
--
-- Question: how many alerts of each kind did operators get on D, against the last 30 days.
-- Columns:  kind (String): the alert kind (docs/alerts.md);
--           on_day (UInt64): alerts whose transition falls on D, in event time;
--           in_30_days (UInt64): alerts whose transition falls on D-29 .. D.
--           Each alert once (profile_alerts_unique).
-- Window:   the 30 days ending D. Kinds without alerts in it are absent; the report draws
--           them as zero. Empty when the ClickHouse alert sink is off.
-- Macros:   none. Parameters: the report's date D as 'YYYY-MM-DD', bound to every placeholder.
SELECT
    kind,
    countIf(day = toDate(?)) AS on_day,
    count() AS in_30_days
FROM
(
    SELECT
        kind,
        toDate(transition_at) AS day
    FROM profile_alerts_unique
    WHERE day > toDate(?) - 30
      AND day <= toDate(?)
)
GROUP BY kind
ORDER BY indexOf(['activated', 'at_risk', 'dormant', 'churned', 'reactivated'], kind), kind
