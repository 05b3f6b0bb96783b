//! Beneficial owners (chủ sở hữu hưởng lợi, SPEC §7; Law on Enterprises as amended by
//! 76/2025/QH15, Decree 168/2025): who an enterprise with legal personality declares, the rules
//! a declaration must satisfy against the enterprise's own owners, and the ownership graph the
//! register follows through enterprise owners to find the individuals at the end of each chain.
//!
//! Two halves, both pure:
//! - [`validate`] checks a declaration (or an exemption) on a registration or a change;
//! - [`computed`] walks the ownership graph from one enterprise through a look-up the caller
//!   gives (the store), and [`discrepancies`] compares the result with the declaration. A
//!   discrepancy is flagged, never refused: the graph may be incomplete abroad.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enterprise_type::EnterpriseType;
use super::errors::{join, Errors};
use super::people::{is_country, norm, required_text, validate_identity, IdentityInput};
use super::record::{share_percent, Identity, Owner, OwnerKind};
use super::text;

/// The share from which an individual is a beneficial owner by ownership: 25 % of the charter
/// capital, directly or indirectly, this value included.
pub const THRESHOLD_PERCENT: f64 = 25.0;

/// How far a declared `ownership_percent` may fall below the owner's direct share and still be
/// consistent: a declaration rounded to two decimals (33.33 for a third, 33.3333 on the record).
const DECLARED_TOLERANCE: f64 = 0.005;

/// How far a declared `ownership_percent` may differ from the computed one before it is a
/// [`Discrepancy::PercentDiffers`]: half a percentage point.
pub const DISCREPANCY_POINTS: f64 = 0.5;

/// Comparisons of computed shares (rounded to four decimals) with the threshold.
const EPSILON: f64 = 1e-9;

/// The most enterprises one chain passes through before the walk stops it (reported as an
/// [`OpenEnd`] with [`OpenEndReason::DepthLimit`]).
pub const MAX_DEPTH: usize = 20;

/// The most holdings one computation visits, whatever the shape of the graph (a lattice of
/// cross-holdings has exponentially many chains); past it the walk stops and says so.
pub const MAX_HOLDINGS_VISITED: usize = 100_000;

const MAX_NAME: usize = 200;
const MAX_ADDRESS: usize = 500;
const MAX_CONTROL: usize = 2000;

// ---------------------------------------------------------------------------------------------
// Inputs and the record
// ---------------------------------------------------------------------------------------------

/// The beneficial-ownership part of a registration or a change: two fields of the registration
/// body, exactly one of them given.
///
/// ```json
/// "beneficial_owners": [
///   {"full_name": "Nguyễn Văn An", "birth_date": "1980-04-12", "nationality": "VN",
///    "identity": {"kind": "cccd", "number": "001080012345"},
///    "basis": ["ownership", "control"], "ownership_percent": 60,
///    "contact_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội",
///    "control": "appoints the director"}
/// ]
/// ```
/// or, for a listed company or a state-owned enterprise,
/// ```json
/// "exempt": "listed"
/// ```
/// A private enterprise (no legal personality) gives neither.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficialOwnershipInput {
    /// The declared beneficial owners: at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(min_items = 1)]
    pub beneficial_owners: Option<Vec<BeneficialOwnerInput>>,
    /// `listed` (a listed company) or `state_owned` (a state-owned enterprise): no declaration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ExemptReason>)]
    pub exempt: Option<String>,
}

/// One declared beneficial owner, as the request gives it. Every field is checked by
/// [`validate`] (lengths included): it is not nested in the registration's `validator` derive.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BeneficialOwnerInput {
    #[schema(value_type = String, required = true, min_length = 1, max_length = 200)]
    pub full_name: Option<String>,
    #[schema(value_type = NaiveDate, required = true)]
    pub birth_date: Option<NaiveDate>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z]{2}$", example = "VN")]
    pub nationality: Option<String>,
    /// As a legal representative's: a CCCD (Vietnamese citizens) or a passport.
    #[schema(value_type = IdentityInput, required = true)]
    pub identity: Option<IdentityInput>,
    /// `ownership` (25 % or more of the charter capital, directly or indirectly) and/or
    /// `control` (appoints or dismisses most managers, or decides changes to the charter).
    #[schema(value_type = Vec<Basis>, required = true, min_items = 1, max_items = 2)]
    pub basis: Option<Vec<String>>,
    /// Direct plus indirect share of the charter capital, 0–100; required for basis `ownership`.
    #[schema(minimum = 0, maximum = 100, example = 60.0)]
    pub ownership_percent: Option<f64>,
    /// Where the person can be reached, free text.
    #[schema(min_length = 1, max_length = 500)]
    pub contact_address: Option<String>,
    /// How the person controls the enterprise, free text; required for basis `control`, refused
    /// without it.
    #[schema(min_length = 1, max_length = 2000)]
    pub control: Option<String>,
}

