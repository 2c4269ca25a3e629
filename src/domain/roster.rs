//! Rosters (名册): the rules for reading a residents sheet as 居委会 keep them in Excel or WPS —
//! headers matched by name in any order with their usual variants, cells cleaned as people type
//! them (full-width digits, stray spaces, phone numbers Excel stored as numbers), and every
//! problem said in Chinese with the column it is in.

use std::fmt;

/// A column of the residents roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Community,
    Phone,
    IdNumber,
    BirthYear,
    Address,
    Citation,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Name,
        Column::Community,
        Column::Phone,
        Column::IdNumber,
        Column::BirthYear,
        Column::Address,
        Column::Citation,
    ];

    /// Without these a sheet cannot be read at all.
    pub const REQUIRED: [Column; 2] = [Column::Name, Column::Community];

    /// The header the template writes (and reports name).
    pub fn header(self) -> &'static str {
        self.aliases()[0]
    }

    /// Headers people write for the column, the template's first; compared after
    /// [`header_key`].
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Column::Name => &["姓名", "名字", "居民姓名", "name"],
            Column::Community => &[
                "小区",
                "所属小区",
                "社区",
                "所属社区",
                "居民区",
                "community",
            ],
            Column::Phone => &[
                "手机号码",
                "手机",
                "手机号",
                "电话",
                "联系电话",
                "电话号码",
                "phone",
            ],
            Column::IdNumber => &[
                "身份证号码",
                "身份证",
                "身份证号",
                "公民身份号码",
                "id_number",
            ],
            Column::BirthYear => &["出生年份", "出生年", "出生年月", "birth_year"],
            Column::Address => &["住址", "地址", "家庭住址", "居住地址", "address"],
            Column::Citation => &["事迹简介", "事迹", "简介", "citation"],
        }
    }

    /// Whether the column holds private fields (exported only to roles that read them).
    pub fn is_private(self) -> bool {
        matches!(
            self,
            Column::Phone | Column::IdNumber | Column::BirthYear | Column::Address
        )
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header())
    }
}

/// Full-width ASCII (０-９, Ａ-Ｚ, （）) as half-width, the ideographic space as a space: for
/// numbers, codes and headers only, since Chinese text rightly uses full-width punctuation.
pub fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// A cell as it is meant: without surrounding or doubled spaces (non-breaking and
/// zero-width ones included; line breaks stay, a citation has paragraphs), and without the `'` an export puts before a cell that would
/// otherwise run as a formula (`'=`, `'+`, `'-`, `'@`).
pub fn clean_cell(s: &str) -> String {
    let s = s
        .replace(['\u{00A0}', '\u{3000}', '\t'], " ")
        .replace(['\u{200B}', '\u{FEFF}'], "");
    let lines: Vec<String> = s
        .replace("\r\n", "\n")
        .split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    let s = lines.join("\n").trim().to_string();
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest.to_string(),
        _ => s,
    }
}

/// How headers are compared: cleaned, without spaces, marks of required columns (`*`, `（必填）`)
/// or parenthesised notes, lower-case.
pub fn header_key(s: &str) -> String {
    let s = half_width(&clean_cell(s));
    let s = match s.find('(') {
        Some(i) if i > 0 => s[..i].to_string(),
        _ => s,
    };
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '*')
        .collect::<String>()
        .to_lowercase()
}

/// Which column each header is (none for columns Youde does not read), or the required headers
/// that are missing.
pub fn match_headers(headers: &[String]) -> Result<Vec<Option<Column>>, Vec<Column>> {
    let mut taken = Vec::new();
    let columns: Vec<Option<Column>> = headers
        .iter()
        .map(|h| {
            let key = header_key(h);
            let column = Column::ALL
                .into_iter()
                .find(|c| c.aliases().iter().any(|a| header_key(a) == key))
                .filter(|c| !taken.contains(c));
            taken.extend(column);
            column
        })
        .collect();
    let missing: Vec<Column> = Column::REQUIRED
        .into_iter()
        .filter(|c| !taken.contains(c))
        .collect();
    if missing.is_empty() {
        Ok(columns)
    } else {
        Err(missing)
    }
}

/// A phone number as people and Excel write it: `138 1234 5678`, `1.3812345678E+10` (a number
/// column shown in scientific notation and saved as text).
pub fn clean_phone(s: &str) -> String {
    let s = half_width(&clean_cell(s));
    if let Some((mantissa, exponent)) = s.to_ascii_uppercase().split_once("E+") {
        if let (Ok(m), Ok(e)) = (mantissa.parse::<f64>(), exponent.parse::<i32>()) {
            let value = m * 10f64.powi(e);
            if value.fract() == 0.0 && value < 1e16 {
                return format!("{value:.0}");
            }
        }
    }
    s
}

/// A birth year from `1956`, `1956年`, `1956.0`, `1956-03`, `1956年3月` or `1956/3/1`.
pub fn parse_birth_year(s: &str) -> Result<i32, String> {
    let s = half_width(&clean_cell(s));
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    let rest = &s[digits.len()..];
    let plausible_rest = rest.is_empty()
        || rest == ".0"
        || rest.starts_with('年')
        || rest.starts_with('-')
        || rest.starts_with('/')
        || rest.starts_with('.');
    match digits.parse::<i32>() {
        Ok(year) if digits.len() == 4 && plausible_rest => Ok(year),
        _ => Err(format!("无法识别的出生年份“{s}”，应为 4 位年份，如 1956")),
    }
}

/// What is wrong with one cell of a roster, said in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellProblem {
    /// The row as the spreadsheet numbers it (the header row is usually 1).
    pub row: usize,
    /// The column's header as the file has it (or the template's, when the column is missing).
    pub column: String,
    pub value: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_by_name_in_any_order_with_their_variants() {
        let headers: Vec<String> = [
            "联系电话",
            " 名字 ",
            "所属社区*",
            "备注",
            "身份证号码（必填）",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            match_headers(&headers).unwrap(),
            [
                Some(Column::Phone),
                Some(Column::Name),
                Some(Column::Community),
                None,
                Some(Column::IdNumber)
            ]
        );
        let missing = match_headers(&["电话".to_string()]).unwrap_err();
        assert_eq!(missing, [Column::Name, Column::Community]);
    }

    #[test]
    fn cells_are_read_as_people_mean_them() {
        assert_eq!(clean_cell("  张\u{3000}丽 "), "张 丽");
        assert_eq!(half_width("１３８１２３４５６７８"), "13812345678");
        assert_eq!(
            clean_cell("热心公益，乐于助人"),
            "热心公益，乐于助人",
            "text keeps its punctuation"
        );
        assert_eq!(clean_cell("'=1+1"), "=1+1", "an export's neutralising mark");
        assert_eq!(clean_cell("'引号"), "'引号");
        assert_eq!(clean_cell(" 第一段 \r\n\r\n第二段\n"), "第一段\n\n第二段");
        assert_eq!(clean_phone("1.3812345678E+10"), "13812345678");
        assert_eq!(clean_phone("138 1234 5678"), "138 1234 5678");
        for s in [
            "1956",
            "1956年",
            "1956.0",
            "1956-03",
            "1956年3月",
            "１９５６",
        ] {
            assert_eq!(parse_birth_year(s), Ok(1956), "{s}");
        }
        assert!(parse_birth_year("五六年").is_err());
        assert!(parse_birth_year("56").is_err());
    }
}
