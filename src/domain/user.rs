//! Staff accounts: usernames, display names, roles and password rules.

use super::policy::Role;
use super::validation::{required_text, ValidationErrors};

pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

impl UserDraft {
    pub fn parse(
        username: &str,
        display_name: &str,
        roles: &[String],
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let username = username.trim().to_ascii_lowercase();
        if !(3..=32).contains(&username.len())
            || !username.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.'
            })
        {
            errors.add("username", "用户名应为 3–32 位小写字母、数字或 - _ .");
        }
        let display_name = required_text(&mut errors, "display_name", display_name, 40);
        let mut parsed = Vec::new();
        for r in roles {
            match r.parse::<Role>() {
                Ok(role) if !parsed.contains(&role) => parsed.push(role),
                Ok(_) => {}
                Err(()) => errors.add(
                    "roles",
                    format!("未知的角色“{r}”，应为 admin、nominator、reviewer 或 editor"),
                ),
            }
        }
        if roles.is_empty() {
            errors.add("roles", "至少需要一个角色");
        }
        parsed.sort();
        errors.finish(|| UserDraft {
            username,
            display_name,
            roles: parsed,
        })
    }
}

/// Passwords: long enough, not the username. Length matters more than character classes (NIST).
pub fn check_password(username: &str, password: &str) -> Result<(), ValidationErrors> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ValidationErrors::single(
            "password",
            format!("密码至少 {MIN_PASSWORD_CHARS} 个字符"),
        ));
    }
    if n > 256 {
        return Err(ValidationErrors::single(
            "password",
            "密码不能超过 256 个字符",
        ));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(ValidationErrors::single("password", "密码不能与用户名相同"));
    }
    Ok(())
}
