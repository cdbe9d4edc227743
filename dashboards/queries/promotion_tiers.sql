-- Promotion tiers and discount share.
--
-- Question: how many users are in each promotion-sensitivity tier, and how much of what
--           they buy is paid for by discounts?
-- Columns:  tier (String): promo_tier (docs/signals.md);
--           users (UInt64);
--           orders_total, promo_orders_total (UInt64): their orders, and those with a
--           coupon, a promotion or a discount;
--           avg_discount_share (Float64, 4 decimals): the mean of the users' discount_share;
--           pooled_discount_share (Float64, 4 decimals): the tier's discounts over its list price,
--           sum(discount_total) / sum(revenue + discount_total), 0 without orders.
-- Window:   every user's latest profile. Tiers without users are absent.
-- Macros:   none.
-- Written in the SQL ClickHouse and DataFusion share, so that it also runs unchanged in
-- `portrait sql` over the embedded mode's Parquet tables (docs/embedded.md).
SELECT
    promo_tier AS tier,
    count(*) AS users,
    sum(orders) AS orders_total,
    sum(promo_orders) AS promo_orders_total,
    round(avg(discount_share), 4) AS avg_discount_share,
    round(CASE WHEN sum(revenue) + sum(discount_total) = 0 THEN 0
               ELSE sum(discount_total) / (sum(revenue) + sum(discount_total)) END, 4)
        AS pooled_discount_share
FROM user_profiles_current
GROUP BY promo_tier
ORDER BY CASE promo_tier
             WHEN 'promo_only' THEN 1 WHEN 'high' THEN 2 WHEN 'medium' THEN 3
             WHEN 'low' THEN 4 WHEN 'none' THEN 5 WHEN 'unknown' THEN 6 ELSE 7
         END,
         tier
