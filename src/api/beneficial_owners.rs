//! Beneficial owners (SPEC §7): an enterprise's declared and computed owners, who a person
//! controls, the discrepancies the register flags, and the BODS export. Every read is
//! access-logged.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::access_log::Action;
use super::auth::Caller;
use super::error::{ApiError, ProblemBody};
use super::http::parse_code;
use super::permissions;
use super::{db, AppState};
use crate::domain::beneficial_owners::{
    self, Basis, BeneficialOwner, Chain, Computed, ComputedOwner, Discrepancy, ExemptReason, OpenEnd,
};
use crate::domain::code::EnterpriseCodeInput;
use crate::domain::enterprise_type::EnterpriseType;
use crate::domain::record::{Enterprise, OwnerKind};
use crate::domain::status::Status;
use crate::store::ownership;

/// Where an enterprise stands with its declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Declaration {
    /// Beneficial owners are declared.
    Declared,
    /// Exempt (`listed`, `state_owned`).
    Exempt,
    /// Nothing declared yet: registered before the duty (1 July 2025) or without a declaration
    /// since; the next change of its owners must declare them.
    NotDeclared,
    /// A private enterprise: no legal personality, no declaration.
    NotApplicable,
}

impl Declaration {
    fn of(record: &Enterprise) -> Declaration {
        if !ownership::declares(record.enterprise_type) {
            Declaration::NotApplicable
        } else if record.exempt.is_some() {
            Declaration::Exempt
        } else if record.beneficial_owners.is_some() {
            Declaration::Declared
        } else {
            Declaration::NotDeclared
        }
    }
}

/// An enterprise's beneficial owners: what it declared, what the register computes through the
/// ownership graph, and where the two disagree.
#[derive(Debug, Serialize, ToSchema)]
pub struct BeneficialOwnersView {
    pub code: String,
    pub name: String,
    #[serde(rename = "type")]
    pub enterprise_type: EnterpriseType,
    pub status: Status,
    /// The record's version these are read from.
    pub version: i32,
    pub declaration: Declaration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exempt: Option<ExemptReason>,
    /// As declared; empty when nothing is.
    pub declared: Vec<BeneficialOwner>,
    /// Every individual the graph reaches, largest share first, each with its chains of codes and
    /// shares (a direct holding is a chain of one link).
    pub computed: Vec<ComputedOwner>,
    /// Each cycle of cross-holdings once, cut where it closes.
    pub cycles: Vec<Vec<String>>,
    /// Where the graph's knowledge stops (an owner abroad, an enterprise's unrecorded share, …).
    pub open_ends: Vec<OpenEnd>,
    /// Whether every chain ends at an individual: only then is each computed share exact, otherwise
    /// a lower bound.
    pub complete: bool,
    /// As flagged on the record.
    pub discrepancies: Vec<Discrepancy>,
}

impl BeneficialOwnersView {
    fn new(record: Enterprise, computed: Computed) -> BeneficialOwnersView {
        let declaration = Declaration::of(&record);
        let complete = computed.complete();
        BeneficialOwnersView {
            declaration,
            code: record.code,
            name: record.name.vi,
            enterprise_type: record.enterprise_type,
            status: record.status,
            version: record.version,
            exempt: record.exempt,
            declared: record.beneficial_owners.unwrap_or_default(),
            computed: computed.individuals,
            cycles: computed.cycles,
            open_ends: computed.open_ends,
            complete,
            discrepancies: record.discrepancies.unwrap_or_default(),
        }
    }
}

