-- Users per lifecycle stage, for the report's stage chart.
--
-- Question: how many users are in each lifecycle stage now.
-- Columns:  stage (String): lifecycle_stage (docs/signals.md);
--           users (UInt64).
-- Window:   every user's latest profile, as of the watermark in summary.sql. Stages without
--           users are absent; the report draws them as zero.
-- Macros:   none. Parameters: none.
-- Sorted along the lifecycle, not by size, as in dashboards/queries/lifecycle_stages.sql.
SELECT
    lifecycle_stage AS stage,
    count() AS users
FROM user_profiles_current
GROUP BY stage
ORDER BY indexOf(['new', 'active', 'reactivated', 'at_risk', 'dormant', 'churned'], stage), stage
