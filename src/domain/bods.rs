//! The register's beneficial-ownership data as Beneficial Ownership Data Standard 0.4 statements
//! (SPEC §7, `GET /v1/beneficial-owners/export`): for one enterprise, an entity statement, a
//! person statement and a relationship statement for each declared beneficial owner and for each
//! individual the ownership graph gives 25 % or more without a declaration, or, for an exempt
//! enterprise, one relationship to an unspecified party saying why nobody is declared.
//!
//! Choices BODS 0.4 leaves to the publisher:
//! - Records belong to one declaration subject (0.4: a record is part of "the beneficial
//!   ownership network of a particular declaration subject"): the enterprise's record is
//!   `VN-TIN-{code}`, a person's and a relationship's are under it (`VN-TIN-{code}/person/…`),
//!   so a person who owns two enterprises has a record in each declaration and the export holds
//!   no record twice.
//! - An indirect holding is one relationship from the person to the enterprise with
//!   `directOrIndirect: indirect` and its chains through the register's enterprises in `details`,
//!   not a statement for every intermediate enterprise: those enterprises are declaration
//!   subjects of their own, whose records the export already holds.
//! - `statementId` is the SHA-256 (hex, 64 characters: 0.4 wants 32 to 64) of the record id, the
//!   enterprise's version, the statement date and the record details: the same content gives
//!   the same id, any change a new one, and two records never share one.
//!
//! Pure: the caller gives the record, the graph computed for it, and the publication time.

mod countries;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::beneficial_owners::{Basis, BeneficialOwner, Chain, Computed, ComputedOwner, ExemptReason};
use super::record::{Enterprise, IdentityKind};

/// The version of the standard the statements follow.
pub const BODS_VERSION: &str = "0.4";

/// The publisher named in every statement.
pub const PUBLISHER: &str = "Cơ sở dữ liệu quốc gia về đăng ký doanh nghiệp";

/// org-id.guide's scheme for the Vietnamese tax identification number, which is the enterprise
/// code (mã số doanh nghiệp, SPEC §2.1).
pub const ENTERPRISE_SCHEME: &str = "VN-TIN";
const ENTERPRISE_SCHEME_NAME: &str = "Mã số doanh nghiệp / Mã số thuế";

/// BODS person identifier schemes are `{ISO 3166-1 alpha-3}-{PASSPORT|TAXID|IDCARD}`.
const CCCD_SCHEME: &str = "VNM-IDCARD";
const CCCD_SCHEME_NAME: &str = "Căn cước công dân / Căn cước (CCCD)";
const PASSPORT_SCHEME_NAME: &str = "Hộ chiếu (passport)";

/// Declared and computed shares are rounded to four decimals; closer than this they are equal.
const SHARE_TOLERANCE: f64 = 0.005;

/// The enterprise's record id, the `declarationSubject` of all its statements.
pub fn entity_record_id(code: &str) -> String {
    format!("{ENTERPRISE_SCHEME}-{code}")
}

/// The statements for one enterprise, in the order BODS wants them (a relationship after both
/// its parties): the enterprise, then each beneficial owner's person and relationship
/// statements, declared ones first, then the computed individuals at or above the threshold who
/// are not declared; or the enterprise and its exemption. `computed` is the ownership graph
/// followed from this enterprise ([`super::beneficial_owners::computed`]); without it only the
/// declaration is stated.
pub fn statements(record: &Enterprise, computed: Option<&Computed>, published: DateTime<Utc>) -> Vec<Value> {
    debug_assert!(computed.is_none_or(|c| c.enterprise_code == record.code), "a graph computed for another enterprise");
    let declaration = Declaration::new(record, published);
    let mut out = vec![declaration.entity()];
    if let Some(reason) = record.exempt {
        out.push(declaration.exemption(reason));
        return out;
    }
    let declared = record.beneficial_owners.as_deref().unwrap_or_default();
    for owner in declared {
        let chains = computed.and_then(|c| c.individuals.iter().find(|p| p.identity_number == owner.identity.number));
        let complete = computed.is_some_and(Computed::complete);
        out.push(declaration.declared_person(owner));
        out.push(declaration.declared_relationship(owner, chains, complete));
    }
    if let Some(computed) = computed {
        for person in computed.at_threshold() {
            if declared.iter().any(|d| d.identity.number == person.identity_number) {
                continue;
            }
            out.push(declaration.computed_person(person));
            out.push(declaration.computed_relationship(person, computed.complete()));
        }
    }
    out
}

