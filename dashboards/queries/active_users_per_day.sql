-- DAU, WAU and MAU from the event archive.
--
-- Question: how many distinct users were active on each day, in the 7 days and in the 30
--           days ending that day?
-- Columns:  day (Date);
--           dau, wau, mau (UInt64): distinct users with an activity event on that day, on
--           days day-6..day, on days day-29..day.
--           "Activity" is a page_view, search or order: the archive keeps no chat direction
--           or account action, and a staff message or a cancellation is no activity.
-- Window:   the 90 days up to the latest archived day, max(day) of events; the rolling
--           counts read up to 29 days further back.
-- Macros:   none.
-- Without window functions (18.16 has none): each (user, active day) is repeated for the 30
-- days whose rolling window contains it (ARRAY JOIN range(30)), then counted per day; k is
-- how many days back the activity was.
SELECT
    active_day + k AS day,
    uniqExactIf(user_id, k = 0) AS dau,
    uniqExactIf(user_id, k < 7) AS wau,
    uniqExact(user_id) AS mau
FROM
(
    SELECT DISTINCT
        day AS active_day,
        user_id
    FROM events
    WHERE type IN ('page_view', 'search', 'order')
      AND day > (SELECT max(day) FROM events) - 90 - 29
)
ARRAY JOIN range(30) AS k
WHERE day > (SELECT max(day) FROM events) - 90
  AND day <= (SELECT max(day) FROM events)
GROUP BY day
ORDER BY day
