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
use super::people::{norm, required_text, validate_identity, IdentityInput};
use super::record::{share_percent, Enterprise, Identity, Owner, OwnerKind};
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
    /// The record's two fields (`beneficial_owners`, `exempt`) for a declaration, or none.
    pub fn into_fields(declared: Option<BeneficialOwnership>) -> (Option<Vec<BeneficialOwner>>, Option<ExemptReason>) {
        match declared {
            None => (None, None),
            Some(BeneficialOwnership::BeneficialOwners(list)) => (Some(list), None),
            Some(BeneficialOwnership::Exempt(reason)) => (None, Some(reason)),
        }
    }

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

    // Each unit of capital belongs in the end to one person: the shares of different people,
    // direct plus indirect, add up to at most all of it.
    let percents: Vec<f64> = declared.iter().flatten().filter_map(|o| o.ownership_percent).collect();
    let total: f64 = percents.iter().sum();
    if total > 100.0 + DECLARED_TOLERANCE * percents.len() as f64 {
        errors.add(
            path,
            "ownership_over_100",
            format!("the declared ownership percentages add up to {} %, more than all of the capital", round4(total)),
        );
    }

    if charter_capital > 0 {
        // A person named by an entry that is wrong elsewhere is declared (its own errors say
        // what is wrong), not missing.
        let named: HashSet<&str> = list.iter().filter_map(|o| o.identity.as_ref()?.number.as_deref()).collect();
        check_against_owners(&declared, &named, owners, charter_capital, errors, path);
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
    named: &HashSet<&str>,
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
        let found = declared
            .iter()
            .enumerate()
            .find_map(|(j, d)| d.as_ref().filter(|d| d.identity.number == identity.number).map(|d| (j, d)));
        match found {
            None if at_threshold && !named.contains(identity.number.as_str()) => errors.add(
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
    let nationality = super::people::validate_nationality(errors, &format!("{path}.nationality"), &input.nationality);
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

    let contact_address =
        optional_text(errors, &format!("{path}.contact_address"), &input.contact_address, MAX_ADDRESS);
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
    if value.as_ref().is_some_and(|name| name.chars().count() > MAX_NAME) {
        errors.add(path, "too_long", format!("at most {MAX_NAME} characters"));
        return None;
    }
    super::people::validate_person_name(errors, path, value)
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
    individuals
        .sort_by(|a, b| b.share_percent.total_cmp(&a.share_percent).then(a.identity_number.cmp(&b.identity_number)));
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
                    let person = self.people.entry(identity_number).or_insert(Person {
                        name,
                        fraction: 0.0,
                        chains: Vec::new(),
                    });
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

/// Follows the graph from `record`: its own holdings from the record (as it is, or as it is about
/// to be written), every other enterprise's from `upstream` (absent: not in the register, or not
/// read).
pub fn computed_for(record: &Enterprise, upstream: &HashMap<String, Vec<Holding>>) -> Computed {
    let own = holdings(record.owners.as_deref().unwrap_or_default());
    computed(&record.code, &|code: &str| {
        if code == record.code {
            Some(own.clone())
        } else {
            upstream.get(code).cloned()
        }
    })
}

/// The discrepancies the register flags on `record` for what the graph computes: none for an
/// enterprise that declares nothing by law (a private enterprise) or is exempt; `None` when none.
pub fn flagged(record: &Enterprise, computed: &Computed) -> Option<Vec<Discrepancy>> {
    if record.enterprise_type == EnterpriseType::PrivateEnterprise || record.exempt.is_some() {
        return None;
    }
    let found = discrepancies(computed, record.beneficial_owners.as_deref().unwrap_or_default());
    (!found.is_empty()).then_some(found)
}

/// The discrepancies of a record judged on its own owners only (its enterprise owners are ends
/// the walk does not follow, so every computed share is a lower bound): what an import derives
/// before the register follows the graph.
pub fn direct_discrepancies(record: &Enterprise) -> Option<Vec<Discrepancy>> {
    flagged(record, &computed_for(record, &HashMap::new()))
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::record::IdentityKind;

    const AN: &str = "001080012345";
    const BINH: &str = "079085000002";
    const CUONG: &str = "001075000003";

    fn individual(name: &str, cccd: &str, capital: i64, charter: i64) -> Owner {
        Owner {
            kind: OwnerKind::Individual,
            name: name.into(),
            nationality: Some("VN".into()),
            identity: Some(Identity { kind: IdentityKind::Cccd, number: cccd.into() }),
            enterprise_code: None,
            foreign_registration_number: None,
            capital_vnd: capital,
            share_percent: share_percent(capital, charter),
            partner_kind: None,
        }
    }

    fn organisation(code: &str, capital: i64, charter: i64) -> Owner {
        Owner {
            kind: OwnerKind::Organisation,
            name: "Công ty CP Sao Mai".into(),
            nationality: Some("VN".into()),
            identity: None,
            enterprise_code: Some(code.into()),
            foreign_registration_number: None,
            capital_vnd: capital,
            share_percent: share_percent(capital, charter),
            partner_kind: None,
        }
    }

    /// A declared owner on basis `ownership`; the birth year matches the CCCD's digits 4–6.
    fn declared(name: &str, cccd: &str, percent: f64) -> BeneficialOwnerInput {
        let year = 1900 + cccd[4..6].parse::<i32>().unwrap();
        BeneficialOwnerInput {
            full_name: Some(name.into()),
            birth_date: Some(NaiveDate::from_ymd_opt(year, 4, 12).unwrap()),
            nationality: Some("VN".into()),
            identity: Some(IdentityInput { kind: Some("cccd".into()), number: Some(cccd.into()) }),
            basis: Some(vec!["ownership".into()]),
            ownership_percent: Some(percent),
            contact_address: Some("12 Hàng Bài, Hà Nội".into()),
            control: None,
        }
    }

    fn list(owners: Vec<BeneficialOwnerInput>) -> BeneficialOwnershipInput {
        BeneficialOwnershipInput { beneficial_owners: Some(owners), exempt: None }
    }

    fn exempt(reason: &str) -> BeneficialOwnershipInput {
        BeneficialOwnershipInput { beneficial_owners: None, exempt: Some(reason.into()) }
    }

    /// Validates for a multi-member LLC; the errors as (field, code).
    fn check(
        kind: EnterpriseType,
        input: Option<&BeneficialOwnershipInput>,
        owners: &[Owner],
        charter: i64,
    ) -> (Option<BeneficialOwnership>, Vec<(String, String)>) {
        let mut e = Errors::default();
        let result = validate(kind, input, owners, charter, &mut e, "");
        (result, e.0.into_iter().map(|f| (f.field, f.code.into_owned())).collect())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
    }

    /// An and Bình hold 60 % and 40 % of an LLC.
    fn two_members() -> Vec<Owner> {
        vec![individual("Nguyễn Văn An", AN, 600, 1000), individual("Trần Thị Bình", BINH, 400, 1000)]
    }

    #[test]
    fn a_declaration_of_every_direct_owner_at_25_percent_is_kept() {
        let input = list(vec![declared("Nguyễn Văn An", AN, 60.0), declared("Trần Thị Bình", BINH, 40.0)]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000);
        assert!(errors.is_empty(), "{errors:?}");
        let result = result.unwrap();
        assert_eq!(result.declared().len(), 2);
        assert_eq!(result.declared()[0].basis, [Basis::Ownership]);
        assert_eq!(result.declared()[1].ownership_percent, Some(40.0));
    }

    #[test]
    fn a_direct_owner_at_25_percent_or_more_must_be_declared() {
        let input = list(vec![declared("Nguyễn Văn An", AN, 60.0)]);
        let mut e = Errors::default();
        let result = validate(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000, &mut e, "");
        assert!(result.is_none());
        assert_eq!(e.0.len(), 1, "{:?}", e.0);
        assert_eq!((e.0[0].field.as_str(), &*e.0[0].code), ("beneficial_owners", "beneficial_owner_missing"));
        assert!(e.0[0].message.contains("Trần Thị Bình") && e.0[0].message.contains("owners[1]"), "{}", e.0[0].message);
    }

    #[test]
    fn exactly_25_percent_counts_and_24_99_does_not() {
        let only_an = list(vec![declared("Nguyễn Văn An", AN, 75.0)]);
        let owners = [individual("Nguyễn Văn An", AN, 7_500, 10_000), individual("Trần Thị Bình", BINH, 2_500, 10_000)];
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&only_an), &owners, 10_000);
        assert_eq!(errors, pairs(&[("beneficial_owners", "beneficial_owner_missing")]));

        let only_an = list(vec![declared("Nguyễn Văn An", AN, 75.01)]);
        let owners = [individual("Nguyễn Văn An", AN, 7_501, 10_000), individual("Trần Thị Bình", BINH, 2_499, 10_000)];
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&only_an), &owners, 10_000);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(result.is_some());
    }

    #[test]
    fn organisation_owners_are_not_declared_themselves() {
        // A 70 % corporate owner is followed through the graph, not refused here.
        let owners = [organisation("0100233488", 700, 1000), individual("Nguyễn Văn An", AN, 300, 1000)];
        let input = list(vec![declared("Nguyễn Văn An", AN, 30.0)]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 1000);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(result.is_some());
    }

    #[test]
    fn percentages_out_of_range_or_below_the_direct_share_are_refused() {
        let input = list(vec![declared("Nguyễn Văn An", AN, 50.0), declared("Trần Thị Bình", BINH, 100.5)]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000);
        assert!(result.is_none());
        assert_eq!(
            errors,
            pairs(&[
                ("beneficial_owners[1].ownership_percent", "out_of_range"),
                ("beneficial_owners[0].ownership_percent", "below_direct_share"),
            ])
        );

        let input = list(vec![declared("Nguyễn Văn An", AN, 60.0), declared("Trần Thị Bình", BINH, -1.0)]);
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000);
        assert_eq!(errors, pairs(&[("beneficial_owners[1].ownership_percent", "out_of_range")]));

        // 100 is in range; indirect holdings (the 40 % company, here) may take a
        // declaration above the direct share.
        let owners = [individual("Nguyễn Văn An", AN, 600, 1000), organisation("0100233488", 400, 1000)];
        let input = list(vec![declared("Nguyễn Văn An", AN, 100.0)]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 1000);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(result.unwrap().declared()[0].ownership_percent, Some(100.0));
    }

    #[test]
    fn declared_shares_add_up_to_at_most_all_of_the_capital() {
        let input = list(vec![declared("Nguyễn Văn An", AN, 70.0), declared("Trần Thị Bình", BINH, 40.0)]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000);
        assert!(result.is_none());
        assert_eq!(errors, pairs(&[("beneficial_owners", "ownership_over_100")]));
    }

    #[test]
    fn a_third_declared_to_two_decimals_is_consistent() {
        let owners = [
            individual("Nguyễn Văn An", AN, 1, 3),
            individual("Trần Thị Bình", BINH, 1, 3),
            individual("Lê Văn Cường", CUONG, 1, 3),
        ];
        let input = list(vec![
            declared("Nguyễn Văn An", AN, 33.33),
            declared("Trần Thị Bình", BINH, 33.33),
            declared("Lê Văn Cường", CUONG, 33.33),
        ]);
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 3);
        assert!(errors.is_empty(), "{errors:?}");
        let input = list(vec![
            declared("Nguyễn Văn An", AN, 33.3),
            declared("Trần Thị Bình", BINH, 33.33),
            declared("Lê Văn Cường", CUONG, 33.33),
        ]);
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 3);
        assert_eq!(errors, pairs(&[("beneficial_owners[0].ownership_percent", "below_direct_share")]));
    }

    #[test]
    fn the_basis_rules() {
        let owners = [individual("Nguyễn Văn An", AN, 1000, 1000)];
        let with = |basis: &[&str], percent: Option<f64>, control: Option<&str>| {
            let mut o = declared("Nguyễn Văn An", AN, 100.0);
            o.basis = Some(basis.iter().map(|b| b.to_string()).collect());
            o.ownership_percent = percent;
            o.control = control.map(str::to_string);
            check(EnterpriseType::LlcSingle, Some(&list(vec![o])), &owners, 1000).1
        };
        assert_eq!(
            with(&["ownership", "control"], Some(100.0), None),
            pairs(&[("beneficial_owners[0].control", "required")])
        );
        assert_eq!(
            with(&["ownership", "voting"], Some(100.0), None),
            pairs(&[("beneficial_owners[0].basis[1]", "unknown_basis")])
        );
        assert_eq!(
            with(&["ownership", "ownership"], Some(100.0), None),
            pairs(&[("beneficial_owners[0].basis[1]", "duplicate_basis")])
        );
        assert_eq!(with(&[], Some(100.0), None), pairs(&[("beneficial_owners[0].basis", "empty")]));
        assert_eq!(with(&["ownership"], None, None), pairs(&[("beneficial_owners[0].ownership_percent", "required")]));
        assert_eq!(
            with(&["ownership"], Some(100.0), Some("appoints the director")),
            pairs(&[("beneficial_owners[0].control", "not_allowed")])
        );
        // The sole owner holds all of it: a declaration on control alone is not enough.
        assert_eq!(
            with(&["control"], None, Some("appoints the director")),
            pairs(&[("beneficial_owners[0].basis", "ownership_basis_missing")])
        );
        assert!(with(&["control", "ownership"], Some(100.0), Some("appoints the director")).is_empty());
    }

    #[test]
    fn a_control_only_owner_needs_no_percentage() {
        let mut director = declared("Lê Văn Cường", CUONG, 0.0);
        director.basis = Some(vec!["control".into()]);
        director.ownership_percent = None;
        director.control = Some("appoints and dismisses the board of members' majority".into());
        let input = list(vec![declared("Nguyễn Văn An", AN, 60.0), declared("Trần Thị Bình", BINH, 40.0), director]);
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &two_members(), 1000);
        assert!(errors.is_empty(), "{errors:?}");
        let result = result.unwrap();
        let kept = &result.declared()[2];
        assert_eq!((kept.basis.as_slice(), kept.ownership_percent), ([Basis::Control].as_slice(), None));
    }

    #[test]
    fn identity_checks_are_those_of_representatives() {
        let owners = [individual("Nguyễn Văn An", AN, 1000, 1000)];
        let mut no_identity = declared("Nguyễn Văn An", AN, 100.0);
        no_identity.identity = None;
        let (_, errors) = check(EnterpriseType::LlcSingle, Some(&list(vec![no_identity])), &owners, 1000);
        // Without an identity the entry cannot be matched to the sole owner, who is missing too.
        assert_eq!(
            errors,
            pairs(&[("beneficial_owners[0].identity", "required"), ("beneficial_owners", "beneficial_owner_missing")])
        );

        let mut bad = declared("Nguyễn Văn An", AN, 100.0);
        bad.identity = Some(IdentityInput { kind: Some("cccd".into()), number: Some("00108001234".into()) });
        let (_, errors) = check(EnterpriseType::LlcSingle, Some(&list(vec![bad])), &owners, 1000);
        // The 11-digit number is refused, so the sole owner is also reported as not declared.
        assert_eq!(
            errors,
            pairs(&[
                ("beneficial_owners[0].identity.number", "invalid_cccd"),
                ("beneficial_owners", "beneficial_owner_missing"),
            ])
        );

        let mut born_elsewhere = declared("Nguyễn Văn An", AN, 100.0);
        born_elsewhere.birth_date = Some("1990-01-01".parse().unwrap());
        born_elsewhere.nationality = Some("XX".into());
        let (_, errors) = check(EnterpriseType::LlcSingle, Some(&list(vec![born_elsewhere])), &owners, 1000);
        // The entry names the owner's number: declared, with its own errors.
        assert_eq!(
            errors,
            pairs(&[
                ("beneficial_owners[0].nationality", "unknown_country"),
                ("beneficial_owners[0].identity.number", "identity_birth_mismatch"),
            ])
        );

        // Spaces and case are normalised as for representatives.
        let mut spaced = declared("  Nguyễn  Văn An ", AN, 100.0);
        spaced.identity = Some(IdentityInput { kind: Some("cccd".into()), number: Some("001 080 012 345".into()) });
        spaced.nationality = Some("vn".into());
        let (result, errors) = check(EnterpriseType::LlcSingle, Some(&list(vec![spaced])), &owners, 1000);
        assert!(errors.is_empty(), "{errors:?}");
        let result = result.unwrap();
        let kept = &result.declared()[0];
        assert_eq!((kept.full_name.as_str(), kept.identity.number.as_str()), ("Nguyễn Văn An", AN));
    }

    #[test]
    fn every_missing_field_is_named_at_once() {
        let input = list(vec![BeneficialOwnerInput::default()]);
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&input), &[], 1000);
        let fields: Vec<&str> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "beneficial_owners[0].full_name",
                "beneficial_owners[0].birth_date",
                "beneficial_owners[0].nationality",
                "beneficial_owners[0].identity",
                "beneficial_owners[0].basis",
            ]
        );
        assert!(errors.iter().all(|(_, c)| c == "required"));
    }

    #[test]
    fn the_list_is_not_empty_and_names_each_person_once() {
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&list(vec![])), &[], 1000);
        assert_eq!(errors, pairs(&[("beneficial_owners", "empty")]));
        let input = list(vec![declared("Nguyễn Văn An", AN, 40.0), declared("Nguyễn Văn An", AN, 40.0)]);
        let owners = [individual("Nguyễn Văn An", AN, 400, 1000), organisation("0100233488", 600, 1000)];
        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 1000);
        assert_eq!(errors, pairs(&[("beneficial_owners[1]", "duplicate_beneficial_owner")]));
    }

    #[test]
    fn private_enterprises_declare_none() {
        let owners = [individual("Nguyễn Văn An", AN, 1000, 1000)];
        let input = list(vec![declared("Nguyễn Văn An", AN, 100.0)]);
        let (result, errors) = check(EnterpriseType::PrivateEnterprise, Some(&input), &owners, 1000);
        assert!(result.is_none());
        assert_eq!(errors, pairs(&[("beneficial_owners", "not_allowed")]));
        let (_, errors) = check(EnterpriseType::PrivateEnterprise, Some(&exempt("listed")), &owners, 1000);
        assert_eq!(errors, pairs(&[("exempt", "not_allowed")]));
        let (result, errors) = check(EnterpriseType::PrivateEnterprise, None, &owners, 1000);
        assert!(result.is_none() && errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn enterprises_with_legal_personality_must_declare_unless_tolerated() {
        for kind in
            [EnterpriseType::LlcSingle, EnterpriseType::LlcMulti, EnterpriseType::Jsc, EnterpriseType::Partnership]
        {
            let (_, errors) = check(kind, None, &two_members(), 1000);
            assert_eq!(errors, pairs(&[("beneficial_owners", "required")]), "{kind:?}");
            let (_, errors) = check(kind, Some(&BeneficialOwnershipInput::default()), &two_members(), 1000);
            assert_eq!(errors, pairs(&[("beneficial_owners", "required")]), "{kind:?}");
        }
        let mut e = Errors::default();
        let kept = validate_with(
            EnterpriseType::LlcMulti,
            None,
            &two_members(),
            1000,
            &mut e,
            "content",
            WhenAbsent::Tolerated,
        );
        assert!(kept.is_none() && e.is_empty(), "{:?}", e.0);
        // A prefix names the field under it.
        let mut e = Errors::default();
        validate(EnterpriseType::LlcMulti, None, &two_members(), 1000, &mut e, "content");
        assert_eq!(e.0[0].field, "content.beneficial_owners");
    }

    #[test]
    fn an_existing_record_declares_with_its_next_change_of_owners() {
        let before = two_members();
        let reordered: Vec<Owner> = before.iter().rev().cloned().collect();
        let llc = EnterpriseType::LlcMulti;
        assert_eq!(WhenAbsent::for_change(llc, &before, llc, &reordered), WhenAbsent::Tolerated);
        let moved = [individual("Nguyễn Văn An", AN, 500, 1000), individual("Trần Thị Bình", BINH, 500, 1000)];
        assert_eq!(WhenAbsent::for_change(llc, &before, llc, &moved), WhenAbsent::Required);
        let sold = [individual("Nguyễn Văn An", AN, 600, 1000), individual("Lê Văn Cường", CUONG, 400, 1000)];
        assert_eq!(WhenAbsent::for_change(llc, &before, llc, &sold), WhenAbsent::Required);
        assert_eq!(WhenAbsent::for_change(llc, &before, EnterpriseType::Jsc, &before), WhenAbsent::Required);
    }

    #[test]
    fn exemptions() {
        let (result, errors) = check(EnterpriseType::Jsc, Some(&exempt("listed")), &two_members(), 1000);
        assert!(errors.is_empty(), "{errors:?}");
        // Exempt: the direct owners at 25 % are not declared, and need not be.
        assert_eq!(result, Some(BeneficialOwnership::Exempt(ExemptReason::Listed)));
        let (result, errors) = check(EnterpriseType::LlcSingle, Some(&exempt("state_owned")), &[], 1000);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(result.unwrap().declared(), []);

        let (_, errors) = check(EnterpriseType::LlcMulti, Some(&exempt("listed")), &[], 1000);
        assert_eq!(errors, pairs(&[("exempt", "exemption_not_applicable")]));
        let (_, errors) = check(EnterpriseType::Partnership, Some(&exempt("state_owned")), &[], 1000);
        assert_eq!(errors, pairs(&[("exempt", "exemption_not_applicable")]));
        let (_, errors) = check(EnterpriseType::Jsc, Some(&exempt("charity")), &[], 1000);
        assert_eq!(errors, pairs(&[("exempt", "unknown_exemption")]));
        let (_, errors) = check(EnterpriseType::Jsc, Some(&exempt("")), &[], 1000);
        assert_eq!(errors, pairs(&[("exempt", "empty")]));
        let both = BeneficialOwnershipInput {
            beneficial_owners: Some(vec![declared("Nguyễn Văn An", AN, 60.0)]),
            exempt: Some("listed".into()),
        };
        let (_, errors) = check(EnterpriseType::Jsc, Some(&both), &[], 1000);
        assert_eq!(errors, pairs(&[("exempt", "not_allowed")]));
    }

    #[test]
    fn the_json_shapes() {
        let body = r#"{"beneficial_owners": [
            {"full_name": "Nguyễn Văn An", "birth_date": "1980-04-12", "nationality": "VN",
             "identity": {"kind": "cccd", "number": "001080012345"},
             "basis": ["ownership", "control"], "ownership_percent": 60,
             "contact_address": "12 Hàng Bài, Hoàn Kiếm, Hà Nội", "control": "appoints the director"}]}"#;
        let input: BeneficialOwnershipInput = serde_json::from_str(body).unwrap();
        let owners = [individual("Nguyễn Văn An", AN, 600, 1000), organisation("0100233488", 400, 1000)];
        let (result, errors) = check(EnterpriseType::LlcMulti, Some(&input), &owners, 1000);
        assert!(errors.is_empty(), "{errors:?}");
        let kept = serde_json::to_value(result.unwrap()).unwrap();
        assert_eq!(kept["beneficial_owners"][0]["basis"], serde_json::json!(["ownership", "control"]));
        assert_eq!(kept["beneficial_owners"][0]["identity"]["number"], AN);
        assert_eq!(kept["beneficial_owners"][0]["ownership_percent"], 60.0);

        let input: BeneficialOwnershipInput = serde_json::from_str(r#"{"exempt": "state_owned"}"#).unwrap();
        let (result, _) = check(EnterpriseType::Jsc, Some(&input), &[], 1000);
        assert_eq!(serde_json::to_value(result.unwrap()).unwrap(), serde_json::json!({"exempt": "state_owned"}));
        let back: BeneficialOwnership = serde_json::from_str(r#"{"exempt": "listed"}"#).unwrap();
        assert_eq!(back, BeneficialOwnership::Exempt(ExemptReason::Listed));

        // Unknown fields are refused, in the list and in each owner.
        assert!(serde_json::from_str::<BeneficialOwnershipInput>(r#"{"exempted": "listed"}"#).is_err());
        assert!(serde_json::from_str::<BeneficialOwnershipInput>(r#"{"beneficial_owners": [{"share": 30}]}"#).is_err());
    }

    // --- The ownership graph -----------------------------------------------------------------

    fn person(cccd: &str, name: &str, share: f64) -> Holding {
        Holding { holder: Holder::Individual { identity_number: cccd.into(), name: name.into() }, share_percent: share }
    }

    fn enterprise(code: &str, share: f64) -> Holding {
        Holding { holder: Holder::Enterprise { code: code.into() }, share_percent: share }
    }

    /// A register of enterprises and their holdings, and a record of the codes looked up.
    struct Register {
        owners: HashMap<String, Vec<Holding>>,
        asked: RefCell<Vec<String>>,
    }

    impl Register {
        fn new(entries: Vec<(&str, Vec<Holding>)>) -> Register {
            Register {
                owners: entries.into_iter().map(|(c, h)| (c.to_string(), h)).collect(),
                asked: RefCell::new(Vec::new()),
            }
        }

        fn compute(&self, root: &str) -> Computed {
            computed(root, &|code: &str| {
                self.asked.borrow_mut().push(code.to_string());
                self.owners.get(code).cloned()
            })
        }
    }

    fn share_of(c: &Computed, cccd: &str) -> Option<f64> {
        c.individuals.iter().find(|p| p.identity_number == cccd).map(|p| p.share_percent)
    }

    fn bo(name: &str, cccd: &str, percent: Option<f64>) -> BeneficialOwner {
        BeneficialOwner {
            full_name: name.into(),
            birth_date: "1980-04-12".parse().unwrap(),
            nationality: "VN".into(),
            identity: Identity { kind: IdentityKind::Cccd, number: cccd.into() },
            basis: vec![Basis::Ownership],
            ownership_percent: percent,
            contact_address: None,
            control: None,
        }
    }

    /// SPEC §7: A owns 60 % of B, B owns 50 % of C; the individual owning A outright holds 30 % of
    /// C and is flagged when C does not declare them.
    #[test]
    fn the_chain_a_b_c_gives_the_owner_of_a_30_percent_of_c() {
        let register = Register::new(vec![
            ("C", vec![enterprise("B", 50.0), person(BINH, "Trần Thị Bình", 50.0)]),
            ("B", vec![enterprise("A", 60.0), person(CUONG, "Lê Văn Cường", 40.0)]),
            ("A", vec![person(AN, "Nguyễn Văn An", 100.0)]),
        ]);
        let c = register.compute("C");
        assert!(c.complete(), "{c:?}");
        assert_eq!(share_of(&c, AN), Some(30.0));
        assert_eq!(share_of(&c, BINH), Some(50.0));
        assert_eq!(share_of(&c, CUONG), Some(20.0));
        let an = c.individuals.iter().find(|p| p.identity_number == AN).unwrap();
        let link = |code: &str, share: f64| Link { enterprise_code: code.into(), share_percent: share };
        assert_eq!(
            an.chains,
            [Chain { links: vec![link("C", 50.0), link("B", 60.0), link("A", 100.0)], share_percent: 30.0 }]
        );
        // Largest first.
        let order: Vec<&str> = c.individuals.iter().map(|p| p.identity_number.as_str()).collect();
        assert_eq!(order, [BINH, AN, CUONG]);

        // C declares Bình only: An (30 %) is flagged, Cường (20 %) is not.
        let found = discrepancies(&c, &[bo("Trần Thị Bình", BINH, Some(50.0))]);
        assert_eq!(
            found,
            [Discrepancy::Undeclared {
                identity_number: AN.into(),
                name: "Nguyễn Văn An".into(),
                computed_percent: 30.0
            }]
        );
        let declared = [bo("Trần Thị Bình", BINH, Some(50.0)), bo("Nguyễn Văn An", AN, Some(30.0))];
        assert!(discrepancies(&c, &declared).is_empty());
    }

    #[test]
    fn two_chains_to_one_person_sum() {
        // An holds 20 % of C directly and, through B (30 % of C), half of B: 20 + 15 = 35 %.
        let register = Register::new(vec![
            ("C", vec![person(AN, "Nguyễn Văn An", 20.0), enterprise("B", 30.0), person(BINH, "Trần Thị Bình", 50.0)]),
            ("B", vec![person(AN, "Nguyễn Văn An", 50.0), person(CUONG, "Lê Văn Cường", 50.0)]),
        ]);
        let c = register.compute("C");
        assert_eq!(share_of(&c, AN), Some(35.0));
        let an = c.individuals.iter().find(|p| p.identity_number == AN).unwrap();
        let shares: Vec<f64> = an.chains.iter().map(|ch| ch.share_percent).collect();
        assert_eq!(shares, [20.0, 15.0]);
        assert_eq!(share_of(&c, CUONG), Some(15.0));
        assert!(c.complete());
        // Neither direct holding reaches 25 %, the sum does.
        let found = discrepancies(&c, &[bo("Trần Thị Bình", BINH, Some(50.0))]);
        assert!(matches!(&found[..], [Discrepancy::Undeclared { identity_number, .. }] if identity_number == AN));
    }

    #[test]
    fn a_cycle_terminates_and_is_reported_once() {
        // C is held half by A and half by B; A and B hold 60 % of each other.
        let register = Register::new(vec![
            ("C", vec![enterprise("A", 50.0), enterprise("B", 50.0)]),
            ("A", vec![enterprise("B", 60.0), person(AN, "Nguyễn Văn An", 40.0)]),
            ("B", vec![enterprise("A", 60.0), person(BINH, "Trần Thị Bình", 40.0)]),
        ]);
        let c = register.compute("C");
        assert_eq!(c.cycles, [vec!["A".to_string(), "B".into(), "A".into()]]);
        assert!(!c.complete());
        // Cut chains: An through A (20) and through B ← A (12): 32 % at least.
        assert_eq!(share_of(&c, AN), Some(32.0));
        assert_eq!(share_of(&c, BINH), Some(32.0));
        // Each code is asked of the register once.
        let mut asked = register.asked.borrow().clone();
        asked.sort();
        assert_eq!(asked, ["A", "B", "C"]);

        // The simplest cycle: A owns B, B owns A.
        let register = Register::new(vec![("A", vec![enterprise("B", 100.0)]), ("B", vec![enterprise("A", 100.0)])]);
        let c = register.compute("A");
        assert_eq!(c.cycles, [vec!["A".to_string(), "B".into(), "A".into()]]);
        assert!(c.individuals.is_empty());
    }

    #[test]
    fn a_foreign_parent_ends_a_chain_without_error() {
        let foreign = Owner {
            kind: OwnerKind::Organisation,
            name: "Pacific Holdings".into(),
            nationality: Some("SG".into()),
            identity: None,
            enterprise_code: None,
            foreign_registration_number: Some("201912345K".into()),
            capital_vnd: 200,
            share_percent: 20.0,
            partner_kind: None,
        };
        let c_owners = [organisation("0100233488", 500, 1000), foreign, individual("Nguyễn Văn An", AN, 300, 1000)];
        let register = Register::new(vec![
            ("C", holdings(&c_owners)),
            // A Vietnamese code the register does not hold (a parent not yet imported).
        ]);
        let c = register.compute("C");
        assert_eq!(share_of(&c, AN), Some(30.0));
        let ends: Vec<(OpenEndReason, &str, f64)> =
            c.open_ends.iter().map(|e| (e.reason, e.holder.as_str(), e.chain.share_percent)).collect();
        assert_eq!(
            ends,
            [
                (OpenEndReason::NotInRegister, "0100233488", 50.0),
                (OpenEndReason::Untraceable, "Pacific Holdings", 20.0)
            ]
        );
        assert!(!c.complete());

        // An enterprise that is not in the register at all: nothing reached, said so.
        let c = Register::new(vec![]).compute("X");
        assert!(c.individuals.is_empty());
        assert_eq!(c.open_ends[0].reason, OpenEndReason::NotInRegister);
    }

    #[test]
    fn exactly_25_percent_through_a_chain_counts_and_24_99_does_not() {
        let register = Register::new(vec![
            ("C", vec![enterprise("B", 50.0), person(AN, "Nguyễn Văn An", 50.0)]),
            ("B", vec![person(BINH, "Trần Thị Bình", 50.0), person(CUONG, "Lê Văn Cường", 50.0)]),
        ]);
        let c = register.compute("C");
        assert_eq!(share_of(&c, BINH), Some(25.0));
        let found = discrepancies(&c, &[bo("Nguyễn Văn An", AN, Some(50.0))]);
        assert_eq!(found.len(), 2, "{found:?}");

        let register = Register::new(vec![
            ("C", vec![enterprise("B", 49.98), person(AN, "Nguyễn Văn An", 50.02)]),
            ("B", vec![person(BINH, "Trần Thị Bình", 50.0), person(CUONG, "Lê Văn Cường", 50.0)]),
        ]);
        let c = register.compute("C");
        assert_eq!(share_of(&c, BINH), Some(24.99));
        assert!(discrepancies(&c, &[bo("Nguyễn Văn An", AN, Some(50.02))]).is_empty());
        assert_eq!(c.at_threshold().count(), 1);
    }

    #[test]
    fn declared_percentages_against_the_computed_ones() {
        let register = Register::new(vec![
            ("C", vec![enterprise("B", 50.0), person(BINH, "Trần Thị Bình", 50.0)]),
            ("B", vec![person(AN, "Nguyễn Văn An", 100.0)]),
        ]);
        let c = register.compute("C");
        assert!(c.complete());
        let differs =
            |declared: f64| discrepancies(&c, &[bo("Nguyễn Văn An", AN, Some(declared)), bo("B", BINH, Some(50.0))]);
        assert!(differs(50.5).is_empty());
        assert!(differs(49.5).is_empty());
        assert_eq!(
            differs(51.0),
            [Discrepancy::PercentDiffers {
                identity_number: AN.into(),
                name: "Nguyễn Văn An".into(),
                declared_percent: 51.0,
                computed_percent: 50.0
            }]
        );
        assert_eq!(differs(40.0).len(), 1);
        // Control-only declarations carry no percentage to compare.
        assert!(discrepancies(&c, &[bo("Nguyễn Văn An", AN, None), bo("B", BINH, Some(50.0))]).is_empty());

        // Half of C held abroad: the computed 25 % is a lower bound; 40 % may be right, 20 % is not.
        let register = Register::new(vec![
            ("C", vec![enterprise("B", 50.0), enterprise("0109999999", 50.0)]),
            ("B", vec![person(AN, "Nguyễn Văn An", 50.0), person(BINH, "Trần Thị Bình", 50.0)]),
        ]);
        let c = register.compute("C");
        assert!(!c.complete());
        let declared = |an: f64| [bo("Nguyễn Văn An", AN, Some(an)), bo("Trần Thị Bình", BINH, Some(25.0))];
        assert!(discrepancies(&c, &declared(40.0)).is_empty());
        assert!(matches!(&discrepancies(&c, &declared(20.0))[..], [Discrepancy::PercentDiffers { .. }]));
    }

    #[test]
    fn shares_the_owners_do_not_record_leave_the_graph_open() {
        // A joint-stock company lists its founders only: 30 % of it.
        let register = Register::new(vec![("J", vec![person(AN, "Nguyễn Văn An", 30.0)])]);
        let c = register.compute("J");
        assert_eq!(c.open_ends.len(), 1);
        assert_eq!((c.open_ends[0].reason, c.open_ends[0].chain.share_percent), (OpenEndReason::UnrecordedShare, 70.0));
        assert!(!c.complete());
    }

    #[test]
    fn the_work_is_bounded() {
        // A chain of 30 enterprises stops at the depth limit.
        let mut entries: Vec<(String, Vec<Holding>)> =
            (0..30).map(|i| (format!("E{i}"), vec![enterprise(&format!("E{}", i + 1), 100.0)])).collect();
        entries.push(("E30".into(), vec![person(AN, "Nguyễn Văn An", 100.0)]));
        let register = Register::new(entries.iter().map(|(c, h)| (c.as_str(), h.clone())).collect());
        let c = register.compute("E0");
        assert!(c.individuals.is_empty());
        assert_eq!(c.open_ends.len(), 1);
        assert_eq!(c.open_ends[0].reason, OpenEndReason::DepthLimit);
        assert_eq!(c.open_ends[0].chain.links.len(), MAX_DEPTH);

        // A lattice of cross-holdings (2^19 chains) stops at the work limit, and says so.
        let mut entries: Vec<(String, Vec<Holding>)> = Vec::new();
        for level in 0..19 {
            for side in ["L", "R"] {
                let up = |s: &str| enterprise(&format!("{s}{}", level + 1), 50.0);
                entries.push((format!("{side}{level}"), vec![up("L"), up("R")]));
            }
        }
        for side in ["L", "R"] {
            entries.push((format!("{side}19"), vec![person(AN, "Nguyễn Văn An", 100.0)]));
        }
        let register = Register::new(entries.iter().map(|(c, h)| (c.as_str(), h.clone())).collect());
        let c = register.compute("L0");
        assert!(c.truncated);
        assert!(!c.complete());
    }
}