/// Why an individual is a beneficial owner (căn cứ xác định).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Owns 25 % or more of the charter capital, directly or indirectly.
    Ownership,
    /// Controls the enterprise: appoints or dismisses the majority of its managers, or decides
    /// changes to its charter.
    Control,
}

impl Basis {
    pub const ALL: [Basis; 2] = [Basis::Ownership, Basis::Control];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Ownership => "ownership",
            Basis::Control => "control",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.as_str() == value)
    }
}

/// Why an enterprise declares no beneficial owners (SPEC §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExemptReason {
    /// A company listed on a stock exchange (công ty niêm yết): a joint-stock company.
    Listed,
    /// A state-owned enterprise (doanh nghiệp nhà nước).
    StateOwned,
}

impl ExemptReason {
    pub const ALL: [ExemptReason; 2] = [ExemptReason::Listed, ExemptReason::StateOwned];

    pub fn as_str(self) -> &'static str {
        match self {
            ExemptReason::Listed => "listed",
            ExemptReason::StateOwned => "state_owned",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }

    /// The types that can be exempt for this reason: only a joint-stock company is listed; a
    /// state-owned enterprise is a company (LLC or JSC), never a partnership.
    fn applies_to(self, kind: EnterpriseType) -> bool {
        match self {
            ExemptReason::Listed => kind == EnterpriseType::Jsc,
            ExemptReason::StateOwned => {
                matches!(kind, EnterpriseType::LlcSingle | EnterpriseType::LlcMulti | EnterpriseType::Jsc)
            }
        }
    }
}

/// A declared beneficial owner as the record keeps it: personal data, authority view only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BeneficialOwner {
    pub full_name: String,
    pub birth_date: NaiveDate,
    /// ISO 3166-1 alpha-2.
    pub nationality: String,
    pub identity: Identity,
    /// At least one, no duplicates, in the order `ownership`, `control`.
    pub basis: Vec<Basis>,
    /// Direct plus indirect share of the charter capital, rounded to four decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ownership_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_address: Option<String>,
    /// How the person controls the enterprise (basis `control`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

/// What a record holds of beneficial ownership, in the request's own shape:
/// `{"beneficial_owners": [...]}` or `{"exempt": "listed"}` (flatten it into the record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BeneficialOwnership {
    BeneficialOwners(Vec<BeneficialOwner>),
    Exempt(ExemptReason),
}