/// An enterprise's beneficial owners, declared and computed.
///
/// The authority view's data (portal, tax, authority, admin); every read is access-logged.
#[utoipa::path(
    get, path = "/v1/enterprises/{code}/beneficial-owners", tag = "beneficial owners",
    params(("code" = EnterpriseCodeInput, Path)),
    responses(
        (status = 200, body = BeneficialOwnersView),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn enterprise_owners(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::BENEFICIAL_OWNERS.roles)?.clone();
    let code = parse_code(&path)?;
    // Most enterprises are owned by people only: what the graph computes for them is in their own
    // record, which this instance's cache (or the search index's stored copy) holds while it
    // follows the feed. Only an enterprise with an enterprise among its owners needs the database.
    if let Some(record) = cached(&state, code.as_str()) {
        if !record.owners.iter().flatten().any(|o| o.kind == OwnerKind::Organisation && o.enterprise_code.is_some()) {
            let computed = beneficial_owners::computed_for(&record, &Default::default());
            state.access.record(&client, Action::BeneficialOwners, Some(code.as_str()), None, super::request_id(&req));
            return Ok(HttpResponse::Ok().json(BeneficialOwnersView::new(record, computed)));
        }
    }
    let wanted = code.clone();
    let (record, computed) = db(&state, move |conn| {
        let Some(record) = crate::store::enterprises::get(conn, &wanted)? else { return Ok(None) };
        let computed = ownership::compute(conn, &record)?;
        Ok(Some((record, computed)))
    })
    .await?
    .ok_or_else(|| ApiError::not_found(format!("no enterprise has code {code}")))?;
    state.access.record(&client, Action::BeneficialOwners, Some(code.as_str()), None, super::request_id(&req));
    Ok(HttpResponse::Ok().json(BeneficialOwnersView::new(record, computed)))
}

/// The current record from this instance's cache or the search index's stored copy, while they
/// follow the feed (as a look-up by code would answer it); `None` to ask the database.
fn cached(state: &AppState, code: &str) -> Option<Enterprise> {
    let hit = state.cache.get_fresh(code).or_else(|| super::enterprises::from_index(state, code, false))?;
    serde_json::from_slice(&hit.authority).ok()
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    /// 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next` of the previous page.
    #[param(pattern = "^[0-9]{10}$")]
    pub cursor: Option<String>,
}

impl PageParams {
    fn limit(&self) -> Result<i64, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=100).contains(&limit) {
            return Err(ApiError::bad_parameter("limit", "out_of_range", "limit is 1 to 100"));
        }
        Ok(limit)
    }

    /// The code after which the page starts (pages are in code order).
    fn after(&self) -> Result<String, ApiError> {
        match self.cursor.as_deref() {
            None => Ok(String::new()),
            Some(c) if c.len() == 10 && c.bytes().all(|b| b.is_ascii_digit()) => Ok(c.to_string()),
            Some(_) => {
                Err(ApiError::bad_parameter("cursor", "invalid_cursor", "use the `next` value of the previous page"))
            }
        }
    }
}

/// Why a person appears on an enterprise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlBasis {
    /// Declared by the enterprise as a beneficial owner.
    DeclaredBeneficialOwner,
    /// Holds 25 % or more through the ownership graph (directly plus indirectly).
    ComputedBeneficialOwner,
    /// An owner, member or founding shareholder.
    Owner,
    LegalRepresentative,
}

