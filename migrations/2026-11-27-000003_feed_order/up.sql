-- Feed positions in commit order, without gaps a reader could skip past.
--
-- A sequence alone does not give this: a transaction may take position 5, a later one position 6
-- and commit first, and a reader that has read 6 never sees 5. Instead every writing transaction
-- takes its position from this one-row counter as its last statement before COMMIT. The row lock
-- is held until the transaction ends, so position N+1 is handed out only after the holder of N has
-- committed (or rolled back, leaving an unused number that no event will ever take): whatever a
-- reader sees at position P, every position below P is already final. See README, "Change feed".
CREATE TABLE feed_head (
    id          integer PRIMARY KEY CHECK (id = 1),
    position    bigint NOT NULL
);
INSERT INTO feed_head (id, position) SELECT 1, coalesce(max(position), 0) FROM feed_events;

ALTER TABLE feed_events ALTER COLUMN position DROP DEFAULT;
DROP SEQUENCE IF EXISTS feed_events_position_seq;
ALTER TABLE feed_events DROP COLUMN txid;
