//! Ownership and beneficial owners (SPEC §7) of generated enterprises: chains of enterprise
//! owners a few levels deep, cross-holdings, individuals at and around the 25 % threshold, and a
//! declaration computed from what was generated, so that it passes the import's checks and agrees
//! with the register's own walk of the ownership graph (but for a few deliberate discrepancies).
//!
//! Generation is sequential: an enterprise's owners are only earlier enterprises of the pool the
//! generator keeps anyway (at most [`POOL`] codes), so the pool also keeps, for each code, the
//! individuals at the ends of its chains with their shares (direct plus indirect, trimmed). A child
//! adds its owners' entries, scaled by their shares: no look-up beyond the pool, memory bounded
//! whatever the count.

use chrono::{DateTime, NaiveDate, Utc};
use rand::Rng;

use registry_domain::beneficial_owners::{Basis, BeneficialOwner, BeneficialOwnership, ExemptReason};
use registry_domain::enterprise_type::EnterpriseType;
use registry_domain::legal_date;
use registry_domain::record::{share_percent, Enterprise, Identity, IdentityKind, Owner, OwnerKind};
use registry_domain::status::Status;

use crate::history::random_time;
use crate::people::Person;
use crate::records::RecordGenerator;
use crate::sampling::pick;

/// The most codes later enterprises draw their enterprise owners from.
pub(crate) const POOL: usize = 500;
/// Share of companies (LLCs, JSCs) owned 50 % or more by an earlier generated enterprise.
const CHAIN_SHARE: f64 = 0.08;
/// Share of multi-member LLCs and JSCs that hold, and are held by, the next enterprise (when it
/// is one too): small shares each way.
pub(crate) const CROSS_SHARE: f64 = 0.012;
/// Share of multi-member LLCs and JSCs with an individual at or around 25 % (24.99, 25, 25.01,
/// 33.33).
const THRESHOLD_SHARE: f64 = 0.12;
/// Share of JSCs that are listed (exempt).
const LISTED_SHARE: f64 = 0.04;
/// Share of LLCs and JSCs that are state-owned (exempt).
const STATE_OWNED_SHARE: f64 = 0.015;
/// Share of enterprises registered before the duty and unchanged since that declared anyway (a
/// notification since 1 July 2025); ceased ones never do.
const NOTIFIED_SHARE: f64 = 0.97;
/// Share of declarations with a control-only beneficial owner besides.
const CONTROL_ONLY_SHARE: f64 = 0.08;
/// Share of declarations whose largest owner also controls.
const BOTH_BASES_SHARE: f64 = 0.15;
/// Share of declared owners with a contact address.
const CONTACT_SHARE: f64 = 0.7;
/// Share of declaring enterprises with chains that get a deliberate discrepancy.
const DISCREPANCY_SHARE: f64 = 0.02;
/// What the pool keeps of an enterprise's individuals: from this share, at most this many.
const KEEP_FROM_PERCENT: f64 = 0.5;
const KEEP_MOST: usize = 40;

/// The day the duty to declare began (Law 76/2025/QH15).
fn duty() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).expect("a date")
}

const CONTROLS: &[&str] = &[
    "Có quyền bổ nhiệm, miễn nhiệm đa số thành viên Hội đồng quản trị",
    "Có quyền bổ nhiệm, miễn nhiệm đa số thành viên Hội đồng thành viên",
    "Có quyền quyết định sửa đổi, bổ sung Điều lệ công ty",
    "Có quyền bổ nhiệm, miễn nhiệm Giám đốc hoặc Tổng giám đốc",
    "Chi phối hoạt động của công ty theo thỏa thuận với các thành viên góp vốn",
];

/// Declared when no individual reaches 25 %: the person in the highest management position.
const MANAGES: &str = "Người giữ chức vụ quản lý cao nhất của doanh nghiệp, có quyền chi phối hoạt động kinh doanh";

/// An earlier enterprise that later ones may hold.
pub(crate) struct Held {
    pub(crate) code: String,
    name: String,
    /// Enterprise levels above it (0: held by individuals only).
    pub(crate) depth: u8,
    /// The individuals at the ends of its chains, share (direct plus indirect) descending.
    through: Vec<(Person, f64)>,
}