/// A person's place in one enterprise.
#[derive(Debug, Serialize, ToSchema)]
pub struct Controlled {
    pub code: String,
    pub name: String,
    pub status: Status,
    /// Every basis on which the person appears, in this order: declared and computed beneficial
    /// owner, owner, legal representative.
    pub basis: Vec<ControlBasis>,
    /// As declared (basis `declared_beneficial_owner`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared: Option<DeclaredControl>,
    /// Through the graph (basis `computed_beneficial_owner`, or an owner's indirect share).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed: Option<ComputedControl>,
    /// As an owner: the direct share of the charter capital.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_share_percent: Option<f64>,
    /// As a legal representative: the position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

impl Controlled {
    /// The enterprise, with no basis yet.
    fn of(record: &Enterprise) -> Controlled {
        Controlled {
            code: record.code.clone(),
            name: record.name.vi.clone(),
            status: record.status,
            basis: Vec::new(),
            declared: None,
            computed: None,
            owner_share_percent: None,
            position: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeclaredControl {
    pub basis: Vec<Basis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ownership_percent: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComputedControl {
    /// Direct plus indirect, summed over every chain.
    pub share_percent: f64,
    pub chains: Vec<Chain>,
}

/// Who a person controls: a page of enterprises.
#[derive(Debug, Serialize, ToSchema)]
pub struct ControlPage {
    pub identity_number: String,
    /// In code order.
    pub enterprises: Vec<Controlled>,
    /// The cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The most enterprises downstream of a person's own that one request follows.
const CONTROL_DOWNSTREAM: usize = 2_000;

/// Every enterprise in which a person is a declared or computed beneficial owner, an owner or a
/// legal representative.
///
/// Tax and authority; every read is access-logged.
#[utoipa::path(
    get, path = "/v1/people/{identity_number}/control", tag = "beneficial owners",
    params(("identity_number" = String, Path, description = "A CCCD (12 digits) or a passport number", pattern = "^[A-Za-z0-9]{6,20}$"), PageParams),
    responses(
        (status = 200, body = ControlPage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn person_control(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<String>,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::PERSON_CONTROL.roles)?.clone();
    let limit = params.limit()?;
    let after = params.after()?;
    let number: String = path.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_uppercase();
    if !(6..=20).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ApiError::bad_parameter(
            "identity_number",
            "invalid_identity_number",
            "an identity number is a CCCD (12 digits) or a passport number (6 to 20 letters and digits)",
        ));
    }
    let person = number.clone();
    let mut all = db(&state, move |conn| Ok(control_of(conn, &person)?)).await?;
    all.retain(|c| c.code.as_str() > after.as_str());
    let next = (all.len() as i64 > limit).then(|| all[limit as usize - 1].code.clone());
    all.truncate(limit as usize);
    let detail = format!("identity number {number}: {} enterprise(s)", all.len());
    state.access.record(&client, Action::Control, None, Some(detail), super::request_id(&req));
    Ok(HttpResponse::Ok().json(ControlPage { identity_number: number, enterprises: all, next }))
}

/// Every enterprise that names the person, and every enterprise downstream of those the person
/// owns in which the graph gives them 25 % or more; in code order.
fn control_of(conn: &mut diesel::PgConnection, number: &str) -> Result<Vec<Controlled>, crate::store::StoreError> {
    let named = ownership::naming(conn, number)?;
    let mut out: std::collections::BTreeMap<String, Controlled> = std::collections::BTreeMap::new();
    let mut owned = Vec::new();
    for record in &named {
        let mut entry = Controlled::of(record);
        if let Some(d) = record.beneficial_owners.iter().flatten().find(|d| d.identity.number == number) {
            entry.basis.push(ControlBasis::DeclaredBeneficialOwner);
            entry.declared = Some(DeclaredControl {
                basis: d.basis.clone(),
                ownership_percent: d.ownership_percent,
                control: d.control.clone(),
            });
        }
        let holdings: Vec<f64> = record
            .owners
            .iter()
            .flatten()
            .filter(|o| o.identity.as_ref().is_some_and(|i| i.number == number))
            .map(|o| if o.kind == OwnerKind::Individual { o.share_percent } else { 0.0 })
            .collect();
        if !holdings.is_empty() {
            entry.basis.push(ControlBasis::Owner);
            entry.owner_share_percent = Some(holdings.iter().sum());
            owned.push(record.code.clone());
        }
        if let Some(rep) =
            record.legal_representatives.iter().find(|r| r.identity.as_ref().is_some_and(|i| i.number == number))
        {
            entry.basis.push(ControlBasis::LegalRepresentative);
            entry.position = Some(rep.position.clone());
        }
        out.insert(record.code.clone(), entry);
    }
    // The graph: the person's own enterprises (read above), then everything they hold.
    let downstream = ownership::downstream_of(conn, &owned)?;
    let mut reached: Vec<Enterprise> = named.into_iter().filter(|r| owned.contains(&r.code)).collect();
    let more: Vec<String> = downstream
        .into_iter()
        .filter(|c| !owned.contains(c))
        .take(CONTROL_DOWNSTREAM.saturating_sub(reached.len()))
        .collect();
    if !more.is_empty() {
        reached.extend(ownership::records(conn, &more)?);
    }
    for record in reached {
        let computed = ownership::compute(conn, &record)?;
        let Some(person) = computed.individuals.into_iter().find(|p| p.identity_number == number) else { continue };
        let at_threshold = person.share_percent + 1e-9 >= beneficial_owners::THRESHOLD_PERCENT;
        let indirect = person.chains.iter().any(|c| c.links.len() > 1);
        if !at_threshold && !indirect {
            continue;
        }
        let entry = out.entry(record.code.clone()).or_insert_with(|| Controlled::of(&record));
        if at_threshold {
            entry.basis.push(ControlBasis::ComputedBeneficialOwner);
        }
        entry.computed = Some(ComputedControl { share_percent: person.share_percent, chains: person.chains });
    }
    let mut all: Vec<Controlled> = out.into_values().filter(|c| !c.basis.is_empty() || c.computed.is_some()).collect();
    for c in &mut all {
        c.basis.sort();
    }
    Ok(all)
}

/// One enterprise with its discrepancies.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlaggedView {
    pub code: String,
    pub name: String,
    pub status: String,
    pub discrepancies: Vec<Discrepancy>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiscrepancyPage {
    /// In code order.
    pub enterprises: Vec<FlaggedView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The enterprises whose declaration disagrees with the ownership graph.
///
/// Each with its discrepancies: an individual the graph gives 25 % or more who is not declared
/// (`undeclared`), a declared percentage far from the computed one (`percent_differs`). The
/// authority view's data (portal, tax, authority, admin); every page read is access-logged.
#[utoipa::path(
    get, path = "/v1/beneficial-owners/discrepancies", tag = "beneficial owners",
    params(PageParams),
    responses(
        (status = 200, body = DiscrepancyPage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn discrepancies(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::DISCREPANCIES.roles)?.clone();
    let limit = params.limit()?;
    let after = params.after()?;
    let rows = db(&state, move |conn| Ok(ownership::flagged(conn, &after, limit + 1)?)).await?;
    let mut enterprises: Vec<FlaggedView> = rows
        .into_iter()
        .map(|f| FlaggedView { code: f.code, name: f.name, status: f.status, discrepancies: f.discrepancies })
        .collect();
    let next = (enterprises.len() as i64 > limit).then(|| enterprises[limit as usize - 1].code.clone());
    enterprises.truncate(limit as usize);
    let detail = format!(
        "{} enterprise(s) from {}",
        enterprises.len(),
        enterprises.first().map_or("the start", |e| e.code.as_str())
    );
    state.access.record(&client, Action::Discrepancies, None, Some(detail), super::request_id(&req));
    Ok(HttpResponse::Ok().json(DiscrepancyPage { enterprises, next }))
}

/// The whole register's beneficial ownership as BODS 0.4 statements.
///
/// NDJSON (`application/x-ndjson`), one statement per line, from one consistent snapshot: for
/// every enterprise with legal personality, in code order, its entity statement, then a person
/// and a relationship statement for each declared beneficial owner and for each individual the
/// ownership graph gives 25 % or more without a declaration (source `officialRegister`), or the
/// exemption of a listed or state-owned enterprise. Enterprises are identified by scheme `VN-TIN`
/// (org-id.guide's code for the Vietnamese tax number, which the enterprise code is). Checked in
/// CI by Open Ownership's validator (libcovebods 0.16.0). Streamed in constant memory; gzip when
/// the request accepts it. The role `authority` (and admin); access-logged.
#[utoipa::path(
    get, path = "/v1/beneficial-owners/export", tag = "beneficial owners",
    responses(
        (status = 200, description = "NDJSON: one BODS 0.4 statement per line", content_type = "application/x-ndjson", body = String),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn bods_export(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let client = caller.require(permissions::BODS_EXPORT.roles)?.clone();
    super::feed::stream_snapshot(&state, &req, client, Action::BodsExport, "BODS export", |conn, out, started| {
        use rayon::prelude::*;
        use std::io::Write;
        let published = chrono::Utc::now();
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        let mut statements = 0u64;
        let n = ownership::export(conn, |item| match item {
            ownership::ExportItem::Start { head } => {
                started(head);
                Ok(())
            }
            ownership::ExportItem::Batch(batch) => {
                // Statements are built and serialised on every core, written in code order.
                let lines: Vec<(u64, Vec<u8>)> = batch
                    .par_iter()
                    .map(|(record, computed)| {
                        let mut buf = Vec::with_capacity(4096);
                        let mut n = 0;
                        for statement in crate::domain::bods::statements(record, Some(computed), published) {
                            serde_json::to_writer(&mut buf, &statement).expect("statements serialise");
                            buf.push(b'\n');
                            n += 1;
                        }
                        (n, buf)
                    })
                    .collect();
                for (n, buf) in lines {
                    out.write_all(&buf)?;
                    statements += n;
                }
                Ok(())
            }
        })?;
        out.flush()?;
        tracing::info!(enterprises = n, statements, "BODS statements written");
        Ok(n)
    })
    .await
}
