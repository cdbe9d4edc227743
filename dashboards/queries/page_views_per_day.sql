-- PV and UV per day from the event archive.
--
-- Question: how many page views, by how many distinct users, each day?
-- Columns:  day (Date);
--           pv (UInt64): page_view events, each counted once even before replayed copies
--           merge (uniqExact(event_id), docs/storage.md);
--           uv (UInt64): distinct users with a page view that day.
-- Window:   the 90 days up to the latest archived day, max(day) of events; days without
--           page views are absent.
-- Macros:   none.
SELECT
    day,
    uniqExact(event_id) AS pv,
    uniqExact(user_id) AS uv
FROM events
WHERE type = 'page_view'
  AND day > (SELECT max(day) FROM events) - 90
GROUP BY day
ORDER BY day
