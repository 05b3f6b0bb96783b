-- Statuses that run on time (SPEC §2.3).
--
-- `next_due` is the first day something falls due for the enterprise: a status change filed for a
-- later day (its own or a unit's), the end of a suspension (the day after `until`), a licence's
-- expiry (the day after `expires_on`). The writer computes it from the record at every write
-- (domain::schedule::next_due); the register's schedule reads the enterprises whose day has come
-- and applies what is due under each record's row lock.
ALTER TABLE enterprises ADD COLUMN next_due date;
CREATE INDEX enterprises_next_due ON enterprises (next_due) WHERE next_due IS NOT NULL;

-- What was due before this column existed: suspensions that end, licences that expire.
UPDATE enterprises e SET next_due = d.due
FROM (
    SELECT code, min(due) AS due FROM (
        SELECT code, (record->>'status_until')::date + 1 AS due FROM enterprises
            WHERE status = 'suspended' AND record ? 'status_until'
        UNION ALL
        SELECT code, (l->>'expires_on')::date + 1 FROM enterprises,
            jsonb_array_elements(CASE WHEN jsonb_typeof(record->'licenses') = 'array' THEN record->'licenses' ELSE '[]'::jsonb END) AS l
            WHERE status <> 'ceased' AND l->>'status' IN ('valid', 'suspended')
    ) AS dues GROUP BY code
) AS d
WHERE e.code = d.code;

-- Decree 168/2025 art. 35 has seven statuses: `revoked` of an earlier draft is not one. A
-- certificate revoked on other grounds than tax enforcement sends the enterprise into dissolution
-- (Law on Enterprises art. 207.1(d)): each such record gets a new version, `dissolving` with reason
-- `certificate_revoked`, by actor `migration`. Its feed event follows at commit (the trigger of
-- migration feed_at_commit), so mirrors and indexes see the change like any other.
WITH moved AS (
    UPDATE enterprises SET
        status = 'dissolving',
        version = version + 1,
        updated_at = now(),
        record = jsonb_set(jsonb_set(jsonb_set(record - 'status_until', '{status}', '"dissolving"'),
                     '{version}', to_jsonb(version + 1)), '{updated_at}', to_jsonb(now()))
    WHERE status = 'revoked'
    RETURNING code, version, record, updated_at
)
INSERT INTO enterprise_versions (code, version, kind, record, changed_fields, actor, recorded_at, effective_on, reason)
SELECT code, version, 'status_changed', record::json, ARRAY['status'], 'migration', updated_at,
       (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date, 'certificate_revoked'
FROM moved;
