-- Look-up keys of the art. 41 name check (src/domain/name_check.rs): the store finds, by key
-- equality on these indexed columns, every registered name that could conflict, and the domain
-- code decides. Ceased enterprises do not block names, so they are left out of the indexes.
ALTER TABLE enterprises
    ADD COLUMN proper_name      text NOT NULL DEFAULT '',
    ADD COLUMN read_key         text NOT NULL DEFAULT '',
    ADD COLUMN core_key         text NOT NULL DEFAULT '',
    ADD COLUMN abbreviation_key text,
    ADD COLUMN foreign_key      text;

CREATE INDEX enterprises_read_key ON enterprises (read_key) WHERE status <> 'ceased';
CREATE INDEX enterprises_core_key ON enterprises (core_key) WHERE status <> 'ceased';
CREATE INDEX enterprises_abbreviation_key ON enterprises (abbreviation_key) WHERE status <> 'ceased' AND abbreviation_key IS NOT NULL;
CREATE INDEX enterprises_foreign_key ON enterprises (foreign_key) WHERE status <> 'ceased' AND foreign_key IS NOT NULL;

-- History is read newest first per enterprise; as_of reads by effective date and by recording time.
CREATE INDEX enterprise_versions_effective ON enterprise_versions (code, effective_on, version);
CREATE INDEX enterprise_versions_recorded ON enterprise_versions (code, recorded_at, version);