/// What every statement about one enterprise shares.
struct Declaration<'a> {
    record: &'a Enterprise,
    subject: String,
    /// The day the register recorded this version (UTC+7): the declaration's date.
    declared_on: NaiveDate,
    /// The day of publication: the date of what the register computes for it.
    published_on: NaiveDate,
    publication: Value,
    /// `new` for the first version of the enterprise, `updated` after.
    record_status: &'static str,
}

/// Who says what a statement says.
enum Source {
    /// The register's own record of the enterprise.
    Register,
    /// The enterprise's declaration, filed with the register.
    Declared,
    /// The register, following the owners recorded along each chain.
    Computed,
}

impl<'a> Declaration<'a> {
    fn new(record: &'a Enterprise, published: DateTime<Utc>) -> Self {
        Declaration {
            record,
            subject: entity_record_id(&record.code),
            // Dates in UTC, as BODS consumers (and libcovebods' future-date checks) read them: the
            // Vietnamese legal day runs 7 hours ahead of them.
            declared_on: record.updated_at.date_naive(),
            published_on: published.date_naive(),
            publication: json!({
                "publicationDate": published.date_naive().to_string(),
                "bodsVersion": BODS_VERSION,
                "publisher": {"name": PUBLISHER},
            }),
            record_status: if record.version <= 1 { "new" } else { "updated" },
        }
    }

    fn statement(
        &self,
        record_id: String,
        record_type: &str,
        details: Value,
        source: Source,
        annotations: Vec<Value>,
    ) -> Value {
        let date = match source {
            Source::Register | Source::Declared => self.declared_on,
            Source::Computed => self.published_on,
        };
        let source = match source {
            Source::Register => json!({
                "type": ["officialRegister"],
                "description": "Recorded in the national enterprise register",
            }),
            Source::Declared => json!({
                "type": ["selfDeclaration"],
                "description": "Declared by the enterprise to the national enterprise register (Law on Enterprises as amended by 76/2025/QH15)",
                "assertedBy": [{"name": self.record.name.vi}],
            }),
            Source::Computed => json!({
                "type": ["officialRegister"],
                "description": "Computed by the national enterprise register from the owners recorded along each ownership chain",
            }),
        };
        let mut statement = Map::new();
        statement.insert("statementId".into(), statement_id(&record_id, self.record.version, date, &details).into());
        statement.insert("declarationSubject".into(), self.subject.clone().into());
        statement.insert("statementDate".into(), date.to_string().into());
        statement.insert("recordId".into(), record_id.into());
        statement.insert("recordType".into(), record_type.into());
        statement.insert("recordStatus".into(), self.record_status.into());
        statement.insert("recordDetails".into(), details);
        statement.insert("publicationDetails".into(), self.publication.clone());
        statement.insert("source".into(), source);
        if !annotations.is_empty() {
            statement.insert("annotations".into(), annotations.into());
        }
        Value::Object(statement)
    }

