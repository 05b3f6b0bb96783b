ALTER TABLE licenses DROP CONSTRAINT licenses_status_check,
    ADD CONSTRAINT licenses_status_check CHECK (status IN ('valid', 'suspended', 'revoked'));