/// A first version being given its owners: the individuals behind its owners (in owner order,
/// `None` for an organisation) and the owners whose capital is fixed.
pub(crate) struct Shaped {
    pub(crate) record: Enterprise,
    persons: Vec<Option<Person>>,
    fixed: Vec<usize>,
}

/// What the beneficial-owner step works out for one enterprise.
pub(crate) struct Plan {
    declared: Option<BeneficialOwnership>,
    through: Vec<(Person, f64)>,
    depth: u8,
}

fn is_company(kind: EnterpriseType) -> bool {
    matches!(kind, EnterpriseType::LlcSingle | EnterpriseType::LlcMulti | EnterpriseType::Jsc)
}

fn has_members(kind: EnterpriseType) -> bool {
    matches!(kind, EnterpriseType::LlcMulti | EnterpriseType::Jsc)
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

pub(crate) fn add(acc: &mut Vec<(Person, f64)>, person: &Person, share: f64) {
    match acc.iter_mut().find(|(p, _)| p.id_number == person.id_number) {
        Some((_, s)) => *s += share,
        None => acc.push((person.clone(), share)),
    }
}

fn sorted(mut acc: Vec<(Person, f64)>) -> Vec<(Person, f64)> {
    acc.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.id_number.cmp(&b.0.id_number)));
    acc
}

fn organisation(name: &str, code: &str, capital: i64) -> Owner {
    Owner {
        kind: OwnerKind::Organisation,
        name: name.to_string(),
        nationality: None,
        identity: None,
        enterprise_code: Some(code.to_string()),
        foreign_registration_number: None,
        capital_vnd: capital,
        share_percent: 0.0,
        partner_kind: None,
    }
}

/// Gives the owners `fixed` their capital and the others the rest of `total`, in proportion to
/// what they had (each at least 1 VND, the rounding rest to the largest).
fn reshare(owners: &mut [Owner], fixed: &[(usize, i64)], total: i64) {
    let free: Vec<usize> = (0..owners.len()).filter(|i| !fixed.iter().any(|f| f.0 == *i)).collect();
    let rest = total - fixed.iter().map(|f| f.1).sum::<i64>();
    for &(i, capital) in fixed {
        owners[i].capital_vnd = capital;
    }
    if free.is_empty() {
        return;
    }
    let old: i128 = free.iter().map(|&i| i128::from(owners[i].capital_vnd)).sum::<i128>().max(1);
    for &i in &free {
        owners[i].capital_vnd = ((i128::from(owners[i].capital_vnd) * i128::from(rest) / old) as i64).max(1);
    }
    let given: i64 = free.iter().map(|&i| owners[i].capital_vnd).sum();
    let largest = *free.iter().max_by_key(|&&i| (owners[i].capital_vnd, std::cmp::Reverse(i))).expect("free owners");
    owners[largest].capital_vnd += rest - given;
}

impl Person {
    fn declared(&self, basis: Vec<Basis>, percent: Option<f64>, control: Option<&str>) -> BeneficialOwner {
        let kind = if self.id_kind == "cccd" { IdentityKind::Cccd } else { IdentityKind::Passport };
        BeneficialOwner {
            full_name: self.name.clone(),
            birth_date: self.birth,
            nationality: self.nationality.to_string(),
            identity: Identity { kind, number: self.id_number.clone() },
            basis,
            ownership_percent: percent,
            contact_address: None,
            control: control.map(str::to_string),
        }
    }
}