    fn entity(&self) -> Value {
        let r = self.record;
        let office = &r.head_office;
        let mut details = json!({
            "isComponent": false,
            "entityType": {"type": "registeredEntity"},
            "name": r.name.vi,
            "jurisdiction": {"name": "Viet Nam", "code": "VN"},
            "identifiers": [{"id": r.code, "scheme": ENTERPRISE_SCHEME, "schemeName": ENTERPRISE_SCHEME_NAME}],
            "foundingDate": r.registered_on.to_string(),
            "addresses": [{
                "type": "registered",
                "address": format!("{}, {}, {}", office.street, office.ward_name, office.province_name),
                "country": {"name": "Viet Nam", "code": "VN"},
            }],
        });
        let alternate: Vec<&String> = [&r.name.en, &r.name.abbreviation].into_iter().flatten().collect();
        if !alternate.is_empty() {
            details["alternateNames"] = json!(alternate);
        }
        match r.exempt {
            Some(ExemptReason::Listed) => details["publicListing"] = json!({"hasPublicListing": true}),
            Some(ExemptReason::StateOwned) => {
                details["entityType"]["details"] = "Doanh nghiệp nhà nước (state-owned enterprise)".into()
            }
            None => {}
        }
        self.statement(self.subject.clone(), "entity", details, Source::Register, Vec::new())
    }

    /// An exempt enterprise declares nobody: BODS 0.4 says so with a relationship whose
    /// interested party is unspecified, for the reason `subjectExemptFromDisclosure`.
    fn exemption(&self, reason: ExemptReason) -> Value {
        let description = match reason {
            ExemptReason::Listed => {
                "Công ty niêm yết: a company listed on a stock exchange is exempt from declaring its beneficial owners"
            }
            ExemptReason::StateOwned => {
                "Doanh nghiệp nhà nước: a state-owned enterprise is exempt from declaring its beneficial owners"
            }
        };
        let details = json!({
            "isComponent": false,
            "subject": self.subject,
            "interestedParty": {"reason": "subjectExemptFromDisclosure", "description": description},
        });
        self.statement(
            format!("{}/relationship/exempt", self.subject),
            "relationship",
            details,
            Source::Declared,
            Vec::new(),
        )
    }

    fn person_record_id(&self, identity_number: &str) -> String {
        format!("{}/person/{}", self.subject, person_key(identity_number))
    }

    fn relationship_record_id(&self, identity_number: &str) -> String {
        format!("{}/relationship/{}", self.subject, person_key(identity_number))
    }

    fn declared_person(&self, owner: &BeneficialOwner) -> Value {
        let mut details = person_details(&owner.full_name);
        let nationality = countries::country(&owner.nationality);
        if let Some((_, name)) = nationality {
            details["nationalities"] = json!([{"name": name, "code": owner.nationality}]);
        }
        details["birthDate"] = owner.birth_date.to_string().into();
        if let Some(identifier) = identifier(owner.identity.kind, &owner.identity.number, Some(&owner.nationality)) {
            details["identifiers"] = json!([identifier]);
        }
        if let Some(address) = &owner.contact_address {
            details["addresses"] = json!([{"type": "service", "address": address}]);
        }
        self.statement(self.person_record_id(&owner.identity.number), "person", details, Source::Declared, Vec::new())
    }

    fn declared_relationship(
        &self,
        owner: &BeneficialOwner,
        computed: Option<&ComputedOwner>,
        complete: bool,
    ) -> Value {
        let mut interests = Vec::new();
        if let Some(percent) = owner.ownership_percent {
            let beneficial = owner.basis.contains(&Basis::Ownership);
            let direct = self.direct_share(&owner.identity.number);
            let chains: Vec<&Chain> = computed.map(|c| indirect_chains(c)).unwrap_or_default();
            // The declaration gives direct plus indirect; the record's owners give the direct part.
            if direct > 0.0 {
                interests.push(shareholding("direct", beneficial, json!({"exact": direct.min(percent)}), None));
            }
            if percent > direct + SHARE_TOLERANCE {
                let indirect = round4(percent - direct);
                let details = (!chains.is_empty()).then(|| chains_text(&chains, complete));
                interests.push(shareholding("indirect", beneficial, json!({"exact": indirect}), details));
            }
        }
        if owner.basis.contains(&Basis::Control) {
            let mut control = json!({
                "type": "otherInfluenceOrControl",
                "directOrIndirect": "unknown",
                "beneficialOwnershipOrControl": true,
            });
            if let Some(text) = &owner.control {
                control["details"] = text.clone().into();
            }
            interests.push(control);
        }
        let details = json!({
            "isComponent": false,
            "subject": self.subject,
            "interestedParty": self.person_record_id(&owner.identity.number),
            "interests": interests,
        });
        self.statement(
            self.relationship_record_id(&owner.identity.number),
            "relationship",
            details,
            Source::Declared,
            Vec::new(),
        )
    }

