-- Records are 1 to 3 kB of JSON: most rows pass PostgreSQL's TOAST threshold and are compressed.
-- The default method (pglz) was the largest single cost of a bulk import in PostgreSQL (a fifth of
-- its time in `pglz_compress`), and is paid again on every read. lz4 compresses several times
-- faster and decompresses faster still, for a slightly larger row. Only new values use it; old
-- ones stay readable as they are. A server built without lz4 keeps pglz.
DO $$
BEGIN
    SET LOCAL default_toast_compression = 'lz4';
    ALTER TABLE enterprises ALTER COLUMN record SET COMPRESSION lz4;
    ALTER TABLE enterprise_versions ALTER COLUMN record SET COMPRESSION lz4;
    ALTER TABLE units ALTER COLUMN record SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 is not available on this server: records stay compressed with pglz';
END
$$;
