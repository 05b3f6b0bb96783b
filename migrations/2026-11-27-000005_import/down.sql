DROP TABLE import_refusals;
DROP TABLE import_runs;
