-- Segment changes (docs/segments.md): one row each time a user enters or leaves a segment, a
-- named predicate over the profile columns configured under [segments]. `change` is 'entered'
-- or 'left', a String rather than an Enum8 so that the same SQL compares it here and over the
-- embedded mode's Parquet table; `segment` is a String too (no LowCardinality in shipped SQL,
-- DESIGN.md "Storage"). `at` is the watermark of the flush that saw the change, the updated_at
-- of the profile row whose values caused it; `version` is that row's version.
--
-- A flush retried after a failed write, or replayed after a crash, writes the same changes
-- again with the same versions: ReplacingMergeTree ordered by (user_id, segment, version)
-- collapses them, when parts merge. Readers that need each change once go through FINAL;
-- segment_members below does not need to (a repeat has the same version and the same values).
-- No PARTITION BY: a user's membership is decided by their latest change, however old, so no
-- time range of rows may be dropped on its own.
--
-- user_key is the user's pseudonym for analysts (docs/security.md, "Pseudonymisation"), or ''
-- when no key is set, as in 0007-0009; views over this table list their columns.
CREATE TABLE IF NOT EXISTS segment_membership
(
    user_id String,
    segment String,
    change String,
    at DateTime('UTC'),
    version UInt64,
    user_key String DEFAULT ''
)
ENGINE = ReplacingMergeTree
ORDER BY (user_id, segment, version);

-- Each user's current segments: the segments whose latest change (by version) is 'entered',
-- with when they entered. argMax picks the latest change whatever the merges did, so no
-- FINAL is needed. The aggregates have names of their own: on 18.16, `max(version) AS
-- version` would make the other aggregates' `version` refer to it.
CREATE VIEW IF NOT EXISTS segment_members AS
SELECT
    user_id,
    segment,
    entered_at,
    latest_version AS version
FROM
(
    SELECT
        user_id,
        segment,
        argMax(change, version) AS latest_change,
        argMax(at, version) AS entered_at,
        max(version) AS latest_version
    FROM segment_membership
    GROUP BY user_id, segment
)
WHERE latest_change = 'entered';
