-- Top categories.
--
-- Question: which categories interest the most users?
-- Columns:  category (String);
--           users (UInt64): users with the category among their top_categories (up to 5
--           per user, docs/signals.md);
--           top1_users (UInt64): users for whom it is the first one.
-- Window:   every user's latest profile; the 20 categories with the most users, ties by
--           name (byte order of the UTF-8 text).
-- Macros:   none.
SELECT
    category,
    count() AS users,
    countIf(category_rank = 1) AS top1_users
FROM user_profiles_current
ARRAY JOIN
    top_categories AS category,
    arrayEnumerate(top_categories) AS category_rank
GROUP BY category
ORDER BY users DESC, category
LIMIT 20
