-- Feed positions taken at COMMIT, not before it.
--
-- Every write takes its feed position from the one-row counter `feed_head` under its row lock,
-- held until the transaction ends, so that positions are handed out in commit order (migration
-- feed_order). Taken by the writer's last statement, the lock was held across that statement's
-- answer, the writer's COMMIT message and its way back through the service's scheduler: on two
-- busy cores, a millisecond or more in which no other write could commit. Registrations peaked at
-- about 550 a second, each waiting in line for the lock.
--
-- Now the version row's insert queues this deferred trigger, which runs inside COMMIT: the lock is
-- taken there and released when the commit is done, with no round trip in between. The guarantee
-- is the same: whatever a reader sees at position P, every position below P is final.
--
-- A bulk load (`registry import`) writes its batches' events itself, all at once, and says so with
-- `SET LOCAL registry.bulk_load = 'on'`. Were it to forget, its events would be written twice and
-- the unique (code, version) of feed_events would refuse the batch: loud, never silent.
CREATE FUNCTION registry_feed_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    p bigint;
BEGIN
    UPDATE feed_head SET position = position + 1 WHERE id = 1 RETURNING position INTO p;
    INSERT INTO feed_events (position, code, version, kind, recorded_at)
        VALUES (p, NEW.code, NEW.version, NEW.kind, NEW.recorded_at);
    -- A wake-up for long polls, delivered at commit (readers read the table, never this).
    PERFORM pg_notify('registry_feed', '');
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER enterprise_versions_feed_event
    AFTER INSERT ON enterprise_versions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (current_setting('registry.bulk_load', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION registry_feed_event();

-- The two counters every write updates stay on their own pages, so that updates are HOT and
-- reads never walk long chains of dead row versions.
ALTER TABLE feed_head SET (fillfactor = 10);
ALTER TABLE code_serials SET (fillfactor = 20);
