//! Certificates (证书): the number in the issuing body's format, the unguessable verification
//! code, and what a certificate's standing is. A certificate is issued for a recognition
//! (荣誉证书); the record of volunteer hours (志愿服务记录证明) follows when hours exist.

use std::fmt;

/// Who issues certificates and how they are numbered (`YOUDE_CERT_*`). A certificate keeps the
/// values it was issued with; changing the settings changes only later ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The number's prefix, e.g. `长寿` in `长寿〔2019〕第001号`.
    pub prefix: String,
    /// The issuing body (落款), e.g. `长寿路街道办事处`.
    pub issuing_body: String,
    /// The signatory printed under the issuing body.
    pub signatory: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prefix: "长寿".into(),
            issuing_body: "上海市普陀区人民政府长寿路街道办事处".into(),
            signatory: "长寿路街道办事处".into(),
        }
    }
}

/// `长寿〔2019〕第001号`: the prefix, the year in 六角括号, the sequence of the year with at least
/// three digits.
pub fn number(prefix: &str, year: i32, seq: i32) -> String {
    format!("{prefix}〔{year}〕第{seq:03}号")
}

/// A number typed by hand, made comparable with stored ones: spaces dropped, the brackets people
/// type instead of 〔〕 (`[]`, `【】`, `()`, `（）`) and full-width digits normalised.
pub fn normalise_number(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '[' | '【' | '(' | '（' | '［' => '〔',
            ']' | '】' | ')' | '）' | '］' => '〕',
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            c => c,
        })
        .collect()
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new verification code: 128 bits from the operating system's CSPRNG, in lower-case base32
/// without padding (26 characters, fit for a URL and a QR code).
pub fn new_verification_code() -> String {
    let mut bytes = [0u8; 16];
    rand::TryRngCore::try_fill_bytes(&mut rand::rngs::OsRng, &mut bytes)
        .expect("the operating system's random source");
    base32(&bytes)
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A code as someone may have typed it (upper case, spaces), or `None` when it cannot be one:
/// refused before any database look-up.
pub fn parse_verification_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (code.len() == 26 && code.bytes().all(|b| BASE32.contains(&b))).then_some(code)
}

/// A certificate's standing, as the verify page states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// 有效
    Valid,
    /// 已被新证书替代 (reissued under a new number)
    Superseded,
    /// 已撤销
    Revoked,
}

impl Standing {
    /// Revocation weighs more than being superseded: a revoked honour shows as revoked.
    pub fn of(revoked: bool, superseded: bool) -> Self {
        match (revoked, superseded) {
            (true, _) => Standing::Revoked,
            (false, true) => Standing::Superseded,
            (false, false) => Standing::Valid,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Superseded => "superseded",
            Standing::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Valid => "有效",
            Standing::Superseded => "已被新证书替代",
            Standing::Revoked => "已撤销",
        }
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_document_number_format() {
        assert_eq!(number("长寿", 2019, 1), "长寿〔2019〕第001号");
        assert_eq!(number("长寿", 2026, 1234), "长寿〔2026〕第1234号");
    }

    #[test]
    fn numbers_typed_by_hand_match_the_stored_form() {
        assert_eq!(
            normalise_number(" 长寿[2019]第001号 "),
            "长寿〔2019〕第001号"
        );
        assert_eq!(
            normalise_number("长寿【２０１９】第００１号"),
            "长寿〔2019〕第001号"
        );
    }

    #[test]
    fn codes_carry_128_bits_and_parse_back_whatever_the_case() {
        let code = new_verification_code();
        assert_eq!(code.len(), 26);
        assert_ne!(code, new_verification_code());
        assert_eq!(
            parse_verification_code(&code.to_uppercase()).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(parse_verification_code("not-a-code"), None);
        assert_eq!(base32(&[0xff; 5]), "77777777");
        assert_eq!(base32(b"f"), "my");
    }

    #[test]
    fn a_revoked_certificate_is_revoked_even_when_superseded() {
        assert_eq!(Standing::of(true, true), Standing::Revoked);
        assert_eq!(Standing::of(false, true), Standing::Superseded);
        assert_eq!(Standing::of(false, false).label(), "有效");
    }
}