impl RecordGenerator {
    /// Shapes the owners of a first version: some held 50 % or more by an earlier enterprise of
    /// the pool (preferably one held by another: chains of two to four levels), some with an
    /// individual at or around 25 %.
    pub(crate) fn shape(&mut self, mut record: Enterprise) -> Shaped {
        let mut persons = std::mem::take(&mut self.inner.owner_persons);
        let kind = record.enterprise_type;
        let total = record.charter_capital_vnd;
        let mut fixed: Vec<(usize, i64)> = Vec::new();
        let owners = record.owners.as_mut().expect("generated owners");
        if is_company(kind) && !self.pool.is_empty() && self.inner.rng.random_bool(CHAIN_SHARE) {
            let rng = &mut self.inner.rng;
            let mut parent = None;
            for _ in 0..6 {
                let i = rng.random_range(0..self.pool.len());
                let held = &self.pool[i];
                if held.depth > 3 || owners.iter().any(|o| o.enterprise_code.as_deref() == Some(held.code.as_str())) {
                    continue;
                }
                parent = Some(i);
                if (1..=2).contains(&held.depth) {
                    break;
                }
            }
            if let Some(i) = parent {
                let held = &self.pool[i];
                if kind == EnterpriseType::LlcSingle {
                    owners[0] = organisation(&held.name, &held.code, total);
                    persons[0] = None;
                    fixed.push((0, total));
                } else if owners.len() < 50 {
                    let bp = if rng.random_bool(0.15) { 5000 } else { rng.random_range(50..=90) * 100 };
                    owners.push(organisation(&held.name, &held.code, 0));
                    persons.push(None);
                    fixed.push((owners.len() - 1, total / 10_000 * bp));
                }
            }
        }
        if has_members(kind) && self.inner.rng.random_bool(THRESHOLD_SHARE) {
            let rng = &mut self.inner.rng;
            let bp: i64 = *pick(rng, &[2499, 2500, 2501, 3333]);
            let target = owners.iter().enumerate().position(|(i, _)| persons[i].is_some());
            if let Some(t) = target {
                let capital = if bp == 3333 && total % 3 == 0 { total / 3 } else { total / 10_000 * bp };
                // The parent keeps 50 % or more, and something is left for the others.
                if let Some(parent) = fixed.first_mut() {
                    parent.1 = parent.1.min(total / 10_000 * (9_900 - bp));
                }
                fixed.push((t, capital));
                if fixed.len() == owners.len() {
                    fixed.pop();
                }
            }
        }
        if !fixed.is_empty() {
            reshare(owners, &fixed, total);
        }
        Shaped { record, persons, fixed: fixed.into_iter().map(|f| f.0).collect() }
    }

    /// Whether two shaped enterprises can hold each other.
    pub(crate) fn may_cross(shaped: &Shaped) -> bool {
        has_members(shaped.record.enterprise_type) && shaped.record.owners.as_ref().is_some_and(|o| o.len() < 50)
    }

    /// `a` holds a small share of `b` and `b` of `a`, each taken from its largest free owner.
    pub(crate) fn cross(&mut self, a: &mut Shaped, b: &mut Shaped) {
        let (name_a, code_a) = (a.record.name.vi.clone(), a.record.code.clone());
        let (name_b, code_b) = (b.record.name.vi.clone(), b.record.code.clone());
        for (s, name, code) in [(a, name_b, code_b), (b, name_a, code_a)] {
            let total = s.record.charter_capital_vnd;
            let capital = total / 10_000 * self.inner.rng.random_range(200..=900);
            let owners = s.record.owners.as_mut().expect("generated owners");
            let largest = (0..owners.len())
                .filter(|i| !s.fixed.contains(i))
                .max_by_key(|&i| (owners[i].capital_vnd, usize::MAX - i));
            if let Some(i) = largest.filter(|&i| owners[i].capital_vnd > capital + 1_000_000) {
                owners[i].capital_vnd -= capital;
                owners.push(organisation(&name, &code, capital));
                s.persons.push(None);
            }
        }
    }

