//! Certificates (证书): the number in the issuing body's format, the unguessable verification
//! code, and what a certificate's standing is. A certificate is issued for a recognition
//! (荣誉证书) or for a resident's volunteer hours over a period (志愿服务记录证明), which states
//! the ID number only masked and counts the hours of the records that lie wholly in the period.

use std::fmt;

use chrono::NaiveDate;

use super::measure::Unit;
use super::service_record::RecordFacts;
use super::service_record::RecordKind;

/// Who issues certificates and how they are numbered (`YOUDE_CERT_*`). A certificate keeps the
/// values it was issued with; changing the settings changes only later ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The number's prefix, e.g. `长寿` in `长寿〔2019〕第001号`.
    pub prefix: String,
    /// The issuing body (落款), e.g. `上海市{区}人民政府{街道}办事处`: `{区}` and `{街道}` are filled
    /// in from the holder's community tree (see [`fill_issuer`]).
    pub issuing_body: String,
    /// The signatory printed under the issuing body, e.g. `{街道}办事处`.
    pub signatory: String,
    /// `YOUDE_CERT_FONT`: the CJK font file for PDFs (`path` or `path#face`); found on the
    /// system when `None`.
    pub font: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prefix: "长寿".into(),
            issuing_body: DEFAULT_ISSUER.into(),
            signatory: DEFAULT_SIGNATORY.into(),
            font: None,
        }
    }
}

/// The issuing body of a deployment that names none: the holder's own district government and
/// 街道 office (上海市普陀区人民政府长寿路街道办事处 for a resident of 长寿路街道).
pub const DEFAULT_ISSUER: &str = "上海市{区}人民政府{街道}办事处";
/// The signatory of a deployment that names none.
pub const DEFAULT_SIGNATORY: &str = "{街道}办事处";

/// Whether `template` names the holder's district or 街道, so their community tree is needed.
pub fn names_the_tree(template: &str) -> bool {
    template.contains("{区}") || template.contains("{街道}")
}

/// `template` with `{区}` and `{街道}` replaced by the names of the holder's district and 街道
/// (`None` when their community lies in none: the placeholder is left out).
pub fn fill_issuer(template: &str, district: Option<&str>, subdistrict: Option<&str>) -> String {
    template
        .replace("{区}", district.unwrap_or_default())
        .replace("{街道}", subdistrict.unwrap_or_default())
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

/// An ID number as a certificate prints it (部分隐去): the first four and the last four
/// characters, the ten between (birth date and most of the sequence) as `*`:
/// `310107196803124411` → `3101**********4411`. Anything shorter than nine characters is masked
/// whole but for its last character.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let n = chars.len();
    let (head, tail) = if n >= 9 { (4, 4) } else { (0, 1.min(n)) };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

/// The days a record's hours belong to: from the first day its start covers to the last day its
/// end (or, without an end, its start) covers. An ongoing role (no end) has no such span: its
/// hours cannot be placed in a period.
pub fn record_span(record: &RecordFacts) -> Option<(NaiveDate, NaiveDate)> {
    let end = match record.period.end {
        Some(end) => end,
        None if record.kind == RecordKind::Role => return None,
        None => record.period.start,
    };
    Some((record.period.start.first_day(), end.last_day()))
}

/// The hours of a record (the sum of its 小时 measures), if it has any.
pub fn record_hours(record: &RecordFacts) -> Option<f64> {
    let hours: Vec<f64> = record
        .measures
        .iter()
        .filter(|m| m.unit() == Unit::Hours)
        .map(|m| m.value())
        .collect();
    (!hours.is_empty()).then(|| hours.iter().sum())
}

/// What a 志愿服务记录证明 for `from..=to` counts of a resident's records: the indexes of the
/// records with hours lying wholly in the period, their total, and those with hours that reach
/// over its bounds (left out: a certificate states no hours it cannot place in the period, and a
/// record's hours cannot be split).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HoursInPeriod {
    pub counted: Vec<usize>,
    pub left_out: Vec<usize>,
    pub total: f64,
}

