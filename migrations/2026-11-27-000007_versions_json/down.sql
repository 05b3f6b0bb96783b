ALTER TABLE enterprise_versions ALTER COLUMN record TYPE jsonb USING record::jsonb;
