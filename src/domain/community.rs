//! Communities: the tree 区 › 街道 › 居民区 › 小区.

use std::str::FromStr;

use super::validation::{required_text, ValidationErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommunityKind {
    /// 区
    District,
    /// 街道
    Subdistrict,
    /// 居民区
    ResidentialArea,
    /// 小区
    Compound,
}

impl CommunityKind {
    pub const ALL: [CommunityKind; 4] = [
        CommunityKind::District,
        CommunityKind::Subdistrict,
        CommunityKind::ResidentialArea,
        CommunityKind::Compound,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CommunityKind::District => "district",
            CommunityKind::Subdistrict => "subdistrict",
            CommunityKind::ResidentialArea => "residential_area",
            CommunityKind::Compound => "compound",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CommunityKind::District => "区",
            CommunityKind::Subdistrict => "街道",
            CommunityKind::ResidentialArea => "居民区",
            CommunityKind::Compound => "小区",
        }
    }

    /// Whether this level sits at the top of the tree (区 has no parent; every other level has one).
    pub fn is_root(self) -> bool {
        self == CommunityKind::District
    }
}

impl FromStr for CommunityKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        CommunityKind::ALL
            .into_iter()
            .find(|k| k.code() == s)
            .ok_or(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityDraft {
    pub name: String,
    pub kind: CommunityKind,
    pub parent_id: Option<i64>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

impl CommunityDraft {
    pub fn parse(name: &str, kind: &str, parent_id: Option<i64>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = required_text(&mut errors, "name", name, 60);
        let kind = match kind.parse::<CommunityKind>() {
            Ok(k) => Some(k),
            Err(()) => {
                errors.add("kind", format!("未知的类型“{kind}”，应为 district、subdistrict、residential_area 或 compound"));
                None
            }
        };
        if let Some(k) = kind {
            match (k.is_root(), parent_id) {
                (true, Some(_)) => errors.add("parent_id", "区是最上一级，不能有上级"),
                (false, None) => errors.add("parent_id", format!("{}需要一个上级社区", k.label())),
                _ => {}
            }
        }
        match kind {
            Some(kind) => errors.finish(|| CommunityDraft {
                parsed: super::Parsed(()),
                name,
                kind,
                parent_id,
            }),
            None => Err(errors),
        }
    }

    /// Checks the parent's kind once the caller has looked it up: it must be a higher level. A level
    /// may be skipped when the record does not know it (the newsletter names 音乐广场 小区 directly
    /// under 长寿路街道, without its 居民区).
    pub fn check_parent(&self, parent_kind: CommunityKind) -> Result<(), ValidationErrors> {
        if parent_kind < self.kind {
            Ok(())
        } else {
            Err(ValidationErrors::single(
                "parent_id",
                format!(
                    "{}的上级应是更高一级的社区，而不是{}",
                    self.kind.label(),
                    parent_kind.label()
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_must_nest() {
        assert!(CommunityDraft::parse("普陀区", "district", None).is_ok());
        assert!(CommunityDraft::parse("普陀区", "district", Some(1)).is_err());
        assert!(CommunityDraft::parse("长寿路街道", "subdistrict", None).is_err());
        let compound = CommunityDraft::parse("音乐广场", "compound", Some(3)).unwrap();
        assert!(compound
            .check_parent(CommunityKind::ResidentialArea)
            .is_ok());
        assert!(compound.check_parent(CommunityKind::Subdistrict).is_ok());
        assert!(compound.check_parent(CommunityKind::Compound).is_err());
        let area = CommunityDraft::parse("某居民区", "residential_area", Some(9)).unwrap();
        assert!(area.check_parent(CommunityKind::Compound).is_err());
    }
}