    /// The individuals behind `shaped`'s owners with their shares (direct plus indirect, through
    /// the pool), leaving out the holding of `skip` (a cross-holder: the register cuts the cycle),
    /// and the enterprise levels above it.
    pub(crate) fn through(&self, shaped: &Shaped, skip: Option<&str>) -> (Vec<(Person, f64)>, u8) {
        let total = shaped.record.charter_capital_vnd;
        let mut acc = Vec::new();
        let mut depth = 0;
        for (o, p) in shaped.record.owners.iter().flatten().zip(&shaped.persons) {
            let share = share_percent(o.capital_vnd, total);
            match (p, &o.enterprise_code) {
                (Some(p), _) => add(&mut acc, p, share),
                (None, Some(code)) if Some(code.as_str()) != skip => {
                    if let Some(held) = self.pool.iter().find(|h| h.code == *code) {
                        depth = depth.max(held.depth + 1);
                        for (q, s) in &held.through {
                            add(&mut acc, q, share * s / 100.0);
                        }
                    }
                }
                _ => {}
            }
        }
        (acc, depth)
    }

    /// The holding of `partner` in `shaped`, in percent.
    pub(crate) fn share_of(shaped: &Shaped, partner: &str) -> f64 {
        let total = shaped.record.charter_capital_vnd;
        shaped
            .record
            .owners
            .iter()
            .flatten()
            .filter(|o| o.enterprise_code.as_deref() == Some(partner))
            .map(|o| share_percent(o.capital_vnd, total))
            .sum()
    }

    /// The declaration of `shaped` whose individuals are `through` (with `depth` levels above).
    pub(crate) fn plan(&mut self, shaped: &Shaped, through: Vec<(Person, f64)>, depth: u8) -> Plan {
        let through = sorted(through);
        let record = &shaped.record;
        let kind = record.enterprise_type;
        let declared = if kind == EnterpriseType::PrivateEnterprise {
            None
        } else if kind == EnterpriseType::Jsc && self.inner.rng.random_bool(LISTED_SHARE) {
            Some(BeneficialOwnership::Exempt(ExemptReason::Listed))
        } else if is_company(kind) && self.inner.rng.random_bool(STATE_OWNED_SHARE) {
            Some(BeneficialOwnership::Exempt(ExemptReason::StateOwned))
        } else {
            Some(BeneficialOwnership::BeneficialOwners(self.declare(shaped, &through, depth > 0)))
        };
        Plan { declared, through, depth }
    }

    fn declare(&mut self, shaped: &Shaped, through: &[(Person, f64)], chained: bool) -> Vec<BeneficialOwner> {
        let record = &shaped.record;
        let total = i128::from(record.charter_capital_vnd);
        let direct = |number: &str| -> (f64, bool) {
            record
                .owners
                .iter()
                .flatten()
                .filter(|o| o.identity.as_ref().is_some_and(|i| i.number == number))
                .map(|o| {
                    (
                        share_percent(o.capital_vnd, record.charter_capital_vnd),
                        i128::from(o.capital_vnd) * 100 >= 25 * total,
                    )
                })
                .next()
                .unwrap_or((0.0, false))
        };
        let mut list: Vec<(BeneficialOwner, f64)> = through
            .iter()
            .filter(|(_, s)| round4(*s) >= 25.0)
            .map(|(p, s)| {
                let mut percent = round4(*s).min(100.0);
                if (percent - 33.3333).abs() < 1e-9 {
                    // A third, as people write it (within the import's tolerance).
                    percent = 33.33;
                }
                (p.declared(vec![Basis::Ownership], Some(percent), None), direct(&p.id_number).0)
            })
            .collect();
        let rng = &mut self.inner.rng;
        if chained && rng.random_bool(DISCREPANCY_SHARE) {
            // An indirect holder left out, or a declared share several points below the graph's.
            let undeclared = list.iter().position(|(d, _)| !direct(&d.identity.number).1);
            let off = list.iter().position(|(d, direct)| d.ownership_percent.unwrap_or(0.0) - direct >= 3.0);
            match (undeclared, off) {
                (Some(i), _) if off.is_none() || rng.random_bool(0.5) => {
                    list.remove(i);
                }
                (_, Some(i)) => {
                    let (d, direct) = &mut list[i];
                    let percent = d.ownership_percent.unwrap_or(0.0);
                    let most = (percent - *direct).floor().min(8.0) as u32;
                    d.ownership_percent = Some(round4(percent - f64::from(rng.random_range(3..=most))));
                }
                _ => {}
            }
        }
        let mut list: Vec<BeneficialOwner> = list.into_iter().map(|(d, _)| d).collect();
        if let Some(first) = list.first_mut() {
            if rng.random_bool(BOTH_BASES_SHARE) {
                first.basis.push(Basis::Control);
                first.control = Some(pick(rng, CONTROLS).to_string());
            }
        } else {
            // Nobody at 25 %: the one who manages the enterprise.
            let rep = record.legal_representatives.iter().find(|r| r.identity.is_some() && r.birth_date.is_some());
            if let Some(r) = rep {
                list.push(BeneficialOwner {
                    full_name: r.full_name.clone(),
                    birth_date: r.birth_date.expect("a birth date"),
                    nationality: r.nationality.clone(),
                    identity: r.identity.clone().expect("an identity"),
                    basis: vec![Basis::Control],
                    ownership_percent: None,
                    contact_address: None,
                    control: Some(MANAGES.to_string()),
                });
            }
        }
        if list.is_empty() || self.inner.rng.random_bool(CONTROL_ONLY_SHARE) {
            // Someone who controls without owning: a fresh person.
            let province = record.head_office.province_code.clone();
            self.inner.latest_birth_year = chrono::Datelike::year(&record.registered_on) - 19;
            let mut persons = Vec::new();
            let i = self.inner.vn_person(&province, &mut persons);
            let control = pick(&mut self.inner.rng, CONTROLS);
            list.push(persons[i].declared(vec![Basis::Control], None, Some(control)));
        }
        let province =
            self.reference.province(&record.head_office.province_code).map(|p| p.name.clone()).unwrap_or_default();
        for d in &mut list {
            let rng = &mut self.inner.rng;
            if rng.random_bool(CONTACT_SHARE) {
                let n: u32 = rng.random_range(1..=400);
                let street = pick(rng, &self.inner.vocabulary.streets);
                d.contact_address = Some(if province.is_empty() {
                    format!("Số {n} đường {street}")
                } else {
                    format!("Số {n} đường {street}, {province}")
                });
            }
        }
        list
    }

