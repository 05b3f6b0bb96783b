-- Where each consumer of the change feed has read up to: its client, the position after the last
-- page it was sent, and when. Written with each instance's access-log batches (at most a second
-- late), read by /metrics for every consumer's lag and the slowest one's.
CREATE TABLE feed_consumers (
    client      text PRIMARY KEY,
    role        text NOT NULL,
    position    bigint NOT NULL CHECK (position >= 0),
    read_at     timestamptz NOT NULL
);
