//! Registration changes (đăng ký thay đổi nội dung đăng ký doanh nghiệp, Decree 168/2025): a JSON
//! Merge Patch (RFC 7396) of the registration content, checked as a whole by the same rules as a
//! registration, and the new version it makes.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use super::errors::{Errors, FieldError};
use super::record::{Enterprise, OwnerKind};
use super::registration::ValidContent;

/// Fields of the record a patch may not touch, and why.
const READ_ONLY: &[(&str, &str)] = &[
    ("code", "an enterprise code never changes"),
    ("type", "a type conversion (chuyển đổi loại hình) is its own procedure, not a registration change"),
    ("registered_on", "the registration date never changes"),
    ("status", "statuses change through POST /v1/enterprises/{code}/status"),
    ("status_until", "statuses change through POST /v1/enterprises/{code}/status"),
    ("version", "the register numbers versions"),
    ("registration_changes", "the register counts registration changes"),
    ("units", "units are registered through POST /v1/enterprises/{code}/units"),
    ("licenses", "the transport ministry records licences through POST /v1/enterprises/{code}/licenses"),
    ("updated_at", "the register records when a version is written"),
    ("discrepancies", "the register computes discrepancies from the ownership graph"),
];

/// Certificate items (SPEC §2.6): a change to one of them counts as a registration change
/// (đăng ký thay đổi lần thứ N). Contacts and business lines are notifications.
const CERTIFICATE_ITEMS: &[&str] = &[
    "name",
    "head_office.street",
    "head_office.ward_code",
    "head_office.province_code",
    "charter_capital_vnd",
    "legal_representatives",
    "owners",
];

/// A patch split into the content to merge and the change's own metadata.
#[derive(Debug, Clone)]
pub struct Patch {
    pub content: Value,
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
}

/// Splits a patch body: `effective_on` and `reason` are the change's metadata, the rest is the
/// merge patch of the content. Read-only fields are refused, each named.
pub fn split_patch(body: Value) -> Result<Patch, Vec<FieldError>> {
    let mut errors = Errors::default();
    let Value::Object(mut map) = body else {
        return Err(vec![FieldError::new(
            "",
            "not_an_object",
            "a merge patch of the registration content is a JSON object",
        )]);
    };
    for (field, why) in READ_ONLY {
        if map.contains_key(*field) {
            errors.add(*field, if *field == "type" { "type_conversion" } else { "read_only" }, *why);
        }
    }
    let effective_on = match map.remove("effective_on") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => match s.parse::<NaiveDate>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("effective_on", "invalid_date", "a date is written YYYY-MM-DD");
                None
            }
        },
        Some(_) => {
            errors.add("effective_on", "invalid_date", "a date is written YYYY-MM-DD");
            None
        }
    };
    let reason = match map.remove("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= 1000 => {
            let s = super::text::normalize(&s);
            if let Some(c) = super::text::find_control(&s) {
                errors.add("reason", "invalid_characters", format!("control characters such as {c:?} are not allowed"));
            }
            Some(s).filter(|s| !s.is_empty())
        }
        Some(Value::String(_)) => {
            errors.add("reason", "too_long", "at most 1000 characters");
            None
        }
        Some(_) => {
            errors.add("reason", "invalid_type", "the reason is text");
            None
        }
    };
    errors.into_result(Patch { content: Value::Object(map), effective_on, reason })
}

