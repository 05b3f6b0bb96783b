ALTER TABLE feed_events ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE SEQUENCE feed_events_position_seq OWNED BY feed_events.position;
SELECT setval('feed_events_position_seq', (SELECT position FROM feed_head));
ALTER TABLE feed_events ALTER COLUMN position SET DEFAULT nextval('feed_events_position_seq');
DROP TABLE feed_head;
