//! Nominations (提名) and their state machine: draft → submitted → in_review → public_notice →
//! approved → recognised, with rejected and withdrawn from any open state.

use std::fmt;
use std::str::FromStr;

use super::policy::{any_allows, Action, Role};
use super::validation::{required_text, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NominationState {
    Draft,
    Submitted,
    InReview,
    PublicNotice,
    Approved,
    Recognised,
    Rejected,
    Withdrawn,
}

impl NominationState {
    pub const ALL: [NominationState; 8] = [
        NominationState::Draft,
        NominationState::Submitted,
        NominationState::InReview,
        NominationState::PublicNotice,
        NominationState::Approved,
        NominationState::Recognised,
        NominationState::Rejected,
        NominationState::Withdrawn,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NominationState::Draft => "draft",
            NominationState::Submitted => "submitted",
            NominationState::InReview => "in_review",
            NominationState::PublicNotice => "public_notice",
            NominationState::Approved => "approved",
            NominationState::Recognised => "recognised",
            NominationState::Rejected => "rejected",
            NominationState::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NominationState::Draft => "草稿",
            NominationState::Submitted => "已提交",
            NominationState::InReview => "评审中",
            NominationState::PublicNotice => "公示中",
            NominationState::Approved => "已通过",
            NominationState::Recognised => "已表彰",
            NominationState::Rejected => "未通过",
            NominationState::Withdrawn => "已撤回",
        }
    }

    /// Open states may still move; recognised, rejected and withdrawn are final.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            NominationState::Recognised | NominationState::Rejected | NominationState::Withdrawn
        )
    }

    /// The states reachable from this one, whoever asks.
    pub fn next_states(self) -> Vec<NominationState> {
        use NominationState::*;
        let mut next = match self {
            Draft => vec![Submitted],
            Submitted => vec![InReview],
            InReview => vec![PublicNotice],
            // Again: a new full window, after a withdrawal of consent stopped the first.
            PublicNotice => vec![PublicNotice, Approved],
            Approved => vec![Recognised],
            Recognised | Rejected | Withdrawn => vec![],
        };
        if self.is_open() {
            next.extend([Rejected, Withdrawn]);
        }
        next
    }
}

impl FromStr for NominationState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        NominationState::ALL
            .into_iter()
            .find(|st| st.code() == s)
            .ok_or(())
    }
}

impl fmt::Display for NominationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why a transition cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// Not a move the state machine has; `allowed` lists the ones it has from here.
    #[error("不能从“{}”变为“{}”", from.label(), to.label())]
    Illegal {
        from: NominationState,
        to: NominationState,
        allowed: Vec<NominationState>,
    },
    /// The move exists but this user may not make it.
    #[error("{0}")]
    NotPermitted(&'static str),
}

/// Who is asking to move a nomination: their roles and whether they nominated it.
#[derive(Debug, Clone, Copy)]
pub struct Mover<'a> {
    pub roles: &'a [Role],
    pub is_nominator: bool,
    /// They nominated it or wrote one of its supporting statements (利益相关，需回避).
    pub interested: bool,
}

/// Why an interested party may not take a reviewer's step.
pub const CONFLICT_OF_INTEREST: &str =
    "本人提名或出具推荐材料的提名需回避：不能开始评审、开启公示、处理异议、批准或授予表彰";

/// Check a transition against the state machine and the policy: a nominator submits and withdraws
/// their own nomination, a reviewer reviews, opens (or restarts) the 公示, rejects and decides, and
/// nobody who nominated it or wrote a supporting statement for it (admins included) starts its
/// review, opens its 公示, approves or recognises it. Conditions that need data (the 公示 window,
/// objections, consent) are checked by the caller.
pub fn check_transition(
    from: NominationState,
    to: NominationState,
    mover: Mover<'_>,
) -> Result<(), TransitionError> {
    use NominationState::*;
    if !from.next_states().contains(&to) {
        return Err(TransitionError::Illegal {
            from,
            to,
            allowed: from.next_states(),
        });
    }
    let admin = mover.roles.contains(&Role::Admin);
    if mover.interested && matches!(to, InReview | PublicNotice | Approved | Recognised) {
        return Err(TransitionError::NotPermitted(
            if to == Approved && mover.is_nominator {
                "不能批准自己提出的提名"
            } else {
                CONFLICT_OF_INTEREST
            },
        ));
    }
    let ok = match to {
        Submitted => mover.is_nominator && any_allows(mover.roles, Action::Nominate) || admin,
        Withdrawn => mover.is_nominator && any_allows(mover.roles, Action::Nominate) || admin,
        InReview | PublicNotice | Rejected => any_allows(mover.roles, Action::Review),
        Approved => any_allows(mover.roles, Action::Decide),
        Recognised => any_allows(mover.roles, Action::Decide),
        Draft => false,
    };
    if ok {
        Ok(())
    } else {
        Err(TransitionError::NotPermitted("当前角色不能进行这一步"))
    }
}

/// Days left of a 公示 window, rounded up as people count them: 7 just after it opened, 1 on the
/// last day, 0 once it closed.
pub fn days_left(
    closes_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> i64 {
    ((closes_at - now).num_seconds().max(0) + 86_399) / 86_400
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectionState {
    Open,
    Investigating,
    Upheld,
    Dismissed,
}

impl ObjectionState {
    pub const ALL: [ObjectionState; 4] = [
        ObjectionState::Open,
        ObjectionState::Investigating,
        ObjectionState::Upheld,
        ObjectionState::Dismissed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ObjectionState::Open => "open",
            ObjectionState::Investigating => "investigating",
            ObjectionState::Upheld => "upheld",
            ObjectionState::Dismissed => "dismissed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ObjectionState::Open => "已受理",
            ObjectionState::Investigating => "核查中",
            ObjectionState::Upheld => "异议成立",
            ObjectionState::Dismissed => "异议不成立",
        }
    }

    /// Whether this objection stands in the way of approval: open, under investigation, or upheld.
    pub fn blocks_approval(self) -> bool {
        !matches!(self, ObjectionState::Dismissed)
    }

    pub fn next_states(self) -> Vec<ObjectionState> {
        use ObjectionState::*;
        match self {
            Open => vec![Investigating, Upheld, Dismissed],
            Investigating => vec![Upheld, Dismissed],
            Upheld | Dismissed => vec![],
        }
    }
}

impl FromStr for ObjectionState {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ObjectionState::ALL
            .into_iter()
            .find(|st| st.code() == s)
            .ok_or(())
    }
}

