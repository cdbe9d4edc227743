-- Users per promotion-sensitivity tier, for the report's tier chart.
--
-- Question: how many users are in each promotion tier now.
-- Columns:  tier (String): promo_tier (docs/signals.md);
--           users (UInt64).
-- Window:   every user's latest profile, as of the watermark in summary.sql. Tiers without
--           users are absent; the report draws them as zero.
-- Macros:   none. Parameters: none.
-- Sorted from most to least sensitive, as in dashboards/queries/promotion_tiers.sql.
SELECT
    promo_tier AS tier,
    count() AS users
FROM user_profiles_current
GROUP BY tier
ORDER BY indexOf(['promo_only', 'high', 'medium', 'low', 'none', 'unknown'], tier), tier
