-- A licence past its expiry date reads `expired` (SPEC §3), and the register records the expiry
-- as a version of its enterprise on its day: the look-up row may hold that status too, as may the
-- records an import loads.
ALTER TABLE licenses DROP CONSTRAINT licenses_status_check,
    ADD CONSTRAINT licenses_status_check CHECK (status IN ('valid', 'suspended', 'revoked', 'expired'));
