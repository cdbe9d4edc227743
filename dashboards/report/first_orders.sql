-- Customers by the day of their first order: the cohorts whose repeat orders the calibration
-- chart predicts.
--
-- Question: how many customers placed their first order on each day, up to D.
-- Columns:  first_order_day (Date): the UTC day of a customer's earliest order in the event
--           archive;
--           customers (UInt64): users whose first order fell on that day.
-- Window:   every archived order up to D, however old: a customer who first ordered two years
--           ago still makes repeat orders in the chart's weeks.
-- Macros:   none. Parameters: the report's date D as 'YYYY-MM-DD', bound to every placeholder.
-- Grouped by day, not listed by customer, so that the report evaluates the model once per
-- cohort and week, however many customers there are. Replayed copies of an order (not yet
-- merged away in events) change no one's first day.
SELECT
    first_order_day,
    count() AS customers
FROM
(
    SELECT
        user_id,
        min(day) AS first_order_day
    FROM events
    WHERE type = 'order'
      AND day <= toDate(?)
    GROUP BY user_id
)
GROUP BY first_order_day
ORDER BY first_order_day