/// The record's registration content in the request's shape: what a merge patch applies to.
pub fn content_of(record: &Enterprise) -> Value {
    let mut head_office = Map::new();
    head_office.insert("street".into(), record.head_office.street.clone().into());
    head_office.insert("ward_code".into(), record.head_office.ward_code.clone().into());
    head_office.insert("province_code".into(), record.head_office.province_code.clone().into());
    if let Some(p) = &record.head_office.phone {
        head_office.insert("phone".into(), p.clone().into());
    }
    if let Some(e) = &record.head_office.email {
        head_office.insert("email".into(), e.clone().into());
    }
    let owners: Vec<Value> = record
        .owners
        .iter()
        .flatten()
        .map(|o| {
            let mut m = Map::new();
            m.insert("kind".into(), serde_json::to_value(o.kind).expect("serialises"));
            m.insert("name".into(), o.name.clone().into());
            if o.kind == OwnerKind::Individual || o.foreign_registration_number.is_some() {
                if let Some(n) = &o.nationality {
                    m.insert("nationality".into(), n.clone().into());
                }
            }
            if let Some(i) = &o.identity {
                m.insert("identity".into(), serde_json::to_value(i).expect("serialises"));
            }
            if let Some(c) = &o.enterprise_code {
                m.insert("enterprise_code".into(), c.clone().into());
            }
            if let Some(f) = &o.foreign_registration_number {
                m.insert("foreign_registration_number".into(), f.clone().into());
            }
            m.insert("capital_vnd".into(), o.capital_vnd.into());
            if let Some(p) = super::people::recorded_partner_kind(record.enterprise_type, o) {
                m.insert("partner_kind".into(), p.as_str().into());
            }
            Value::Object(m)
        })
        .collect();
    let mut content = serde_json::json!({
        "type": record.enterprise_type.as_str(),
        "name": record.name,
        "head_office": head_office,
        "charter_capital_vnd": record.charter_capital_vnd,
        "business_lines": record.business_lines.iter().map(|l| serde_json::json!({"vsic": l.vsic, "main": l.main})).collect::<Vec<_>>(),
        "legal_representatives": record.legal_representatives,
        "owners": owners,
    });
    // The declaration as a request gives it (a declared owner serialises in the input's shape).
    if let Some(list) = &record.beneficial_owners {
        content["beneficial_owners"] = serde_json::to_value(list).expect("serialises");
    }
    if let Some(reason) = record.exempt {
        content["exempt"] = reason.as_str().into();
    }
    content
}

/// Applies a merge patch (RFC 7396) to the record's content.
pub fn merged_content(record: &Enterprise, patch: &Value) -> Value {
    let mut content = content_of(record);
    json_patch::merge(&mut content, patch);
    content
}

/// The paths that differ between two records' content: `name.vi`, `head_office.street`,
/// `charter_capital_vnd`, `owners` (lists as a whole).
pub fn changed_fields(old: &Enterprise, new: &Enterprise) -> Vec<String> {
    let (a, b) = (serde_json::to_value(old).expect("serialises"), serde_json::to_value(new).expect("serialises"));
    let mut out = Vec::new();
    for key in [
        "name",
        "head_office",
        "charter_capital_vnd",
        "business_lines",
        "legal_representatives",
        "owners",
        "beneficial_owners",
        "exempt",
    ] {
        match (&a[key], &b[key]) {
            (Value::Object(x), Value::Object(y)) => {
                let mut sub: Vec<&String> = x.keys().chain(y.keys()).collect();
                sub.sort();
                sub.dedup();
                for s in sub {
                    if x.get(s) != y.get(s) {
                        out.push(format!("{key}.{s}"));
                    }
                }
            }
            (x, y) if x != y => out.push(key.to_string()),
            _ => {}
        }
    }
    out
}

/// Whether a change touches only the beneficial-owner declaration (its event is
/// `beneficial_owners_changed`, a notification, not a registration change).
pub fn is_beneficial_owners_only(changed: &[String]) -> bool {
    !changed.is_empty()
        && changed.iter().all(|f| matches!(f.as_str(), "beneficial_owners" | "exempt" | "discrepancies"))
}

/// Whether a change touches a certificate item (and so counts as a registration change).
pub fn is_certificate_change(changed: &[String]) -> bool {
    changed.iter().any(|f| CERTIFICATE_ITEMS.iter().any(|item| f == item || f.starts_with(&format!("{item}."))))
}

