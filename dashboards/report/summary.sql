-- The report's header: how many profiles there are, how fresh they are, and whether alerts
-- are stored at all.
--
-- Question: what do the profiles in ClickHouse describe, and up to when.
-- Columns:  profiles (UInt64): users with a profile;
--           as_of (DateTime('UTC')): the latest pipeline watermark a profile was written at,
--           max(updated_at). The stage, tier and risk sections describe this moment, not the
--           report's date: ClickHouse keeps each user's latest profile only.
--           1970-01-01 00:00:00 when there are no profiles;
--           alerts_stored (UInt64): every alert in profile_alerts_unique, of any day. 0 means
--           the ClickHouse alert sink is off ([alerts] clickhouse = false) or nothing was
--           raised yet, which the report says instead of drawing empty alert charts.
-- Window:   everything stored.
-- Macros:   none. Parameters: none.
-- One row (an aggregate without GROUP BY), so no ORDER BY is needed. Current ClickHouse types a
-- scalar subquery as Nullable; assumeNotNull keeps alerts_stored a UInt64 on every version, so
-- the typed reader gets the same bytes from 18.16 and from 26.
SELECT
    count() AS profiles,
    max(updated_at) AS as_of,
    assumeNotNull((SELECT count() FROM profile_alerts_unique)) AS alerts_stored
FROM user_profiles_current