impl BeneficialOwnership {
    /// The declared owners; none for an exempt enterprise.
    pub fn declared(&self) -> &[BeneficialOwner] {
        match self {
            BeneficialOwnership::BeneficialOwners(list) => list,
            BeneficialOwnership::Exempt(_) => &[],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

/// What an absent declaration means. A new registration must declare; an enterprise registered
/// before the duty (1 July 2025) keeps its record without one until its next change that touches
/// owners ([`WhenAbsent::for_change`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenAbsent {
    /// 422 `required`.
    Required,
    /// Accepted: nothing declared, nothing reported.
    Tolerated,
}

impl WhenAbsent {
    /// For a change of a record that holds no declaration: tolerated while the change keeps the
    /// type and the owners (each identified as the record identifies it, with the same capital),
    /// required otherwise. A record that holds a declaration carries it into the patched content,
    /// so removing it is an absence that is [`WhenAbsent::Required`]: do not call this then.
    pub fn for_change(
        before_kind: EnterpriseType,
        before_owners: &[Owner],
        after_kind: EnterpriseType,
        after_owners: &[Owner],
    ) -> WhenAbsent {
        let key = |owners: &[Owner]| {
            let mut keys: Vec<(Option<String>, i64)> = owners.iter().map(|o| (owner_key(o), o.capital_vnd)).collect();
            keys.sort();
            keys
        };
        if before_kind == after_kind && key(before_owners) == key(after_owners) {
            WhenAbsent::Tolerated
        } else {
            WhenAbsent::Required
        }
    }
}

fn owner_key(o: &Owner) -> Option<String> {
    o.identity
        .as_ref()
        .map(|i| format!("identity:{}", i.number))
        .or_else(|| o.enterprise_code.as_ref().map(|c| format!("code:{c}")))
        .or_else(|| o.foreign_registration_number.as_ref().map(|n| format!("foreign:{n}")))
}

/// Checks the beneficial ownership of an enterprise of `kind` whose owners (those that validated)
/// are `owners` and charter capital `charter_capital`, and reports every failure under `path`
/// (`""` for the registration body: `beneficial_owners[1].ownership_percent`). A new
/// registration: absence is `required`; see [`validate_with`].
///
/// `None` when there is nothing to keep (a private enterprise) or the input is refused.
pub fn validate(
    kind: EnterpriseType,
    input: Option<&BeneficialOwnershipInput>,
    owners: &[Owner],
    charter_capital: i64,
    errors: &mut Errors,
    path: &str,
) -> Option<BeneficialOwnership> {
    validate_with(kind, input, owners, charter_capital, errors, path, WhenAbsent::Required)
}

/// [`validate`] with the caller's decision on absence: `None` without an error when absence is
/// [`WhenAbsent::Tolerated`] and nothing is given.
pub fn validate_with(
    kind: EnterpriseType,
    input: Option<&BeneficialOwnershipInput>,
    owners: &[Owner],
    charter_capital: i64,
    errors: &mut Errors,
    path: &str,
    when_absent: WhenAbsent,
) -> Option<BeneficialOwnership> {
    let list_path = join(path, "beneficial_owners");
    let exempt_path = join(path, "exempt");
    let input = input.cloned().map(normalized).unwrap_or_default();

    // A private enterprise has no legal personality: its owner is the one person behind it.
    if kind == EnterpriseType::PrivateEnterprise {
        let why = "a private enterprise has no legal personality and declares no beneficial owners";
        if input.beneficial_owners.is_some() {
            errors.add(&list_path, "not_allowed", why);
        }
        if input.exempt.is_some() {
            errors.add(&exempt_path, "not_allowed", why);
        }
        return None;
    }

    match (&input.beneficial_owners, &input.exempt) {
        (None, None) => {
            if when_absent == WhenAbsent::Required {
                errors.add(
                    &list_path,
                    "required",
                    "an enterprise with legal personality declares its beneficial owners, or is `exempt`",
                );
            }
            None
        }
        (Some(_), Some(_)) => {
            errors.add(&exempt_path, "not_allowed", "an exempt enterprise declares no beneficial owners");
            None
        }
        (None, Some(_)) => validate_exemption(kind, errors, &exempt_path, &input.exempt),
        (Some(list), None) => validate_declared(list, owners, charter_capital, errors, &list_path)
            .map(BeneficialOwnership::BeneficialOwners),
    }
}

fn validate_exemption(
    kind: EnterpriseType,
    errors: &mut Errors,
    path: &str,
    value: &Option<String>,
) -> Option<BeneficialOwnership> {
    let value = required_text(errors, path, value)?;
    let Some(reason) = ExemptReason::parse(value) else {
        errors.add(path, "unknown_exemption", "`exempt` is `listed` or `state_owned`");
        return None;
    };
    if !reason.applies_to(kind) {
        errors.add(
            path,
            "exemption_not_applicable",
            format!("a {} cannot be exempt as `{}`", kind.as_str(), reason.as_str()),
        );
        return None;
    }
    Some(BeneficialOwnership::Exempt(reason))
}

/// The declared list: each owner, then the list against the enterprise's owners. `None` unless
/// every check passes.
fn validate_declared(
    list: &[BeneficialOwnerInput],
    owners: &[Owner],
    charter_capital: i64,
    errors: &mut Errors,
    path: &str,
) -> Option<Vec<BeneficialOwner>> {
    let before = errors.0.len();
    if list.is_empty() {
        // Every enterprise is controlled by someone; an empty declaration says nothing.
        errors.add(path, "empty", "declare at least one beneficial owner");
        return None;
    }
    let declared: Vec<Option<BeneficialOwner>> =
        list.iter().enumerate().map(|(i, o)| validate_owner(errors, &format!("{path}[{i}]"), o)).collect();

    let mut seen = HashSet::new();
    for (i, o) in declared.iter().enumerate() {
        if let Some(o) = o {
            if !seen.insert(o.identity.number.as_str()) {
                errors.add(format!("{path}[{i}]"), "duplicate_beneficial_owner", "this person is declared twice");
            }
        }
    }

    if charter_capital > 0 {
        check_against_owners(&declared, owners, charter_capital, errors, path);
    }

    let declared: Option<Vec<BeneficialOwner>> = declared.into_iter().collect();
    if errors.0.len() == before {
        declared
    } else {
        None
    }
}

/// Every individual owner holding 25 % or more directly is declared, on basis `ownership`, with a
/// share at least the direct one (direct plus indirect is never less than direct).
fn check_against_owners(
    declared: &[Option<BeneficialOwner>],
    owners: &[Owner],
    charter_capital: i64,
    errors: &mut Errors,
    path: &str,
) {
    let total = i128::from(charter_capital);
    for (i, owner) in owners.iter().enumerate() {
        let (OwnerKind::Individual, Some(identity)) = (owner.kind, &owner.identity) else {
            continue;
        };
        let capital = i128::from(owner.capital_vnd);
        // Exact in integers: 25 % counts, 24.99 % does not.
        let at_threshold = capital * 100 >= 25 * total;
        let direct = share_percent(owner.capital_vnd, charter_capital);
        let found = declared.iter().enumerate().find_map(|(j, d)| {
            d.as_ref().filter(|d| d.identity.number == identity.number).map(|d| (j, d))
        });
        match found {
            None if at_threshold => errors.add(
                path,
                "beneficial_owner_missing",
                format!(
                    "{} (owners[{i}]) holds {direct} % of the charter capital directly and must be declared as a \
                     beneficial owner",
                    owner.name
                ),
            ),
            None => {}
            Some((j, d)) => {
                if at_threshold && !d.basis.contains(&Basis::Ownership) {
                    errors.add(
                        format!("{path}[{j}].basis"),
                        "ownership_basis_missing",
                        format!("{} holds {direct} % directly: the basis includes `ownership`", d.full_name),
                    );
                }
                if let Some(p) = d.ownership_percent {
                    if p + DECLARED_TOLERANCE < direct {
                        errors.add(
                            format!("{path}[{j}].ownership_percent"),
                            "below_direct_share",
                            format!(
                                "{} holds {direct} % of the charter capital directly; ownership_percent is direct \
                                 plus indirect",
                                d.full_name
                            ),
                        );
                    }
                }
            }
        }
    }
}

/// One declared owner; every missing or invalid field is reported.
fn validate_owner(errors: &mut Errors, path: &str, input: &BeneficialOwnerInput) -> Option<BeneficialOwner> {
    let full_name = person_name(errors, &format!("{path}.full_name"), &input.full_name);
    let birth_date = input.birth_date;
    if birth_date.is_none() {
        errors.required(format!("{path}.birth_date"));
    }
    let nationality = nationality(errors, &format!("{path}.nationality"), &input.nationality);
    let identity = validate_identity(errors, &format!("{path}.identity"), &input.identity, nationality, birth_date);
    let basis = validate_basis(errors, &format!("{path}.basis"), &input.basis);

    let has = |b: Basis| basis.as_ref().is_some_and(|list| list.contains(&b));
    let percent_path = format!("{path}.ownership_percent");
    let ownership_percent = match input.ownership_percent {
        Some(p) if !(0.0..=100.0).contains(&p) => {
            errors.add(&percent_path, "out_of_range", "ownership_percent is a share of the charter capital, 0 to 100");
            None
        }
        Some(p) => Some(Some(round4(p))),
        None if has(Basis::Ownership) => {
            errors.add(&percent_path, "required", "basis `ownership` needs the ownership percentage");
            None
        }
        None => Some(None),
    };

    let contact_address = optional_text(errors, &format!("{path}.contact_address"), &input.contact_address, MAX_ADDRESS);
    let control_path = format!("{path}.control");
    let control = match (&input.control, basis.as_ref()) {
        (None, Some(_)) if has(Basis::Control) => {
            errors.add(&control_path, "required", "basis `control` needs a description of the control");
            None
        }
        (Some(_), Some(_)) if !has(Basis::Control) => {
            errors.add(&control_path, "not_allowed", "a description of control goes with basis `control`");
            None
        }
        _ => optional_text(errors, &control_path, &input.control, MAX_CONTROL),
    };

    Some(BeneficialOwner {
        full_name: full_name?,
        birth_date: birth_date?,
        nationality: nationality?.to_string(),
        identity: identity?,
        basis: basis?,
        ownership_percent: ownership_percent?,
        contact_address: contact_address?,
        control: control?,
    })
}

/// The basis: at least one, each `ownership` or `control`, none twice; kept in a fixed order.
fn validate_basis(errors: &mut Errors, path: &str, input: &Option<Vec<String>>) -> Option<Vec<Basis>> {
    let Some(list) = input else {
        errors.required(path);
        return None;
    };
    if list.is_empty() {
        errors.add(path, "empty", "the basis is `ownership`, `control` or both");
        return None;
    }
    let mut basis = Vec::new();
    let mut valid = true;
    for (i, value) in list.iter().enumerate() {
        let item = format!("{path}[{i}]");
        match Basis::parse(value) {
            None => {
                errors.add(&item, "unknown_basis", "the basis is `ownership` or `control`");
                valid = false;
            }
            Some(b) if basis.contains(&b) => {
                errors.add(&item, "duplicate_basis", "this basis is listed twice");
                valid = false;
            }
            Some(b) => basis.push(b),
        }
    }
    basis.sort();
    valid.then_some(basis)
}

/// A person's name, as a legal representative's (`people`): letters, spaces, apostrophes,
/// hyphens and dots.
fn person_name(errors: &mut Errors, path: &str, value: &Option<String>) -> Option<String> {
    let name = required_text(errors, path, value)?;
    if name.chars().count() > MAX_NAME {
        errors.add(path, "too_long", format!("at most {MAX_NAME} characters"));
        return None;
    }
    if !name.chars().all(text::is_person_name_char) {
        errors.add(path, "invalid_characters", "a person's name holds letters, spaces, apostrophes, hyphens and dots only");
        return None;
    }
    Some(name.to_string())
}

fn nationality<'a>(errors: &mut Errors, path: &str, value: &'a Option<String>) -> Option<&'a str> {
    let n = required_text(errors, path, value)?;
    if is_country(n) {
        Some(n)
    } else {
        errors.add(path, "unknown_country", "nationality is an ISO 3166-1 alpha-2 country code such as VN");
        None
    }
}

