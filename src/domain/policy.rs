//! Who may do what: the one policy table. Deny by default; every route names the [`Action`] it
//! needs and the guard asks [`allows`].

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 管理员: accounts, categories, audit log — and everything else.
    Admin,
    /// 提名人 (街道/居委会工作人员): records residents and their service history, records consent,
    /// nominates.
    Nominator,
    /// 评审人: reviews nominations, runs the 公示, decides objections, approves and recognises.
    Reviewer,
    /// 编辑: the newsletter's stories and issues.
    Editor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Nominator, Role::Reviewer, Role::Editor];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Nominator => "nominator",
            Role::Reviewer => "reviewer",
            Role::Editor => "editor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "管理员",
            Role::Nominator => "提名人",
            Role::Reviewer => "评审人",
            Role::Editor => "编辑",
        }
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.code() == s).ok_or(())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Everything a signed-in user may be allowed to do. Reading public data needs no action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// See non-public residents and private fields (phone, ID number, birth year, address).
    ReadPrivate,
    /// Create, change and delete communities, residents, service records and activities.
    EditRegistry,
    /// Record and withdraw consent.
    ManageConsent,
    /// Create nominations, edit own drafts, submit and withdraw own nominations.
    Nominate,
    /// See every nomination, start review, open the 公示, reject, handle objections.
    Review,
    /// Approve and recognise (never a nomination one made or wrote a statement for); revoke a
    /// recognition.
    Decide,
    /// Manage local categories.
    ManageCategories,
    /// Manage users and roles, and every user's tokens.
    ManageUsers,
    /// Read the audit log.
    ReadAudit,
    /// Write, feature and publish stories; assemble newsletter issues; see drafts.
    EditStories,
    /// Erase a resident's personal information on request (PIPL Art. 47). Admins only.
    Erase,
    /// Upload the official seal printed on certificates. Admins only.
    ManageSeal,
}

impl Action {
    pub const ALL: [Action; 12] = [
        Action::ReadPrivate,
        Action::EditRegistry,
        Action::ManageConsent,
        Action::Nominate,
        Action::Review,
        Action::Decide,
        Action::ManageCategories,
        Action::ManageUsers,
        Action::ReadAudit,
        Action::EditStories,
        Action::Erase,
        Action::ManageSeal,
    ];

    /// The name the API's description gives the permission (each staff operation says
    /// "Permission: `edit_registry`.").
    pub fn code(self) -> &'static str {
        use Action::*;
        match self {
            ReadPrivate => "read_private",
            EditRegistry => "edit_registry",
            ManageConsent => "manage_consent",
            Nominate => "nominate",
            Review => "review",
            Decide => "decide",
            ManageCategories => "manage_categories",
            ManageUsers => "manage_users",
            ReadAudit => "read_audit",
            EditStories => "edit_stories",
            Erase => "erase",
            ManageSeal => "manage_seal",
        }
    }

    /// What the permission covers, in a line (the first of its documentation above).
    pub fn summary(self) -> &'static str {
        use Action::*;
        match self {
            ReadPrivate => "see non-public residents and private fields",
            EditRegistry => "create, change and delete communities, residents, service records, activities and their photos; import rosters",
            ManageConsent => "record and withdraw consent",
            Nominate => "create, edit, submit and withdraw one's own nominations",
            Review => "see every nomination, review, open the 公示, reject, handle objections; see certificates",
            Decide => "approve and recognise, revoke recognitions; issue, reissue and revoke certificates",
            ManageCategories => "manage local categories",
            ManageUsers => "manage users, roles and every user's tokens",
            ReadAudit => "read and export the audit log",
            EditStories => "write, feature and publish stories; assemble issues; a story's photos",
            Erase => "erase a resident's personal information",
            ManageSeal => "upload the seal printed on certificates",
        }
    }
}

impl FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Action::ALL.into_iter().find(|a| a.code() == s).ok_or(())
    }
}

impl Action {
    /// The scope rule. A role is granted for a community subtree (a user's `community_id`; none for
    /// the whole deployment). A scoped grant reaches only residents whose community is in the
    /// subtree, and everything hanging off them (service records, consents, photos, nominations
    /// and their 公示, recognitions, certificates), other users scoped inside it, the subtree's
    /// communities, and the audit events of those users; everything else answers 404, as other
    /// users' drafts do. The actions that act
    /// on the deployment as a whole need a grant that reaches all of it: these return false.
    pub fn is_scoped(self) -> bool {
        use Action::*;
        match self {
            ReadPrivate | EditRegistry | ManageConsent | Nominate | Review | Decide
            | ManageUsers | ReadAudit | Erase => true,
            // Categories and the seal are the deployment's; the newsletter's stories and issues
            // are not tied to a community yet.
            ManageCategories | ManageSeal | EditStories => false,
        }
    }
}

/// The policy table: which role may do what. Admins may do everything.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Nominator => matches!(
            action,
            ReadPrivate | EditRegistry | ManageConsent | Nominate
        ),
        Role::Reviewer => matches!(action, ReadPrivate | Review | Decide),
        Role::Editor => matches!(action, EditStories),
    }
}

/// Whether any of `roles` allows `action`.
pub fn any_allows(roles: &[Role], action: Action) -> bool {
    roles.iter().any(|r| allows(*r, action))
}

/// Parse the stored comma-separated role list; unknown codes are dropped (deny by default).
pub fn parse_roles(stored: &str) -> Vec<Role> {
    let mut roles: Vec<Role> = stored
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    roles.sort();
    roles.dedup();
    roles
}

pub fn format_roles(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_denies_by_default() {
        assert!(allows(Role::Nominator, Action::Nominate));
        assert!(!allows(Role::Nominator, Action::Decide));
        assert!(!allows(Role::Reviewer, Action::EditRegistry));
        assert!(!allows(Role::Editor, Action::ReadPrivate));
        assert!(allows(Role::Editor, Action::EditStories));
        assert!(!allows(Role::Nominator, Action::EditStories));
        assert!(allows(Role::Admin, Action::ReadAudit));
        assert!(!any_allows(&[], Action::ReadPrivate));
    }

    #[test]
    fn actions_round_trip_by_code() {
        for action in Action::ALL {
            assert_eq!(action.code().parse(), Ok(action));
        }
        assert_eq!("edit".parse::<Action>(), Err(()));
    }

    #[test]
    fn roles_round_trip_and_unknown_ones_are_dropped() {
        assert_eq!(
            parse_roles("reviewer, nominator,root"),
            [Role::Nominator, Role::Reviewer]
        );
        assert_eq!(format_roles(&[Role::Admin, Role::Editor]), "admin,editor");
    }
}
