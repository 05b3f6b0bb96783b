-- The history's records are written once and read whole (history, as_of, the change feed): never
-- queried inside. Kept as `json`, the text as written, they are passed through without the
-- conversion `jsonb` needs on every read (the feed's catch-up rate was bound by it) and loaded
-- without building the binary form (bulk imports). The current record (`enterprises.record`)
-- stays `jsonb`: it is queried inside.
ALTER TABLE enterprise_versions ALTER COLUMN record TYPE json USING record::json;