/// Optional free text: absent is fine; given, it is not empty, has no control characters and
/// fits `max` characters. `Some(None)` when absent, `None` when invalid.
fn optional_text(errors: &mut Errors, path: &str, value: &Option<String>, max: usize) -> Option<Option<String>> {
    if value.is_none() {
        return Some(None);
    }
    let v = required_text(errors, path, value)?;
    if v.chars().count() > max {
        errors.add(path, "too_long", format!("at most {max} characters"));
        return None;
    }
    Some(Some(v.to_string()))
}

/// The input with its text normalised as the rest of the registration is (NFC, collapsed
/// spaces; identity numbers without spaces, upper case; nationality upper case).
fn normalized(mut input: BeneficialOwnershipInput) -> BeneficialOwnershipInput {
    input.exempt = norm(input.exempt.take());
    for o in input.beneficial_owners.iter_mut().flatten() {
        o.full_name = norm(o.full_name.take());
        o.nationality = norm(o.nationality.take()).map(|n| n.to_uppercase());
        o.contact_address = norm(o.contact_address.take());
        o.control = norm(o.control.take());
        if let Some(basis) = &mut o.basis {
            basis.iter_mut().for_each(|b| *b = text::normalize(b));
        }
        if let Some(i) = &mut o.identity {
            i.kind = norm(i.kind.take());
            i.number = norm(i.number.take()).map(|n| n.replace(' ', "").to_uppercase());
        }
    }
    input
}

