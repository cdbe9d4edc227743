-- The pipeline's restorable per-user state: `state` is an opaque binary blob written by core
-- (its format carries its own version), one row per user per write.
--
-- Ordered by (partition, user_id) so that a process that is assigned a source partition
-- restores it with one range read of the primary key: `WHERE partition = ?` touches only that
-- partition's granules. `partition` is the Kafka partition shared by all co-partitioned input
-- topics, so one user's state lives under exactly one value. ReplacingMergeTree(version) as for
-- user_profiles: restore reads with FINAL to get the latest blob per user.
CREATE TABLE IF NOT EXISTS profile_state
(
    partition UInt32,
    user_id String,
    state String,
    version UInt64,
    updated_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (partition, user_id);