    /// Puts the declaration on the versions from the duty on; an enterprise registered before it
    /// and unchanged since declares with a notification (one more version) unless it ceased or
    /// has not (yet) declared. Then the enterprise joins the pool.
    pub(crate) fn settle(&mut self, versions: &mut [Enterprise], plan: Plan) {
        let Plan { declared, through, depth } = plan;
        let notify = self.inner.rng.random_bool(NOTIFIED_SHARE);
        if let Some(declared) = declared {
            let only = versions.len() == 1;
            let end = self.as_of_time();
            let last = versions.last_mut().expect("a version");
            if legal_date(last.updated_at) < duty() && only && notify && last.status != Status::Ceased {
                let from: DateTime<Utc> = duty()
                    .and_hms_opt(1, 0, 0)
                    .expect("a time")
                    .and_utc()
                    .max(last.updated_at + chrono::Duration::seconds(1));
                last.updated_at = random_time(&mut self.inner.rng, from, end);
                last.version += 1;
            }
            for v in versions.iter_mut().filter(|v| legal_date(v.updated_at) >= duty()) {
                (v.beneficial_owners, v.exempt) = BeneficialOwnership::into_fields(Some(declared.clone()));
            }
        }
        let last = versions.last().expect("a version");
        if last.enterprise_type == EnterpriseType::PrivateEnterprise {
            // Art. 188.4: a private enterprise owns no enterprise.
            return;
        }
        let mut through: Vec<(Person, f64)> = through.into_iter().filter(|(_, s)| *s >= KEEP_FROM_PERCENT).collect();
        through.truncate(KEEP_MOST);
        let held = Held { code: last.code.clone(), name: last.name.vi.clone(), depth, through };
        if self.pool.len() < POOL {
            self.inner.org_codes.push(held.code.clone());
            self.pool.push(held);
        } else {
            let i = self.inner.rng.random_range(0..self.pool.len());
            self.inner.org_codes[i] = held.code.clone();
            self.pool[i] = held;
        }
    }
}