/// Rounded to four decimals, as [`share_percent`] rounds.
fn round4(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

// ---------------------------------------------------------------------------------------------
// The ownership graph
// ---------------------------------------------------------------------------------------------

/// Who holds a share of an enterprise, as the register knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Holder {
    /// A person, by identity document number.
    Individual { identity_number: String, name: String },
    /// An organisation by enterprise code: followed when the register holds it.
    Enterprise { code: String },
    /// An owner the register cannot follow: an organisation registered abroad, or an individual
    /// whose record holds no identity document. Ends its chain.
    Untraceable { name: String },
}

/// One owner of an enterprise and its share of that enterprise's charter capital, 0–100.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Holding {
    pub holder: Holder,
    pub share_percent: f64,
}

/// The holdings of an enterprise's owners as its record lists them.
pub fn holdings(owners: &[Owner]) -> Vec<Holding> {
    owners
        .iter()
        .map(|o| {
            let holder = match (o.kind, &o.identity, &o.enterprise_code) {
                (OwnerKind::Individual, Some(id), _) => {
                    Holder::Individual { identity_number: id.number.clone(), name: o.name.clone() }
                }
                (OwnerKind::Organisation, _, Some(code)) => Holder::Enterprise { code: code.clone() },
                _ => Holder::Untraceable { name: o.name.clone() },
            };
            Holding { holder, share_percent: o.share_percent }
        })
        .collect()
}

