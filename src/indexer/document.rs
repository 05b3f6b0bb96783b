//! A record as a search document.

use registry_index::EnterpriseDoc;

use crate::domain::enterprise_type;
use crate::domain::record::Enterprise;

/// The search document of a record, with the record's serialised views for look-ups by code.
pub fn document(record: &Enterprise, former_names: Vec<String>) -> EnterpriseDoc {
    let proper_name = enterprise_type::proper_name(record.enterprise_type, &record.name.vi).unwrap_or_default();
    EnterpriseDoc {
        code: record.code.clone(),
        name: record.name.vi.clone(),
        proper_name,
        name_en: record.name.en.clone(),
        abbreviation: record.name.abbreviation.clone(),
        former_names: former_names.into_iter().filter(|n| *n != record.name.vi).collect(),
        unit_names: record.units.iter().map(|u| u.name.clone()).collect(),
        unit_codes: record.units.iter().map(|u| u.unit_code.clone()).collect(),
        province_code: record.head_office.current_province_code().to_string(),
        ward_code: record.head_office.current_ward_code().to_string(),
        status: record.status.as_str().to_string(),
        enterprise_type: record.enterprise_type.as_str().to_string(),
        vsic: record.business_lines.iter().map(|l| l.vsic.clone()).collect(),
        registered_on: record.registered_on,
        record: Some(crate::indexer::cache::views(record)),
    }
}
