//! Staff accounts: usernames, display names, roles and password rules.

use super::policy::Role;
use super::validation::{required_text, ValidationErrors};

pub const MIN_PASSWORD_CHARS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDraft {
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The root of the community subtree the roles are granted for; none: the whole deployment.
    /// Whether the community exists and the granting admin reaches it is checked against the
    /// store ([`UserDraft::scoped_to`] only records it).
    pub community_id: Option<i64>,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
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
            parsed: super::Parsed(()),
            username,
            display_name,
            roles: parsed,
            community_id: None,
        })
    }

    /// The same account, its roles granted for the subtree under `community_id` (none: all).
    pub fn scoped_to(mut self, community_id: Option<i64>) -> Self {
        self.community_id = community_id;
        self
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

/// Shortest `YOUDE_ADMIN_TOKEN` accepted.
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;
/// Least estimated entropy of `YOUDE_ADMIN_TOKEN`, in bits: 32 random hex digits estimate at
/// about 115, `openssl rand -hex 32` at about 250.
pub const MIN_ADMIN_TOKEN_BITS: f64 = 96.0;

/// `YOUDE_ADMIN_TOKEN` acts as the first admin and bearer tokens are guessed by the thousand, so it
/// must be long and random: at least [`MIN_ADMIN_TOKEN_CHARS`] characters, and at least
/// [`MIN_ADMIN_TOKEN_BITS`] bits by the character-frequency estimate (length × Shannon entropy of
/// its characters), which refuses repeated or few-character tokens such as `aaaa…` or `1212…`.
pub fn check_admin_token(token: &str) -> Result<(), String> {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() < MIN_ADMIN_TOKEN_CHARS {
        return Err(format!(
            "YOUDE_ADMIN_TOKEN is too short ({} characters; at least {MIN_ADMIN_TOKEN_CHARS}): \
             generate one with `openssl rand -hex 32`",
            chars.len()
        ));
    }
    if chars.iter().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("YOUDE_ADMIN_TOKEN must not contain spaces or control characters".into());
    }
    let bits = estimated_bits(&chars);
    if bits < MIN_ADMIN_TOKEN_BITS {
        return Err(format!(
            "YOUDE_ADMIN_TOKEN looks guessable (about {bits:.0} bits; at least \
             {MIN_ADMIN_TOKEN_BITS:.0} needed): generate one with `openssl rand -hex 32`"
        ));
    }
    Ok(())
}

/// Length × Shannon entropy of the character frequencies.
fn estimated_bits(chars: &[char]) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in chars {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = chars.len() as f64;
    let per_char: f64 = counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum();
    per_char * n
}

#[cfg(test)]
mod admin_token_tests {
    use super::check_admin_token;

    #[test]
    fn short_or_repetitive_admin_tokens_are_refused_with_the_reason() {
        let short = check_admin_token("1234").unwrap_err();
        assert!(short.contains("too short"), "{short}");
        let same = check_admin_token(&"a".repeat(64)).unwrap_err();
        assert!(same.contains("guessable"), "{same}");
        let pattern = check_admin_token(&"12".repeat(20)).unwrap_err();
        assert!(pattern.contains("guessable"), "{pattern}");
        assert!(check_admin_token("with a space in it 0123456789abcdefghij").is_err());
    }

    #[test]
    fn random_admin_tokens_are_accepted() {
        // `openssl rand -hex 16` and `-hex 32`, and the shape of the tokens Youde issues.
        check_admin_token("9f1c4e07b2d85a36c0e7f49b1d2a8c53").unwrap();
        check_admin_token("3b9e0c5d7a41f2e86d0b3c9a5e7f1d24c8a6b0e2f4d1c7a9b5e3f0d8c2a4b6e1")
            .unwrap();
        check_admin_token("yd_k3J9xQ2mVbT7pL0wZr5sN8eYc4aHd1fGuK6iO_jM-Ex").unwrap();
    }
}
