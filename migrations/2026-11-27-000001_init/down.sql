DROP TABLE idempotency_keys, units, feed_events, enterprise_versions, enterprises, api_clients,
    code_serials, code_prefixes, vsic, legacy_wards, wards, provinces, reference_data;
