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
SELECT
    promo_tier AS tier,
    count() AS users,
    sum(orders) AS orders_total,
    sum(promo_orders) AS promo_orders_total,
    round(avg(discount_share), 4) AS avg_discount_share,
    round(if(sum(revenue) + sum(discount_total) = 0, 0,
             sum(discount_total) / (sum(revenue) + sum(discount_total))), 4) AS pooled_discount_share
FROM user_profiles_current
GROUP BY tier
ORDER BY indexOf(['promo_only', 'high', 'medium', 'low', 'none', 'unknown'], tier), tier