/// One step of a chain: the next holder on the chain holds `share_percent` of `enterprise_code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    pub enterprise_code: String,
    pub share_percent: f64,
}

/// A chain from the enterprise up to a holder. C ← B 50 % ← A 60 % ← person 100 % is
/// `[{C, 50}, {B, 60}, {A, 100}]`: B holds 50 % of C, A holds 60 % of B, the person 100 % of A;
/// `share_percent` (30) is the product, the holder's share of C through this chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Chain {
    pub links: Vec<Link>,
    /// Rounded to four decimals.
    pub share_percent: f64,
}

/// An individual reached through the graph, with their share of the enterprise summed over every
/// chain (direct holdings are chains of one link).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComputedOwner {
    pub identity_number: String,
    pub name: String,
    /// Rounded to four decimals.
    pub share_percent: f64,
    pub chains: Vec<Chain>,
}

/// Why a chain ends before an individual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenEndReason {
    /// An enterprise code the register does not hold.
    NotInRegister,
    /// A foreign organisation, or an individual without an identity document on record.
    Untraceable,
    /// The enterprise's recorded owners hold less than all of it (a joint-stock company lists its
    /// founding shareholders only; an old record may list none).
    UnrecordedShare,
    /// The chain passes through [`MAX_DEPTH`] enterprises.
    DepthLimit,
}

/// Where the register's knowledge of a chain stops: the share of the enterprise that goes there
/// is owned by someone the graph does not show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OpenEnd {
    pub reason: OpenEndReason,
    /// The code or name of the holder where the chain stops (for `unrecorded_share`, the
    /// enterprise whose owners are incomplete).
    pub holder: String,
    /// The chain up to there; for `unrecorded_share` its last link is the unrecorded share.
    pub chain: Chain,
}

/// The result of following the ownership graph from one enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Computed {
    pub enterprise_code: String,
    /// Every individual reached, by share (largest first), then identity number.
    pub individuals: Vec<ComputedOwner>,
    /// Each cycle once, as the codes walked, the first repeated at the end: `[A, B, A]` (A is
    /// owned by B, B by A). A chain that would revisit an enterprise stops there.
    pub cycles: Vec<Vec<String>>,
    pub open_ends: Vec<OpenEnd>,
    /// The walk stopped after [`MAX_HOLDINGS_VISITED`] holdings: individuals and ends past that
    /// are not listed.
    pub truncated: bool,
}

impl Computed {
    /// Whether the whole graph is known: every chain ends at an individual, no cycle was cut, no
    /// limit reached. Only then is each computed share exact; otherwise it is a lower bound.
    pub fn complete(&self) -> bool {
        self.cycles.is_empty() && self.open_ends.is_empty() && !self.truncated
    }