    /// An individual the register computes at 25 % or more whom the enterprise did not declare
    /// (a discrepancy, SPEC §7). The graph gives a name and an identity number; the kind of
    /// document and the nationality come from the enterprise's own owners when the person is one.
    fn computed_person(&self, person: &ComputedOwner) -> Value {
        let mut details = person_details(&person.name);
        let owner = self
            .record
            .owners
            .iter()
            .flatten()
            .find(|o| o.identity.as_ref().is_some_and(|i| i.number == person.identity_number));
        let nationality = owner.and_then(|o| o.nationality.as_deref());
        if let Some((code, (_, name))) = nationality.and_then(|n| Some((n, countries::country(n)?))) {
            details["nationalities"] = json!([{"name": name, "code": code}]);
        }
        // A CCCD is twelve digits (SPEC §2.5); a passport's issuing country is not on the graph.
        let kind = owner.and_then(|o| o.identity.as_ref()).map(|i| i.kind).or_else(|| {
            let cccd = person.identity_number.len() == 12 && person.identity_number.bytes().all(|b| b.is_ascii_digit());
            cccd.then_some(IdentityKind::Cccd)
        });
        let mut annotations = vec![discrepancy_annotation()];
        match kind.and_then(|k| identifier(k, &person.identity_number, nationality)) {
            Some(identifier) => details["identifiers"] = json!([identifier]),
            None => annotations.push(json!({
                "motivation": "commenting",
                "statementPointerTarget": "",
                "description": format!(
                    "Identity document number {} (a passport whose issuing country the ownership graph does not record)",
                    person.identity_number
                ),
            })),
        }
        self.statement(self.person_record_id(&person.identity_number), "person", details, Source::Computed, annotations)
    }

    fn computed_relationship(&self, person: &ComputedOwner, complete: bool) -> Value {
        let direct: f64 = person.chains.iter().filter(|c| c.links.len() == 1).map(|c| c.share_percent).sum();
        let chains = indirect_chains(person);
        let indirect: f64 = chains.iter().map(|c| c.share_percent).sum();
        let mut interests = Vec::new();
        if direct > 0.0 {
            interests.push(shareholding("direct", true, json!({"exact": round4(direct)}), None));
        }
        if !chains.is_empty() {
            // Where the graph is incomplete, what it shows is a lower bound.
            let share =
                if complete { json!({"exact": round4(indirect)}) } else { json!({"minimum": round4(indirect)}) };
            interests.push(shareholding("indirect", true, share, Some(chains_text(&chains, complete))));
        }
        let details = json!({
            "isComponent": false,
            "subject": self.subject,
            "interestedParty": self.person_record_id(&person.identity_number),
            "interests": interests,
        });
        let record_id = self.relationship_record_id(&person.identity_number);
        self.statement(record_id, "relationship", details, Source::Computed, vec![discrepancy_annotation()])
    }

    /// The person's direct share of the charter capital, from the record's owners; 0 when the
    /// person is not one.
    fn direct_share(&self, identity_number: &str) -> f64 {
        self.record
            .owners
            .iter()
            .flatten()
            .filter(|o| o.identity.as_ref().is_some_and(|i| i.number == identity_number))
            .map(|o| o.share_percent)
            .sum()
    }
}

fn person_details(full_name: &str) -> Value {
    json!({
        "isComponent": false,
        "personType": "knownPerson",
        "names": [{"type": "legal", "fullName": full_name}],
    })
}

