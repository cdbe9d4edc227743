-- Time to activation, as a histogram.
--
-- Question: how long after arriving do users become activated?
-- Columns:  bucket (UInt8): 1..7, the sort order;
--           days (String): whole days from first_seen_at to activated_at, floored:
--           '0' (under 24 h), '1', '2-3', '4-7', '8-14', '15-30', '31+';
--           users (UInt64): activated users in that bucket.
-- Window:   every activated user. Buckets without users are absent.
-- Macros:   none.
SELECT
    multiIf(d < 1, 1, d < 2, 2, d < 4, 3, d < 8, 4, d < 15, 5, d < 31, 6, 7) AS bucket,
    multiIf(d < 1, '0', d < 2, '1', d < 4, '2-3', d < 8, '4-7', d < 15, '8-14', d < 31, '15-30', '31+') AS days,
    count() AS users
FROM
(
    SELECT intDiv(toUInt32(assumeNotNull(activated_at)) - toUInt32(first_seen_at), 86400) AS d
    FROM user_profiles_current
    WHERE activated = 1
)
GROUP BY bucket, days
ORDER BY bucket
