//! Who may call what (SPEC §1 and §3), in one table. Handlers of restricted routes take their
//! roles from here (`caller.require(permissions::REGISTER.roles)`); `tests/permissions.rs` walks the
//! whole table (every route × every role × no key) and checks that every route of the OpenAPI
//! document has an entry, so a new route cannot be added without a decision.
//!
//! `admin` may do everything. Without a key, a restricted route answers 401; with a key of
//! another role, 403. A public route answers everyone; with a valid key it gives the full view.

use crate::domain::Role;

/// A route and the roles that may call it (empty: anyone, with or without a key).
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    pub method: &'static str,
    pub route: &'static str,
    pub roles: &'static [Role],
}

const fn public(method: &'static str, route: &'static str) -> Permission {
    Permission { method, route, roles: &[] }
}

pub const REGISTER: Permission = Permission { method: "POST", route: "/v1/enterprises", roles: &[Role::Portal] };
pub const CHANGE: Permission = Permission { method: "PATCH", route: "/v1/enterprises/{code}", roles: &[Role::Portal] };
pub const SET_STATUS: Permission =
    Permission { method: "POST", route: "/v1/enterprises/{code}/status", roles: &[Role::Portal, Role::Tax] };
pub const SET_UNIT_STATUS: Permission =
    Permission { method: "POST", route: "/v1/units/{unit_code}/status", roles: &[Role::Portal] };
pub const CHANGE_UNIT: Permission =
    Permission { method: "PATCH", route: "/v1/units/{unit_code}", roles: &[Role::Portal] };
/// Each scheduled change is withdrawn by the role that filed it (checked by the handler).
pub const WITHDRAW_SCHEDULED: Permission = Permission {
    method: "DELETE",
    route: "/v1/enterprises/{code}/scheduled-changes/{id}",
    roles: &[Role::Portal, Role::Tax],
};
pub const REGISTER_UNIT: Permission =
    Permission { method: "POST", route: "/v1/enterprises/{code}/units", roles: &[Role::Portal] };
pub const CHANGES: Permission =
    Permission { method: "GET", route: "/v1/changes", roles: &[Role::Tax, Role::Transport] };
pub const RECORD_LICENSE: Permission =
    Permission { method: "POST", route: "/v1/enterprises/{code}/licenses", roles: &[Role::Transport] };
pub const SET_LICENSE_STATUS: Permission =
    Permission { method: "POST", route: "/v1/licenses/{number}/status", roles: &[Role::Transport] };
/// Licences are not public: any client with a key may look one up.
pub const GET_LICENSE: Permission =
    Permission { method: "GET", route: "/v1/licenses/{number}", roles: &[Role::Portal, Role::Transport, Role::Tax] };
pub const VERIFY: Permission =
    Permission { method: "POST", route: "/v1/verify", roles: &[Role::Portal, Role::Transport, Role::Tax] };
pub const EXPORT: Permission = Permission { method: "GET", route: "/v1/export", roles: &[Role::Tax] };
/// The authority view's roles (SPEC §7): portal (which files them), tax, authority.
pub const BENEFICIAL_OWNERS: Permission = Permission {
    method: "GET",
    route: "/v1/enterprises/{code}/beneficial-owners",
    roles: &[Role::Portal, Role::Tax, Role::Authority],
};
pub const PERSON_CONTROL: Permission =
    Permission { method: "GET", route: "/v1/people/{identity_number}/control", roles: &[Role::Tax, Role::Authority] };
pub const DISCREPANCIES: Permission = Permission {
    method: "GET",
    route: "/v1/beneficial-owners/discrepancies",
    roles: &[Role::Portal, Role::Tax, Role::Authority],
};
pub const BODS_EXPORT: Permission =
    Permission { method: "GET", route: "/v1/beneficial-owners/export", roles: &[Role::Authority] };

/// Every route of the API.
pub const ALL: &[Permission] = &[
    REGISTER,
    public("GET", "/v1/enterprises/{code}"),
    CHANGE,
    SET_STATUS,
    WITHDRAW_SCHEDULED,
    public("GET", "/v1/enterprises/{code}/history"),
    REGISTER_UNIT,
    public("GET", "/v1/enterprises/{code}/units"),
    public("GET", "/v1/units/{unit_code}"),
    CHANGE_UNIT,
    SET_UNIT_STATUS,
    RECORD_LICENSE,
    GET_LICENSE,
    SET_LICENSE_STATUS,
    VERIFY,
    public("GET", "/v1/name-check"),
    public("GET", "/v1/search"),
    public("GET", "/v1/suggest"),
    CHANGES,
    EXPORT,
    BENEFICIAL_OWNERS,
    PERSON_CONTROL,
    DISCREPANCIES,
    BODS_EXPORT,
    public("GET", "/v1/reference/provinces"),
    public("GET", "/v1/reference/provinces/{code}/wards"),
    public("GET", "/v1/reference/vsic"),
    public("GET", "/healthz"),
    public("GET", "/readyz"),
    public("GET", "/metrics"),
    public("GET", "/openapi.json"),
    public("GET", "/docs/"),
];

impl Permission {
    /// Whether a caller with `role` (or none) may call the route.
    pub fn allows(&self, role: Option<Role>) -> bool {
        self.roles.is_empty() || role.is_some_and(|r| r == Role::Admin || self.roles.contains(&r))
    }
}
