-- The RFM grid: users per recency x frequency score.
--
-- Question: where do the buying users sit on the R x F grid, and what are they worth?
-- Columns:  r, f (UInt8): rfm_r and rfm_f, 1..5;
--           segment (String): rfm_segment, the grid cell's name (docs/signals.md);
--           users (UInt64);
--           revenue_total (Float64, 2 decimals): their revenue.
-- Window:   users with at least one order (the others have no RFM scores). Empty cells are
--           absent.
-- Macros:   none.
SELECT
    assumeNotNull(rfm_r) AS r,
    assumeNotNull(rfm_f) AS f,
    assumeNotNull(rfm_segment) AS segment,
    count() AS users,
    round(sum(revenue), 2) AS revenue_total
FROM user_profiles_current
WHERE rfm_segment IS NOT NULL
GROUP BY r, f, segment
ORDER BY r DESC, f DESC