impl HoursInPeriod {
    pub fn count(records: &[RecordFacts], from: NaiveDate, to: NaiveDate) -> Self {
        let mut out = HoursInPeriod::default();
        for (i, record) in records.iter().enumerate() {
            let Some(hours) = record_hours(record) else {
                continue;
            };
            match record_span(record) {
                Some((start, end)) if from <= start && end <= to => {
                    out.counted.push(i);
                    out.total += hours;
                }
                Some((start, end)) if end < from || to < start => {}
                _ => out.left_out.push(i),
            }
        }
        out
    }
}

/// The period a 志愿服务记录证明 covers, as typed (`2019-01-01`, `2019-12-31`): both days
/// required, the first not after the last, the last not after `today` (hours not yet served are
/// not certified).
pub fn parse_period(
    from: &str,
    to: &str,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), super::ValidationErrors> {
    let mut errors = super::ValidationErrors::default();
    let from = super::consent::parse_date(&mut errors, "from", from);
    let to = super::consent::parse_date(&mut errors, "to", to);
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            errors.add("to", "结束日期不能早于开始日期");
        } else if t > today {
            errors.add("to", format!("结束日期不能晚于今天（{today}）"));
        }
    }
    errors.finish(|| (from.unwrap_or_default(), to.unwrap_or_default()))
}

/// `2026年11月30日`, as certificates are dated.
pub fn chinese_date(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// 2.5 → `2.5`, 100.0 → `100`: hours as a certificate prints them.
pub fn format_hours(hours: f64) -> String {
    super::measure::format_number(hours)
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
    fn a_period_runs_forward_and_ends_by_today() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert!(parse_period("2019-01-01", "2019-12-31", today).is_ok());
        assert!(parse_period("2019-12-31", "2019-01-01", today).is_err());
        assert!(parse_period("2026-01-01", "2026-12-31", today).is_err());
        assert!(parse_period("2019", "2019-12-31", today).is_err());
    }

    #[test]
    fn id_numbers_are_printed_masked() {
        assert_eq!(mask_id_number("310107196803124411"), "3101**********4411");
        assert_eq!(mask_id_number("11010519491231002X"), "1101**********002X");
        assert_eq!(mask_id_number("1234"), "***4");
    }

    fn record(kind: RecordKind, start: &str, end: Option<&str>, hours: &[f64]) -> RecordFacts {
        use crate::domain::measure::{Measure, Qualifier};
        use crate::domain::partial_date::{PartialDate, Period};
        RecordFacts {
            kind,
            period: Period::new(
                PartialDate::parse(start).unwrap(),
                end.map(|e| PartialDate::parse(e).unwrap()),
            )
            .unwrap(),
            unpaid: true,
            measures: hours
                .iter()
                .map(|h| Measure::new(*h, Unit::Hours, Qualifier::Exact).unwrap())
                .collect(),
            known_until: None,
        }
    }

    #[test]
    fn hours_count_only_when_their_record_lies_wholly_in_the_period() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let records = [
            record(RecordKind::Activity, "2019-08-28", None, &[2.5]),
            record(RecordKind::Activity, "2019-12-31", None, &[3.0]),
            record(RecordKind::Activity, "2020-01-01", None, &[4.0]),
            record(RecordKind::VolunteerHours, "2019", None, &[60.0]),
            record(
                RecordKind::VolunteerHours,
                "2018-12",
                Some("2019-02"),
                &[7.0],
            ),
            record(RecordKind::Role, "2019-01", None, &[10.0]),
            record(RecordKind::Activity, "2019-05-01", None, &[]),
        ];
        let year = HoursInPeriod::count(&records, day("2019-01-01"), day("2019-12-31"));
        assert_eq!(year.counted, [0, 1, 3]);
        assert_eq!(year.total, 65.5);
        assert_eq!(year.left_out, [4, 5], "over the bounds, or ongoing");
        let autumn = HoursInPeriod::count(&records, day("2019-08-01"), day("2019-12-31"));
        assert_eq!(autumn.counted, [0, 1]);
        assert_eq!(autumn.left_out, [3, 5], "the year-long record reaches over");
        assert_eq!(format_hours(autumn.total), "5.5");
    }

    #[test]
    fn a_revoked_certificate_is_revoked_even_when_superseded() {
        assert_eq!(Standing::of(true, true), Standing::Revoked);
        assert_eq!(Standing::of(false, true), Standing::Superseded);
        assert_eq!(Standing::of(false, false).label(), "有效");
    }
}
