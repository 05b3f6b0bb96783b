-- The conversion of `revoked` records is history (new versions) and stays.
DROP INDEX enterprises_next_due;
ALTER TABLE enterprises DROP COLUMN next_due;
