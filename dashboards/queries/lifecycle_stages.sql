-- Lifecycle stage distribution.
--
-- Question: how many users are in each lifecycle stage right now?
-- Columns:  stage (String): lifecycle_stage (docs/signals.md);
--           users (UInt64).
-- Window:   every user's latest profile. Stages without users are absent.
-- Macros:   none.
-- Sorted along the lifecycle, not by size, so colours and bars stay put between refreshes.
SELECT
    lifecycle_stage AS stage,
    count() AS users
FROM user_profiles_current
GROUP BY stage
ORDER BY indexOf(['new', 'active', 'reactivated', 'at_risk', 'dormant', 'churned'], stage), stage
