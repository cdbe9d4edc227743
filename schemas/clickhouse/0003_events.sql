-- Raw archive of valid input events for PV/UV and funnel queries. Only the fields those
-- queries need are kept (chat text never is); missing optional props are stored as '' or 0.
--
-- Monthly partitions keep day-range scans cheap and let old months be dropped whole. The key
-- starts with (type, day) because PV/UV and funnel steps filter by event type and a day range.
-- A replay after a crash re-inserts the same events: ReplacingMergeTree with event_id last in
-- the key collapses those copies on merge (a replayed event has the same type, ts and so day).
-- Exact counts before a merge use uniqExact(event_id) or FINAL; UV (distinct user_id) is exact
-- either way.
CREATE TABLE IF NOT EXISTS events
(
    event_id String,
    user_id String,
    type String,
    ts DateTime('UTC'),
    day Date,
    category String,
    page String,
    amount Float64,
    topic String,
    partition UInt32,
    offset UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (type, day, user_id, event_id);
