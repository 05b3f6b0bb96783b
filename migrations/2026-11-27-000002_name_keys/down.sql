DROP INDEX enterprise_versions_recorded, enterprise_versions_effective;
DROP INDEX enterprises_foreign_key, enterprises_abbreviation_key, enterprises_core_key, enterprises_read_key;
ALTER TABLE enterprises DROP COLUMN foreign_key, DROP COLUMN abbreviation_key, DROP COLUMN core_key,
    DROP COLUMN read_key, DROP COLUMN proper_name;