/// An identity document as a BODS identifier; `None` for a passport of unknown country (the
/// scheme names the issuing country, taken to be the nationality).
fn identifier(kind: IdentityKind, number: &str, nationality: Option<&str>) -> Option<Value> {
    let (scheme, scheme_name) = match kind {
        IdentityKind::Cccd => (CCCD_SCHEME.to_string(), CCCD_SCHEME_NAME),
        IdentityKind::Passport => {
            let (alpha3, _) = countries::country(nationality?)?;
            (format!("{alpha3}-PASSPORT"), PASSPORT_SCHEME_NAME)
        }
    };
    Some(json!({"id": number, "scheme": scheme, "schemeName": scheme_name}))
}

fn shareholding(direct_or_indirect: &str, beneficial: bool, share: Value, details: Option<String>) -> Value {
    let mut interest = json!({
        "type": "shareholding",
        "directOrIndirect": direct_or_indirect,
        "beneficialOwnershipOrControl": beneficial,
        "share": share,
    });
    if let Some(details) = details {
        interest["details"] = details.into();
    }
    interest
}

fn discrepancy_annotation() -> Value {
    json!({
        "motivation": "commenting",
        "statementPointerTarget": "",
        "description": "Not declared by the enterprise: the register computes that this individual owns 25 % or more of the charter capital, directly or indirectly (a discrepancy, flagged for the authorities)",
        "createdBy": {"name": PUBLISHER},
    })
}

/// The chains through at least one other enterprise.
fn indirect_chains(person: &ComputedOwner) -> Vec<&Chain> {
    person.chains.iter().filter(|c| c.links.len() > 1).collect()
}

/// The chains in words, from the person down to the enterprise: C ← B 50 % ← A 60 % ← person
/// 100 % reads "holds 100 % of A, which holds 60 % of B, which holds 50 % of C: 30 %".
fn chains_text(chains: &[&Chain], complete: bool) -> String {
    let each: Vec<String> = chains
        .iter()
        .map(|chain| {
            let steps: Vec<String> =
                chain.links.iter().rev().map(|l| format!("{} % of {}", l.share_percent, l.enterprise_code)).collect();
            format!("holds {}: {} %", steps.join(", which holds "), chain.share_percent)
        })
        .collect();
    let caveat = if complete {
        ""
    } else {
        " (the register's ownership graph is incomplete for this enterprise: the share may be larger)"
    };
    format!("Through the enterprises of the register: {}{caveat}", each.join("; "))
}

/// A stable key for a person within one declaration, without their identity number in clear.
fn person_key(identity_number: &str) -> String {
    hex(&Sha256::digest(format!("person\n{identity_number}").as_bytes())[..16])
}

