-- A bulk import into an empty register also drops the foreign keys of the tables it fills and adds
-- them again after the load: checked row by row, each version, event, unit and licence locked its
-- enterprise's (or version's) row and paid a query of its own; added afterwards, each key is
-- checked by one join. Kept here as self-contained statements (they add the key only when it is
-- missing) until added, so that an interrupted import adds them when it is resumed.
ALTER TABLE import_runs ADD COLUMN deferred_keys text[] NOT NULL DEFAULT '{}';
