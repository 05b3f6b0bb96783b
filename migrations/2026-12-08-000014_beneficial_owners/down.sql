DROP INDEX enterprises_discrepancies;
DROP INDEX enterprises_people;
DROP TABLE ownership_recompute;
DROP TABLE ownership_links;
ALTER TABLE api_clients DROP CONSTRAINT api_clients_role_check;
ALTER TABLE api_clients ADD CONSTRAINT api_clients_role_check CHECK (role IN ('portal', 'transport', 'tax', 'admin'));