fn statement_id(record_id: &str, version: i32, date: NaiveDate, details: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(format!("bods-0.4\n{record_id}\n{version}\n{date}\n").as_bytes());
    hasher.update(details.to_string().as_bytes());
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use super::*;
    use crate::beneficial_owners::{computed, holdings, Holding};

    const AN: &str = "001080012345";
    const BINH: &str = "079085000002";
    const CUONG: &str = "001075000003";

    fn published() -> DateTime<Utc> {
        "2026-03-02T03:00:00Z".parse().unwrap()
    }

    /// A record as the register keeps it, with `owners` (JSON) and its beneficial ownership
    /// (`{"beneficial_owners": [...]}`, `{"exempt": "listed"}` or `{}`).
    fn record(code: &str, version: i32, owners: Value, ownership: Value) -> Enterprise {
        let mut r = json!({
            "code": code, "type": "llc_multi",
            "name": {"vi": format!("Công ty TNHH Sao Mai {code}"), "en": format!("Sao Mai {code} Co., Ltd")},
            "status": "active", "registered_on": "2025-08-01", "version": version, "registration_changes": 0,
            "head_office": {"street": "12 Hàng Bài", "ward_code": "00070", "ward_name": "Phường Hoàn Kiếm",
                            "province_code": "01", "province_name": "Thành phố Hà Nội"},
            "charter_capital_vnd": 1_000_000_000i64, "business_lines": [], "legal_representatives": [],
            "owners": owners, "units": [], "updated_at": "2026-02-27T09:30:00Z",
        });
        r.as_object_mut().unwrap().extend(ownership.as_object().unwrap().clone());
        serde_json::from_value(r).unwrap()
    }

    fn person(name: &str, number: &str, share: f64) -> Value {
        json!({"kind": "individual", "name": name, "nationality": "VN",
               "identity": {"kind": "cccd", "number": number},
               "capital_vnd": (share * 10_000_000.0) as i64, "share_percent": share})
    }

    fn company(code: &str, share: f64) -> Value {
        json!({"kind": "organisation", "name": format!("Công ty TNHH Sao Mai {code}"), "enterprise_code": code,
               "capital_vnd": (share * 10_000_000.0) as i64, "share_percent": share})
    }

    fn declared(name: &str, number: &str, percent: Option<f64>, control: Option<&str>) -> Value {
        let mut basis = Vec::new();
        percent.filter(|p| *p >= 25.0).inspect(|_| basis.push("ownership"));
        control.inspect(|_| basis.push("control"));
        json!({"full_name": name, "birth_date": "1980-04-12", "nationality": "VN",
               "identity": {"kind": "cccd", "number": number}, "basis": basis,
               "ownership_percent": percent, "control": control,
               "contact_address": "12 Hàng Bài, Hà Nội"})
    }

    fn kinds(statements: &[Value]) -> Vec<&str> {
        statements.iter().map(|s| s["recordType"].as_str().unwrap()).collect()
    }

    /// An and Bình own 60 % and 40 %; An also appoints the director.
    fn with_declared_owners() -> Enterprise {
        record(
            "0100233488",
            3,
            json!([person("Nguyễn Văn An", AN, 60.0), person("Trần Thị Bình", BINH, 40.0)]),
            json!({"beneficial_owners": [
                declared("Nguyễn Văn An", AN, Some(60.0), Some("appoints the director")),
                declared("Trần Thị Bình", BINH, Some(40.0), None),
            ]}),
        )
    }

    /// SPEC §7's chain: Cường owns A outright, A holds 60 % of B, B 50 % of C; C's other half is
    /// Bình's, who declared it. Cường's 30 % of C is not declared.
    fn chain() -> (Enterprise, Computed) {
        let a = record("0100000001", 1, json!([person("Lê Văn Cường", CUONG, 100.0)]), json!({}));
        let b = record(
            "0100000002",
            1,
            json!([company("0100000001", 60.0), person("Trần Thị Bình", BINH, 40.0)]),
            json!({}),
        );
        let c = record(
            "0100000003",
            1,
            json!([company("0100000002", 50.0), person("Trần Thị Bình", BINH, 50.0)]),
            json!({"beneficial_owners": [declared("Trần Thị Bình", BINH, Some(70.0), None)]}),
        );
        let register: HashMap<String, Vec<Holding>> =
            [&a, &b, &c].iter().map(|r| (r.code.clone(), holdings(r.owners.as_deref().unwrap()))).collect();
        let graph = computed(&c.code, &|code: &str| register.get(code).cloned());
        (c, graph)
    }

    fn interests(statement: &Value) -> &Vec<Value> {
        statement["recordDetails"]["interests"].as_array().unwrap()
    }

    #[test]
    fn declared_owners_give_a_person_and_a_relationship_each() {
        let s = statements(&with_declared_owners(), None, published());
        assert_eq!(kinds(&s), ["entity", "person", "relationship", "person", "relationship"]);

        let entity = &s[0];
        assert_eq!(entity["recordId"], "VN-TIN-0100233488");
        assert_eq!(entity["declarationSubject"], "VN-TIN-0100233488");
        assert_eq!(entity["recordStatus"], "updated");
        assert_eq!(entity["statementDate"], "2026-02-27");
        assert_eq!(entity["publicationDetails"]["bodsVersion"], "0.4");
        assert_eq!(entity["publicationDetails"]["publicationDate"], "2026-03-02");
        assert_eq!(entity["publicationDetails"]["publisher"]["name"], PUBLISHER);
        let details = &entity["recordDetails"];
        assert_eq!(details["entityType"]["type"], "registeredEntity");
        assert_eq!(
            details["identifiers"][0],
            json!({"id": "0100233488", "scheme": "VN-TIN", "schemeName": ENTERPRISE_SCHEME_NAME})
        );
        assert_eq!(details["foundingDate"], "2025-08-01");
        assert_eq!(details["addresses"][0]["type"], "registered");
        assert_eq!(details["alternateNames"], json!(["Sao Mai 0100233488 Co., Ltd"]));

        let an = &s[1]["recordDetails"];
        assert_eq!(an["personType"], "knownPerson");
        assert_eq!(an["names"][0]["fullName"], "Nguyễn Văn An");
        assert_eq!(an["birthDate"], "1980-04-12");
        assert_eq!(an["nationalities"], json!([{"name": "Viet Nam", "code": "VN"}]));
        assert_eq!(an["identifiers"][0]["scheme"], "VNM-IDCARD");
        assert_eq!(an["identifiers"][0]["id"], AN);
        assert_eq!(s[1]["source"]["type"], json!(["selfDeclaration"]));

        let rel = &s[2];
        assert_eq!(rel["recordDetails"]["subject"], "VN-TIN-0100233488");
        assert_eq!(rel["recordDetails"]["interestedParty"], s[1]["recordId"]);
        assert_eq!(
            interests(rel),
            &vec![
                json!({"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": true,
                       "share": {"exact": 60.0}}),
                json!({"type": "otherInfluenceOrControl", "directOrIndirect": "unknown",
                       "beneficialOwnershipOrControl": true, "details": "appoints the director"}),
            ]
        );
        assert_eq!(interests(&s[4]).len(), 1);
    }

    #[test]
    fn a_chain_a_b_c_gives_the_undeclared_owner_of_a_an_indirect_relationship() {
        let (c, graph) = chain();
        let s = statements(&c, Some(&graph), published());
        assert_eq!(kinds(&s), ["entity", "person", "relationship", "person", "relationship"]);

        // Bình declared 70 %: 50 % directly, the rest through B (40 % of B's 50 %: 20 %).
        assert_eq!(
            interests(&s[2]),
            &vec![
                json!({"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": true,
                       "share": {"exact": 50.0}}),
                json!({"type": "shareholding", "directOrIndirect": "indirect", "beneficialOwnershipOrControl": true,
                       "share": {"exact": 20.0},
                       "details": "Through the enterprises of the register: holds 40 % of 0100000002, which holds 50 % of 0100000003: 20 %"}),
            ]
        );

        // Cường: computed, not declared.
        let cuong = &s[3];
        assert_eq!(cuong["recordDetails"]["names"][0]["fullName"], "Lê Văn Cường");
        assert_eq!(cuong["recordDetails"]["identifiers"][0]["scheme"], "VNM-IDCARD");
        assert_eq!(cuong["source"]["type"], json!(["officialRegister"]));
        assert_eq!(cuong["statementDate"], "2026-03-02");
        assert!(cuong["annotations"][0]["description"].as_str().unwrap().starts_with("Not declared"));
        let rel = &s[4];
        assert_eq!(rel["recordDetails"]["interestedParty"], cuong["recordId"]);
        assert_eq!(
            interests(rel),
            &vec![json!({"type": "shareholding", "directOrIndirect": "indirect", "beneficialOwnershipOrControl": true,
                         "share": {"exact": 30.0},
                         "details": "Through the enterprises of the register: holds 100 % of 0100000001, which holds 60 % of \
                                     0100000002, which holds 50 % of 0100000003: 30 %"})]
        );
        assert!(rel["annotations"].is_array());
    }

    #[test]
    fn an_incomplete_graph_gives_a_lower_bound() {
        let (c, mut graph) = chain();
        graph.cycles.push(vec!["0100000002".into(), "0100000009".into(), "0100000002".into()]);
        let s = statements(&c, Some(&graph), published());
        let indirect = &interests(&s[4])[0];
        assert_eq!(indirect["share"], json!({"minimum": 30.0}));
        assert!(indirect["details"].as_str().unwrap().ends_with("the share may be larger)"));
    }

    #[test]
    fn an_exempt_enterprise_says_why_nobody_is_declared() {
        let listed = record("0100233488", 1, json!([]), json!({"exempt": "listed"}));
        let s = statements(&listed, None, published());
        assert_eq!(kinds(&s), ["entity", "relationship"]);
        assert_eq!(s[0]["recordStatus"], "new");
        assert_eq!(s[0]["recordDetails"]["publicListing"], json!({"hasPublicListing": true}));
        let details = &s[1]["recordDetails"];
        assert_eq!(details["subject"], "VN-TIN-0100233488");
        assert_eq!(details["interestedParty"]["reason"], "subjectExemptFromDisclosure");
        assert!(details.get("interests").is_none());

        let state_owned = record("0100233488", 1, json!([]), json!({"exempt": "state_owned"}));
        let s = statements(&state_owned, None, published());
        assert!(s[0]["recordDetails"]["entityType"]["details"].as_str().unwrap().contains("state-owned"));
        assert!(s[0]["recordDetails"].get("publicListing").is_none());
    }

    #[test]
    fn a_foreign_passport_is_named_by_its_country() {
        let mut r = with_declared_owners();
        let owner = &mut r.beneficial_owners.as_mut().unwrap()[1];
        owner.nationality = "KR".into();
        owner.identity = crate::record::Identity { kind: IdentityKind::Passport, number: "M12345678".into() };
        let s = statements(&r, None, published());
        assert_eq!(s[3]["recordDetails"]["identifiers"][0]["scheme"], "KOR-PASSPORT");
        assert_eq!(s[3]["recordDetails"]["nationalities"][0]["name"], "Korea, Republic of");
    }

    #[test]
    fn ids_are_deterministic_and_unique_across_the_export() {
        let (c, graph) = chain();
        let first = statements(&c, Some(&graph), published());
        assert_eq!(first, statements(&c, Some(&graph), published()), "same input, same statements");

        // Bình is a beneficial owner of both C and another enterprise: one record in each.
        let other = record(
            "0100233488",
            1,
            json!([person("Trần Thị Bình", BINH, 100.0)]),
            json!({"beneficial_owners": [declared("Trần Thị Bình", BINH, Some(100.0), None)]}),
        );
        let export: Vec<Value> = [first.clone(), statements(&other, None, published())].concat();
        let ids: HashSet<&str> = export.iter().map(|s| s["statementId"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), export.len());
        let records: HashSet<&str> = export.iter().map(|s| s["recordId"].as_str().unwrap()).collect();
        assert_eq!(records.len(), export.len());
        for s in &export {
            let id = s["statementId"].as_str().unwrap();
            assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
            assert!(!s["recordId"].as_str().unwrap().contains(BINH), "no identity number in a record id");
        }

        // A new version restates everything under new statement ids, in the same records.
        let mut next = c.clone();
        next.version += 1;
        let second = statements(&next, Some(&graph), published());
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a["recordId"], b["recordId"]);
            assert_ne!(a["statementId"], b["statementId"]);
        }
    }

    #[test]
    fn without_the_graph_only_the_declaration_is_stated() {
        let (c, _) = chain();
        let s = statements(&c, None, published());
        assert_eq!(kinds(&s), ["entity", "person", "relationship"]);
        assert!(interests(&s[2])[1].get("details").is_none());
    }
}
