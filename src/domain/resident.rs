//! Residents: public identity and citation, and private fields (phone, ID number, birth year,
//! address) that no public output may ever contain.

use chrono::{Datelike, Utc};

use super::naming;
use super::validation::{optional_text, required_text, ValidationErrors};

/// A resident as it arrives, before validation.
#[derive(Debug, Clone, Default)]
pub struct ResidentInput {
    pub name: String,
    pub community_id: i64,
    pub citation: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub birth_year: Option<i32>,
    pub address: Option<String>,
}

/// Fields only staff may see. Kept in one struct so that public views cannot carry it by accident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivateFields {
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub birth_year: Option<i32>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentDraft {
    pub name: String,
    /// Derived from the name, never typed in.
    pub pinyin: String,
    pub community_id: i64,
    /// Public citation / bio in Markdown (rendered and sanitised by the pages).
    pub citation: Option<String>,
    pub private: PrivateFields,
    /// Made by `parse` only (see [`crate::domain::Parsed`]).
    pub parsed: super::Parsed,
}

pub const MAX_CITATION_CHARS: usize = 20_000;

impl ResidentDraft {
    pub fn parse(input: ResidentInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let name = required_text(&mut errors, "name", &input.name, 40);
        let citation = optional_text(
            &mut errors,
            "citation",
            input.citation.as_deref(),
            MAX_CITATION_CHARS,
        );
        let phone = optional_text(&mut errors, "phone", input.phone.as_deref(), 30);
        if let Some(p) = &phone {
            let digits = p.chars().filter(char::is_ascii_digit).count();
            if !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c))
                || !(7..=15).contains(&digits)
            {
                errors.add("phone", "电话号码应为 7–15 位数字，可含 + - ( ) 和空格");
            }
        }
        let id_number = optional_text(&mut errors, "id_number", input.id_number.as_deref(), 18)
            .map(|s| s.to_ascii_uppercase());
        if let Some(id) = &id_number {
            if !valid_id_number(id) {
                errors.add("id_number", "身份证号码应为 18 位且校验位正确");
            }
        }
        if let Some(year) = input.birth_year {
            let this_year = Utc::now().year();
            if !(1900..=this_year).contains(&year) {
                errors.add(
                    "birth_year",
                    format!("出生年份应在 1900 至 {this_year} 之间"),
                );
            }
        }
        let address = optional_text(&mut errors, "address", input.address.as_deref(), 200);
        if input.community_id <= 0 {
            errors.add("community_id", "请选择所属社区");
        }
        let pinyin = naming::person_pinyin(&name);
        errors.finish(|| ResidentDraft {
            parsed: super::Parsed(()),
            name,
            pinyin,
            community_id: input.community_id,
            citation,
            private: PrivateFields {
                phone,
                id_number,
                birth_year: input.birth_year,
                address,
            },
        })
    }
}

/// GB 11643 resident ID: 17 digits and a check character computed by ISO 7064 MOD 11-2.
pub fn valid_id_number(id: &str) -> bool {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    bytes[17] == CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_checked() {
        assert!(valid_id_number("11010519491231002X"));
        assert!(!valid_id_number("110105194912310021"));
        assert!(!valid_id_number("1101051949123100"));
    }

    #[test]
    fn pinyin_is_derived_and_bad_private_fields_are_named() {
        let ok = ResidentDraft::parse(ResidentInput {
            name: " 孙建伟 ".into(),
            community_id: 4,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (ok.name.as_str(), ok.pinyin.as_str()),
            ("孙建伟", "sun jianwei")
        );
        let bad = ResidentDraft::parse(ResidentInput {
            name: "孙建伟".into(),
            community_id: 4,
            phone: Some("call me".into()),
            birth_year: Some(1850),
            ..Default::default()
        })
        .unwrap_err();
        let fields: Vec<&str> = bad.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phone", "birth_year"]);
    }
}