    /// The individuals who are beneficial owners by ownership on the computed shares.
    pub fn at_threshold(&self) -> impl Iterator<Item = &ComputedOwner> {
        self.individuals.iter().filter(|o| o.share_percent + EPSILON >= THRESHOLD_PERCENT)
    }
}

/// Follows the ownership graph from `root`: `owners_of(code)` gives the holdings the register
/// keeps for an enterprise code, `None` when it holds no such enterprise (a foreign parent).
/// Each individual's share is the sum over all chains of the product of the shares along it.
/// A chain that would revisit an enterprise already on it is cut (the cycle is reported); one
/// deeper than [`MAX_DEPTH`] enterprises is stopped and reported. `owners_of` is asked at most
/// once per code.
pub fn computed(root: &str, owners_of: &dyn Fn(&str) -> Option<Vec<Holding>>) -> Computed {
    let mut walk = Walk {
        owners_of,
        cache: HashMap::new(),
        people: BTreeMap::new(),
        cycles: Vec::new(),
        seen_cycles: HashSet::new(),
        open_ends: Vec::new(),
        visited: 0,
        truncated: false,
    };
    let mut path = vec![root.to_string()];
    let mut links = Vec::new();
    if walk.holdings_of(root).is_some() {
        walk.walk(&mut path, &mut links, 1.0);
    } else {
        walk.open_ends.push(OpenEnd {
            reason: OpenEndReason::NotInRegister,
            holder: root.to_string(),
            chain: Chain { links: Vec::new(), share_percent: 100.0 },
        });
    }
    let mut individuals: Vec<ComputedOwner> = walk
        .people
        .into_iter()
        .map(|(identity_number, p)| ComputedOwner {
            identity_number,
            name: p.name,
            share_percent: round4(p.fraction * 100.0),
            chains: p.chains,
        })
        .collect();
    individuals.sort_by(|a, b| b.share_percent.total_cmp(&a.share_percent).then(a.identity_number.cmp(&b.identity_number)));
    Computed {
        enterprise_code: root.to_string(),
        individuals,
        cycles: walk.cycles,
        open_ends: walk.open_ends,
        truncated: walk.truncated,
    }
}

struct Person {
    name: String,
    /// Unrounded share of the root, 0–1.
    fraction: f64,
    chains: Vec<Chain>,
}

struct Walk<'a> {
    owners_of: &'a dyn Fn(&str) -> Option<Vec<Holding>>,
    cache: HashMap<String, Option<Vec<Holding>>>,
    people: BTreeMap<String, Person>,
    cycles: Vec<Vec<String>>,
    /// Cycles already reported, each rotated to start at its smallest code.
    seen_cycles: HashSet<Vec<String>>,
    open_ends: Vec<OpenEnd>,
    visited: usize,
    truncated: bool,
}