/// A supporting statement (事迹材料 / 推荐意见).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub author: String,
    /// The author's relation to the nominee, e.g. "小区业主", "物业经理".
    pub relation: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NominationDraft {
    pub resident_id: i64,
    pub category_id: i64,
    pub honour_title: String,
    pub year: i32,
    pub citation: String,
    pub statements: Vec<Statement>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub struct StatementInput {
    pub author: String,
    pub relation: String,
    pub body: String,
}

pub const MAX_STATEMENTS: usize = 20;

impl NominationDraft {
    pub fn parse(
        resident_id: i64,
        category_id: i64,
        honour_title: &str,
        year: i32,
        citation: &str,
        statements: Vec<StatementInput>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let honour_title = required_text(&mut errors, "honour_title", honour_title, 100);
        let citation = required_text(&mut errors, "citation", citation, 10_000);
        if !(2000..=2200).contains(&year) {
            errors.add("year", "年度应在 2000 至 2200 之间");
        }
        if statements.is_empty() {
            errors.add("statements", "至少需要一份推荐意见或事迹材料");
        }
        if statements.len() > MAX_STATEMENTS {
            errors.add("statements", format!("最多 {MAX_STATEMENTS} 份"));
        }
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| Statement {
                author: required_text(
                    &mut errors,
                    &format!("statements[{i}].author"),
                    &s.author,
                    60,
                ),
                relation: required_text(
                    &mut errors,
                    &format!("statements[{i}].relation"),
                    &s.relation,
                    60,
                ),
                body: required_text(
                    &mut errors,
                    &format!("statements[{i}].body"),
                    &s.body,
                    10_000,
                ),
            })
            .collect();
        errors.finish(|| NominationDraft {
            parsed: super::Parsed(()),
            resident_id,
            category_id,
            honour_title,
            year,
            citation,
            statements,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::NominationState::*;
    use super::*;

    fn mover(roles: &[Role], is_nominator: bool) -> Mover<'_> {
        Mover {
            roles,
            is_nominator,
            interested: is_nominator,
        }
    }

    #[test]
    fn the_happy_path_moves_one_step_at_a_time() {
        let path = [
            Draft,
            Submitted,
            InReview,
            PublicNotice,
            Approved,
            Recognised,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].next_states().contains(&pair[1]));
        }
        let err = check_transition(Draft, Approved, mover(&[Role::Admin], false)).unwrap_err();
        match err {
            TransitionError::Illegal { allowed, .. } => {
                assert_eq!(allowed, [Submitted, Rejected, Withdrawn])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn final_states_do_not_move() {
        for s in [Recognised, Rejected, Withdrawn] {
            assert!(s.next_states().is_empty());
        }
    }

    #[test]
    fn who_may_move_what() {
        let nominator = [Role::Nominator];
        let reviewer = [Role::Reviewer];
        assert!(check_transition(Draft, Submitted, mover(&nominator, true)).is_ok());
        assert!(
            check_transition(Draft, Submitted, mover(&nominator, false)).is_err(),
            "not their nomination"
        );
        assert!(check_transition(Submitted, InReview, mover(&nominator, true)).is_err());
        assert!(check_transition(Submitted, InReview, mover(&reviewer, false)).is_ok());
        assert!(check_transition(PublicNotice, Approved, mover(&reviewer, false)).is_ok());
        let both = [Role::Nominator, Role::Reviewer];
        assert_eq!(
            check_transition(PublicNotice, Approved, mover(&both, true)),
            Err(TransitionError::NotPermitted("不能批准自己提出的提名"))
        );
        for step in [
            (Submitted, InReview),
            (InReview, PublicNotice),
            (Approved, Recognised),
        ] {
            assert_eq!(
                check_transition(step.0, step.1, mover(&both, true)),
                Err(TransitionError::NotPermitted(CONFLICT_OF_INTEREST)),
                "{step:?}"
            );
        }
        let author = Mover {
            roles: &[Role::Admin],
            is_nominator: false,
            interested: true,
        };
        assert!(check_transition(Submitted, InReview, author).is_err());
        assert!(check_transition(InReview, Withdrawn, mover(&reviewer, false)).is_err());
        assert!(check_transition(InReview, Rejected, mover(&reviewer, false)).is_ok());
    }

    #[test]
    fn days_left_round_up() {
        let now = chrono::Utc::now();
        assert_eq!(
            days_left(
                now + chrono::Duration::days(7) - chrono::Duration::seconds(1),
                now
            ),
            7
        );
        assert_eq!(days_left(now + chrono::Duration::hours(3), now), 1);
        assert_eq!(days_left(now - chrono::Duration::hours(3), now), 0);
    }

    #[test]
    fn objections_block_until_dismissed() {
        assert!(ObjectionState::Open.blocks_approval());
        assert!(ObjectionState::Investigating.blocks_approval());
        assert!(ObjectionState::Upheld.blocks_approval());
        assert!(!ObjectionState::Dismissed.blocks_approval());
    }
}
