ALTER TABLE import_runs DROP COLUMN deferred_keys;