impl Walk<'_> {
    fn holdings_of(&mut self, code: &str) -> Option<Vec<Holding>> {
        if let Some(known) = self.cache.get(code) {
            return known.clone();
        }
        let found = (self.owners_of)(code);
        self.cache.insert(code.to_string(), found.clone());
        found
    }

    /// Walks the holdings of the last enterprise on `path`, of which the chain so far (`links`)
    /// carries `fraction` (0–1) of the root.
    fn walk(&mut self, path: &mut Vec<String>, links: &mut Vec<Link>, fraction: f64) {
        let code = path.last().expect("the path holds the root").clone();
        let holdings = self.holdings_of(&code).unwrap_or_default();
        let recorded: f64 = holdings.iter().map(|h| h.share_percent).sum();
        if recorded < 100.0 - DECLARED_TOLERANCE {
            let share = round4(100.0 - recorded);
            self.open_end(OpenEndReason::UnrecordedShare, code.clone(), links, &code, share, fraction);
        }
        for holding in holdings {
            if self.visited >= MAX_HOLDINGS_VISITED {
                self.truncated = true;
                return;
            }
            self.visited += 1;
            let share = holding.share_percent;
            let through = fraction * share / 100.0;
            match holding.holder {
                Holder::Individual { identity_number, name } => {
                    links.push(Link { enterprise_code: code.clone(), share_percent: share });
                    let chain = Chain { links: links.clone(), share_percent: round4(through * 100.0) };
                    links.pop();
                    let person =
                        self.people.entry(identity_number).or_insert(Person { name, fraction: 0.0, chains: Vec::new() });
                    person.fraction += through;
                    person.chains.push(chain);
                }
                Holder::Untraceable { name } => {
                    self.open_end(OpenEndReason::Untraceable, name, links, &code, share, fraction);
                }
                Holder::Enterprise { code: owner } => {
                    if let Some(at) = path.iter().position(|c| *c == owner) {
                        self.cycle(&path[at..], &owner);
                    } else if path.len() >= MAX_DEPTH {
                        self.open_end(OpenEndReason::DepthLimit, owner, links, &code, share, fraction);
                    } else if self.holdings_of(&owner).is_none() {
                        self.open_end(OpenEndReason::NotInRegister, owner, links, &code, share, fraction);
                    } else {
                        links.push(Link { enterprise_code: code.clone(), share_percent: share });
                        path.push(owner);
                        self.walk(path, links, through);
                        path.pop();
                        links.pop();
                    }
                }
            }
        }
    }

    fn open_end(
        &mut self,
        reason: OpenEndReason,
        holder: String,
        links: &[Link],
        code: &str,
        share: f64,
        fraction: f64,
    ) {
        let mut chain_links = links.to_vec();
        chain_links.push(Link { enterprise_code: code.to_string(), share_percent: share });
        let chain = Chain { links: chain_links, share_percent: round4(fraction * share) };
        self.open_ends.push(OpenEnd { reason, holder, chain });
    }

    /// Reports the cycle `on_path` ← `back_to` once, however many chains meet it.
    fn cycle(&mut self, on_path: &[String], back_to: &str) {
        let start = on_path.iter().enumerate().min_by(|a, b| a.1.cmp(b.1)).map_or(0, |(i, _)| i);
        let rotated: Vec<String> = on_path[start..].iter().chain(&on_path[..start]).cloned().collect();
        if self.seen_cycles.insert(rotated) {
            let mut cycle = on_path.to_vec();
            cycle.push(back_to.to_string());
            self.cycles.push(cycle);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discrepancies
// ---------------------------------------------------------------------------------------------

/// Where a declaration disagrees with the graph: flagged on the record for the authorities,
/// never refused (SPEC §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Discrepancy {
    /// An individual the graph gives 25 % or more (direct plus indirect) who is not declared.
    Undeclared { identity_number: String, name: String, computed_percent: f64 },
    /// A declared `ownership_percent` more than [`DISCREPANCY_POINTS`] from the computed share.
    PercentDiffers { identity_number: String, name: String, declared_percent: f64, computed_percent: f64 },
}

/// Compares a computation with the declared owners (by identity number).
///
/// A declared percentage is compared both ways only where the whole graph is known
/// ([`Computed::complete`]). Where it is not (a chain ends abroad, a cycle was cut, a joint-stock
/// company lists only its founders) the computed share is a lower bound: a declaration above it
/// may be right, but one more than [`DISCREPANCY_POINTS`] below it is not, and is flagged.
pub fn discrepancies(computed: &Computed, declared: &[BeneficialOwner]) -> Vec<Discrepancy> {
    let mut found = Vec::new();
    for person in computed.at_threshold() {
        if !declared.iter().any(|d| d.identity.number == person.identity_number) {
            found.push(Discrepancy::Undeclared {
                identity_number: person.identity_number.clone(),
                name: person.name.clone(),
                computed_percent: person.share_percent,
            });
        }
    }
    let complete = computed.complete();
    for d in declared {
        let Some(declared_percent) = d.ownership_percent else { continue };
        let computed_percent = computed
            .individuals
            .iter()
            .find(|p| p.identity_number == d.identity.number)
            .map_or(0.0, |p| p.share_percent);
        let difference = declared_percent - computed_percent;
        let differs = if complete {
            difference.abs() > DISCREPANCY_POINTS + EPSILON
        } else {
            difference < -(DISCREPANCY_POINTS + EPSILON)
        };
        if differs {
            found.push(Discrepancy::PercentDiffers {
                identity_number: d.identity.number.clone(),
                name: d.full_name.clone(),
                declared_percent,
                computed_percent,
            });
        }
    }
    found
}
