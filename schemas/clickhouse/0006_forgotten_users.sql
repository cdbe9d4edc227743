-- Tombstones of forgotten users (docs/security.md, "Forgetting a user"): `portrait forget`
-- writes one row per user before it deletes the user's rows everywhere else, and the pipeline
-- reads them at start and at every flush, so that no state, replayed event or later event
-- brings the user back.
--
-- forgotten_at is the server's clock at insert (DEFAULT now()), never a client's: the pipeline
-- asks for the tombstones newer than the latest one it has seen, and one clock makes "newer"
-- mean the same for every process. Ordered by (forgotten_at, user_id) so that this question
-- is a range read of the primary key, however many users were forgotten over the years.
--
-- Plain MergeTree: an append-only log of erasures, in which forgetting a user twice is two
-- facts (and still one tombstone to its readers, who collect user ids into a set). It holds
-- the forgotten ids themselves, which honouring the erasure requires.
CREATE TABLE IF NOT EXISTS forgotten_users
(
    user_id String,
    forgotten_at DateTime('UTC') DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (forgotten_at, user_id);
