-- Repeat orders per week, the actual series of the calibration chart.
--
-- Question: how many repeat orders did customers place each week, up to D.
-- Columns:  week_end (Date): the last day of the week; weeks are the 7-day periods ending D,
--           D-7, D-14, ...;
--           repeat_orders (UInt64): distinct (customer, day) pairs with an order, on a day of
--           that week after the customer's first order day. Several orders of one customer on
--           one day count once, and the first order day never counts: the model's x counts
--           purchase days after the first (docs/churn-model.md).
-- Window:   the 52 weeks ending D (D-363 .. D); a customer's first order day is looked for in
--           every archived order up to D. Weeks without repeat orders are absent; the report
--           draws them as zero.
-- Macros:   none. Parameters: the report's date D as 'YYYY-MM-DD', bound to every placeholder.
-- Each customer's order days are collected once with the first of them, then unrolled (ARRAY
-- JOIN) rather than joined back to the first days: JOIN defaults differ between 18.16 and
-- current ClickHouse. groupUniqArray makes a day of several orders, or of a replayed order not
-- yet merged away, one.
SELECT
    toDate(?) - 7 * intDiv(toDate(?) - order_day, 7) AS week_end,
    count() AS repeat_orders
FROM
(
    SELECT
        groupUniqArray(day) AS order_days,
        min(day) AS first_order_day
    FROM events
    WHERE type = 'order'
      AND day <= toDate(?)
    GROUP BY user_id
)
ARRAY JOIN order_days AS order_day
WHERE order_day > first_order_day
  AND order_day > toDate(?) - 7 * 52
GROUP BY week_end
ORDER BY week_end
