-- Art. 188.3: one individual may own one private enterprise. A registration of a private
-- enterprise looks up, by its owner's identity number, the other private enterprises the person
-- owns (src/store/enterprises.rs, private_enterprise_of): indexed, not a scan of the register.
CREATE INDEX enterprises_private_owner ON enterprises ((record->'owners'->0->'identity'->>'number'))
    WHERE enterprise_type = 'private_enterprise';