/// The next version of `record` with the content of `valid`, or `None` when nothing changes.
pub fn apply_change(record: &Enterprise, valid: ValidContent, at: DateTime<Utc>) -> Option<(Enterprise, Vec<String>)> {
    let mut next = record.clone();
    next.name = valid.name;
    next.head_office = valid.head_office;
    next.charter_capital_vnd = valid.charter_capital_vnd;
    next.business_lines = valid.business_lines;
    next.legal_representatives = valid.legal_representatives;
    next.owners = Some(valid.owners);
    (next.beneficial_owners, next.exempt) =
        super::beneficial_owners::BeneficialOwnership::into_fields(valid.beneficial);
    // A partnership recorded before partner kinds were kept reads them as
    // `people::recorded_partner_kind` says: writing them down is not a change of owners.
    let mut before = record.clone();
    for o in before.owners.iter_mut().flatten() {
        o.partner_kind = super::people::recorded_partner_kind(before.enterprise_type, o);
    }
    let changed = changed_fields(&before, &next);
    if changed.is_empty() {
        return None;
    }
    if is_certificate_change(&changed) {
        next.registration_changes += 1;
    }
    // Units carry the enterprise's name in theirs; they keep the name they were registered with.
    next.version += 1;
    next.updated_at = at;
    Some((next, changed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BusinessLine, HeadOffice};
    use crate::reference::tests::sample;
    use crate::reference::VsicEdition;
    use crate::registration::{self, tests::APPENDIX_A, AsRegistered, BusinessLineInput, RegistrationContent};

    fn today() -> NaiveDate {
        "2026-11-27".parse().unwrap()
    }

    fn record() -> Enterprise {
        let c: RegistrationContent = serde_json::from_str(APPENDIX_A).unwrap();
        c.validate_content(&sample(), today()).unwrap().into_new_record("0100233488".into(), today(), Utc::now())
    }

    fn change(patch: Value) -> Option<(Enterprise, Vec<String>)> {
        let r = record();
        let content: RegistrationContent = serde_json::from_value(merged_content(&r, &patch)).unwrap();
        apply_change(&r, content.validate_content(&sample(), today()).unwrap(), Utc::now())
    }

    /// A partnership recorded before partner kinds: a change of its phone number writes the kinds
    /// down but changes no owner and counts no registration change.
    #[test]
    fn partner_kinds_written_down_are_not_an_owners_change() {
        let mut body: Value = serde_json::from_str(APPENDIX_A).unwrap();
        body["type"] = "partnership".into();
        body["name"] = serde_json::json!({"vi": "Công ty hợp danh Vận tải Hoàng Long Phát"});
        for o in body["owners"].as_array_mut().unwrap() {
            o["partner_kind"] = "general".into();
        }
        let content: RegistrationContent = serde_json::from_value(body).unwrap();
        let mut old = content.validate_content(&sample(), today()).unwrap().into_new_record(
            "0100233488".into(),
            today(),
            Utc::now(),
        );
        old.owners.iter_mut().flatten().for_each(|o| o.partner_kind = None);
        let patch = serde_json::json!({"head_office": {"phone": "0243 111 2222"}});
        let content: RegistrationContent = serde_json::from_value(merged_content(&old, &patch)).unwrap();
        let (next, changed) =
            apply_change(&old, content.validate_content(&sample(), today()).unwrap(), Utc::now()).unwrap();
        assert_eq!(changed, ["head_office.phone"]);
        assert_eq!(next.registration_changes, 0);
        assert!(next.owners.iter().flatten().all(|o| o.partner_kind.is_some()), "the kinds are written down");
        let content: RegistrationContent =
            serde_json::from_value(merged_content(&old, &serde_json::json!({}))).unwrap();
        assert!(apply_change(&old, content.validate_content(&sample(), today()).unwrap(), Utc::now()).is_none());
    }

    #[test]
    fn the_content_of_a_record_is_valid_as_it_stands() {
        assert!(change(serde_json::json!({})).is_none(), "an empty patch changes nothing");
    }

    #[test]
    fn certificate_items_count_and_notifications_do_not() {
        let (next, changed) = change(serde_json::json!({"head_office": {"street": "Số 1 Tràng Tiền"}})).unwrap();
        assert_eq!(changed, ["head_office.street"]);
        assert_eq!((next.version, next.registration_changes), (2, 1));
        let (next, changed) = change(serde_json::json!({"head_office": {"phone": "0243 111 2222"}})).unwrap();
        assert_eq!(changed, ["head_office.phone"]);
        assert_eq!((next.version, next.registration_changes), (2, 0));
        let (next, changed) = change(
            serde_json::json!({"business_lines": [{"vsic": "4933", "main": true}, {"vsic": "5210", "main": false}]}),
        )
        .unwrap();
        assert_eq!(changed, ["business_lines"]);
        assert_eq!(next.registration_changes, 0);
        let (next, changed) = change(serde_json::json!({"name": {"en": null}})).unwrap();
        assert_eq!(changed, ["name.en"]);
        assert_eq!(next.registration_changes, 1);
    }

    /// The Appendix A record as imported from before the reforms: head office in legacy ward
    /// 00004 of Hà Nội (Phường Trúc Bạch, Quận Ba Đình, which kept its code in the 2025 units),
    /// business lines of VSIC 2018, one of which (6201) VSIC 2025 no longer has.
    fn imported_record() -> Enterprise {
        let mut r = record();
        let street = r.head_office.street.clone();
        let legacy = registration::legacy_head_office(&sample(), "01", "00004").unwrap();
        r.head_office = HeadOffice { street, phone: r.head_office.phone.clone(), email: None, ..legacy };
        r.business_lines = vec![line("4933", true, VsicEdition::Vsic2018), line("6201", false, VsicEdition::Vsic2018)];
        r.registered_on = "2012-03-05".parse().unwrap();
        r
    }

    fn line(vsic: &str, main: bool, edition: VsicEdition) -> BusinessLine {
        let name = sample().vsic(edition, vsic).unwrap().name.clone();
        BusinessLine { vsic: vsic.into(), main, edition, name }
    }

    fn change_imported(patch: Value) -> Result<Option<(Enterprise, Vec<String>)>, Vec<FieldError>> {
        let r = imported_record();
        let content: RegistrationContent = serde_json::from_value(merged_content(&r, &patch)).unwrap();
        let valid = content.validate_content_as_registered(&sample(), today(), AsRegistered::of(&r))?;
        Ok(apply_change(&r, valid, Utc::now()))
    }

    #[test]
    fn what_is_kept_as_registered_stays_valid_while_unchanged() {
        let r = imported_record();
        assert!(r.head_office.legacy.is_some());
        assert_eq!(r.head_office.ward_name, "Phường Trúc Bạch");
        assert_eq!(r.head_office.current_ward_code(), "00004");
        // As a new registration, neither the legacy ward nor VSIC 2018's 6201 would pass.
        let fresh: RegistrationContent = serde_json::from_value(content_of(&r)).unwrap();
        let codes: Vec<String> =
            fresh.validate_content(&sample(), today()).unwrap_err().into_iter().map(|e| e.code.into_owned()).collect();
        assert!(codes.contains(&"unknown_vsic".to_string()), "{codes:?}");

        assert!(change_imported(serde_json::json!({})).unwrap().is_none(), "nothing changes, nothing is refused");
        let (next, changed) =
            change_imported(serde_json::json!({"head_office": {"phone": "0243 111 2222"}})).unwrap().unwrap();
        assert_eq!(changed, ["head_office.phone"]);
        assert_eq!(next.head_office.legacy, r.head_office.legacy, "the legacy address is kept as registered");
        assert_eq!(next.business_lines, r.business_lines, "the lines keep their edition");
        assert_eq!(next.registration_changes, 0);
        let owners = serde_json::json!({"charter_capital_vnd": 6000000000_i64, "owners": [
            {"kind": "individual", "name": "Nguyễn Văn An", "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}, "capital_vnd": 4000000000_i64},
            {"kind": "individual", "name": "Trần Thị Bình", "nationality": "VN", "identity": {"kind": "cccd", "number": "001185054321"}, "capital_vnd": 2000000000_i64}]});
        // A record that declares no beneficial owners keeps that standing until a change touches
        // its owners: this one must declare them.
        let codes: Vec<String> =
            change_imported(owners.clone()).unwrap_err().into_iter().map(|e| e.code.into_owned()).collect();
        assert_eq!(codes, ["required"]);
        let mut declared = owners;
        declared["beneficial_owners"] = serde_json::json!([
            {"full_name": "Nguyễn Văn An", "birth_date": "1980-04-12", "nationality": "VN", "identity": {"kind": "cccd", "number": "001080012345"}, "basis": ["ownership"], "ownership_percent": 66.6667},
            {"full_name": "Trần Thị Bình", "birth_date": "1985-03-02", "nationality": "VN", "identity": {"kind": "cccd", "number": "001185054321"}, "basis": ["ownership"], "ownership_percent": 33.3333}]);
        let (next, changed) = change_imported(declared).unwrap().unwrap();
        assert_eq!(changed, ["charter_capital_vnd", "owners", "beneficial_owners"]);
        assert_eq!(next.beneficial_owners.as_ref().map(Vec::len), Some(2));
        assert_eq!(next.head_office, r.head_office);
    }

    #[test]
    fn a_line_on_the_record_keeps_its_edition_and_new_lines_use_vsic_2025() {
        // 6201 kept, the main line moved to it, a 2025 line added: editions side by side.
        let (next, changed) = change_imported(serde_json::json!({"business_lines": [
            {"vsic": "4933", "main": false}, {"vsic": "6201", "main": true}, {"vsic": "6219", "main": false}]}))
        .unwrap()
        .unwrap();
        assert_eq!(changed, ["business_lines"]);
        let editions: Vec<_> = next.business_lines.iter().map(|l| (l.vsic.as_str(), l.edition)).collect();
        assert_eq!(
            editions,
            [("4933", VsicEdition::Vsic2018), ("6201", VsicEdition::Vsic2018), ("6219", VsicEdition::Vsic2025)]
        );
        // A VSIC 2018 code not on the record is not accepted any more.
        let e = change_imported(
            serde_json::json!({"business_lines": [{"vsic": "4933", "main": true}, {"vsic": "6202", "main": false}]}),
        )
        .unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].code.as_ref()), ("business_lines[1].vsic", "unknown_vsic"));
        // Dropped and added again, it is a new line: VSIC 2025 only.
        let (next, _) =
            change_imported(serde_json::json!({"business_lines": [{"vsic": "4933", "main": true}]})).unwrap().unwrap();
        let again = RegistrationContent {
            business_lines: Some(vec![
                BusinessLineInput { vsic: Some("4933".into()), main: true },
                BusinessLineInput { vsic: Some("6201".into()), main: false },
            ]),
            ..serde_json::from_value(content_of(&next)).unwrap()
        };
        let e = again.validate_content_as_registered(&sample(), today(), AsRegistered::of(&next)).unwrap_err();
        assert_eq!(e[0].code, "unknown_vsic");
    }

    #[test]
    fn a_change_of_a_legacy_address_uses_the_2025_units() {
        let e = change_imported(serde_json::json!({"head_office": {"street": "Số 3 phố Trúc Bạch"}})).unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].code.as_ref()), ("head_office.ward_code", "legacy_units"));
        // 00004 is also a 2025 ward of Hà Nội (Phường Ba Đình), but the record's 00004 is the
        // legacy one: the same codes with a new street are refused, not silently reinterpreted.
        let e = change_imported(
            serde_json::json!({"head_office": {"street": "Số 3 phố Trúc Bạch", "ward_code": "00004", "province_code": "01"}}),
        )
        .unwrap_err();
        assert_eq!(e[0].code, "legacy_units");
        let (next, changed) = change_imported(
            serde_json::json!({"head_office": {"street": "Số 5 Nguyễn Huệ", "ward_code": "26743", "province_code": "79"}}),
        )
        .unwrap()
        .unwrap();
        assert_eq!(next.head_office.legacy, None);
        assert_eq!(next.head_office.province_name, "Thành phố Hồ Chí Minh");
        for field in ["head_office.legacy", "head_office.ward_code", "head_office.street"] {
            assert!(changed.contains(&field.to_string()), "{field} in {changed:?}");
        }
        assert_eq!(next.registration_changes, 1);
    }

    #[test]
    fn read_only_fields_and_metadata() {
        let e = split_patch(serde_json::json!({"code": "x", "type": "jsc", "units": []})).unwrap_err();
        let codes: Vec<_> = e.iter().map(|e| (e.field.as_str(), e.code.as_ref())).collect();
        assert_eq!(codes, [("code", "read_only"), ("type", "type_conversion"), ("units", "read_only")]);
        let p = split_patch(serde_json::json!({"effective_on": "2026-11-20", "reason": " Chuyển trụ sở ", "name": {}}))
            .unwrap();
        assert_eq!(p.effective_on, Some("2026-11-20".parse().unwrap()));
        assert_eq!(p.reason.as_deref(), Some("Chuyển trụ sở"));
        assert_eq!(p.content, serde_json::json!({"name": {}}));
        assert_eq!(split_patch(serde_json::json!({"effective_on": "20/11/2026"})).unwrap_err()[0].code, "invalid_date");
        assert_eq!(split_patch(serde_json::json!([1])).unwrap_err()[0].code, "not_an_object");
    }

    /// A reason or content with control characters is refused (see `text::find_control`).
    #[test]
    fn a_reason_with_control_characters_is_refused() {
        let e = split_patch(serde_json::json!({"reason": "Chuyển\u{0}trụ sở"})).unwrap_err();
        assert_eq!((e[0].field.as_str(), e[0].code.as_ref()), ("reason", "invalid_characters"));
        let e = merged_content(&record(), &serde_json::json!({"head_office": {"street": "Số 1\u{7f}"}}));
        let content: RegistrationContent = serde_json::from_value(e).unwrap();
        let errors = content.validate_content(&sample(), today()).unwrap_err();
        assert_eq!((errors[0].field.as_str(), errors[0].code.as_ref()), ("head_office.street", "invalid_characters"));
    }
}
