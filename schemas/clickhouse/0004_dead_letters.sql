-- Input the pipeline could not use, with the reason and the Kafka coordinates to find it again.
-- `key` and `payload` are the raw message key and value as text.
--
-- Plain MergeTree: an append-only log in which each rejection, a repeated one after a replay
-- included, is a fact worth keeping. Count distinct (topic, partition, offset) for the number
-- of bad messages.
CREATE TABLE IF NOT EXISTS dead_letters
(
    received_at DateTime('UTC'),
    topic String,
    partition UInt32,
    offset Int64,
    key String,
    reason String,
    detail String,
    payload String
)
ENGINE = MergeTree
ORDER BY (topic, partition, offset);
