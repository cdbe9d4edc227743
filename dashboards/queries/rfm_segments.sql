-- RFM segments.
--
-- Question: how many buying users are in each RFM segment, and what are they worth?
-- Columns:  segment (String): rfm_segment (docs/signals.md);
--           users (UInt64);
--           revenue_total (Float64, 2 decimals): their revenue;
--           avg_revenue (Float64, 2 decimals): revenue per user.
-- Window:   users with at least one order. Segments without users are absent.
-- Macros:   none.
SELECT
    assumeNotNull(rfm_segment) AS segment,
    count() AS users,
    round(sum(revenue), 2) AS revenue_total,
    round(avg(revenue), 2) AS avg_revenue
FROM user_profiles_current
WHERE rfm_segment IS NOT NULL
GROUP BY segment
ORDER BY users DESC, segment
