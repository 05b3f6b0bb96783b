//! Diesel's view of the tables in `migrations/`.

diesel::table! {
    reference_data (name) {
        name -> Text,
        checksum -> Text,
        loaded_at -> Timestamptz,
    }
}

diesel::table! {
    provinces (code) {
        code -> Text,
        name -> Text,
    }
}

diesel::table! {
    wards (code) {
        code -> Text,
        province_code -> Text,
        name -> Text,
        kind -> Text,
    }
}

diesel::table! {
    legacy_wards (province_code, ward_code) {
        province_code -> Text,
        ward_code -> Text,
        province_name -> Text,
        district_code -> Text,
        district_name -> Text,
        ward_name -> Text,
        new_province_code -> Nullable<Text>,
        new_ward_code -> Nullable<Text>,
        ambiguous -> Bool,
    }
}

diesel::table! {
    vsic (edition, code) {
        edition -> Text,
        code -> Text,
        level -> SmallInt,
        name -> Text,
        parent_code -> Nullable<Text>,
    }
}

diesel::table! {
    code_prefixes (province_code) {
        province_code -> Text,
        prefix -> Text,
    }
}

diesel::table! {
    code_serials (prefix) {
        prefix -> Text,
        next_serial -> Integer,
    }
}

diesel::table! {
    api_clients (id) {
        id -> BigInt,
        name -> Text,
        role -> Text,
        key_hash -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    enterprises (code) {
        code -> Text,
        enterprise_type -> Text,
        status -> Text,
        name_vi -> Text,
        province_code -> Text,
        registered_on -> Date,
        version -> Integer,
        record -> Jsonb,
        updated_at -> Timestamptz,
        proper_name -> Text,
        read_key -> Text,
        core_key -> Text,
        abbreviation_key -> Nullable<Text>,
        foreign_key -> Nullable<Text>,
        next_due -> Nullable<Date>,
    }
}

diesel::table! {
    enterprise_versions (code, version) {
        code -> Text,
        version -> Integer,
        kind -> Text,
        record -> Json,
        changed_fields -> Array<Text>,
        actor -> Text,
        recorded_at -> Timestamptz,
        effective_on -> Date,
        reason -> Nullable<Text>,
    }
}

diesel::table! {
    feed_events (position) {
        position -> BigInt,
        code -> Text,
        version -> Integer,
        kind -> Text,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    feed_head (id) {
        id -> Integer,
        position -> BigInt,
    }
}

diesel::table! {
    units (unit_code) {
        unit_code -> Text,
        enterprise_code -> Text,
        kind -> Text,
        seq -> Integer,
        record -> Jsonb,
        registered_on -> Date,
    }
}

diesel::table! {
    idempotency_keys (client_id, key) {
        client_id -> BigInt,
        key -> Text,
        request_hash -> Bytea,
        status -> SmallInt,
        headers -> Jsonb,
        body -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    licenses (number) {
        number -> Text,
        enterprise_code -> Text,
        kind -> Text,
        issued_on -> Date,
        expires_on -> Date,
        status -> Text,
        record -> Jsonb,
        recorded_at -> Timestamptz,
        actor -> Text,
    }
}

diesel::table! {
    access_log (id) {
        id -> BigInt,
        read_at -> Timestamptz,
        client -> Text,
        role -> Text,
        code -> Nullable<Text>,
        action -> Text,
        detail -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    feed_consumers (client) {
        client -> Text,
        role -> Text,
        position -> BigInt,
        read_at -> Timestamptz,
    }
}

diesel::joinable!(wards -> provinces (province_code));
diesel::joinable!(licenses -> enterprises (enterprise_code));
diesel::joinable!(units -> enterprises (enterprise_code));

diesel::allow_tables_to_appear_in_same_query!(
    reference_data,
    provinces,
    wards,
    legacy_wards,
    vsic,
    code_prefixes,
    code_serials,
    api_clients,
    enterprises,
    enterprise_versions,
    feed_events,
    feed_head,
    units,
    idempotency_keys,
    licenses,
    access_log,
    feed_consumers,
);
