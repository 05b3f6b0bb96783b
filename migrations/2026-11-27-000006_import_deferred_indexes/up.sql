-- A bulk import into an empty register drops the secondary indexes of the tables it fills and
-- builds them once at the end (far faster than maintaining them row by row). Their definitions
-- are kept here until rebuilt, so that an import interrupted in between rebuilds them when it is
-- resumed (or `registry import` of any file finishes).
ALTER TABLE import_runs ADD COLUMN deferred_indexes text[] NOT NULL DEFAULT '{}';
