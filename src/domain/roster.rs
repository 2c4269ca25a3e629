//! Rosters (名册): the rules for reading a residents sheet as 居委会 keep them in Excel or WPS —
//! headers matched by name in any order with their usual variants, cells cleaned as people type
//! them (full-width digits, stray spaces, phone numbers Excel stored as numbers), and every
//! problem said in Chinese with the column it is in.

use std::fmt;

use chrono::NaiveDate;

use super::measure::{Measure, Qualifier, Unit};
use super::partial_date::PartialDate;
use super::service_record::RecordKind;

/// What a roster holds: residents, service records, or activity participation (签到表) with hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SheetKind {
    Residents,
    ServiceRecords,
    Participation,
}

impl SheetKind {
    pub const ALL: [SheetKind; 3] = [
        SheetKind::Residents,
        SheetKind::ServiceRecords,
        SheetKind::Participation,
    ];

    /// The API's name: `residents`, `service_records`, `participation`.
    pub fn code(self) -> &'static str {
        match self {
            SheetKind::Residents => "residents",
            SheetKind::ServiceRecords => "service_records",
            SheetKind::Participation => "participation",
        }
    }

    pub fn parse(code: &str) -> Option<SheetKind> {
        SheetKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// How the console and reports name it.
    pub fn label(self) -> &'static str {
        match self {
            SheetKind::Residents => "居民名册",
            SheetKind::ServiceRecords => "服务记录",
            SheetKind::Participation => "活动签到表",
        }
    }

    /// The columns, in the template's order.
    pub fn columns(self) -> &'static [Column] {
        match self {
            SheetKind::Residents => &Column::RESIDENTS,
            SheetKind::ServiceRecords => &[
                Column::Name,
                Column::Community,
                Column::IdNumber,
                Column::RecordKind,
                Column::Title,
                Column::Organisation,
                Column::Start,
                Column::End,
                Column::Amount,
                Column::Unit,
                Column::Qualifier,
                Column::Unpaid,
                Column::Evidence,
                Column::RecordedBy,
                Column::VerifiedBy,
            ],
            SheetKind::Participation => &[
                Column::Activity,
                Column::Date,
                Column::Place,
                Column::Organiser,
                Column::DefaultHours,
                Column::Name,
                Column::Community,
                Column::IdNumber,
                Column::Hours,
                Column::RecordedBy,
                Column::VerifiedBy,
            ],
        }
    }

    /// Without these a sheet of this kind cannot be read at all.
    pub fn required(self) -> &'static [Column] {
        match self {
            SheetKind::Residents => &[Column::Name, Column::Community],
            SheetKind::ServiceRecords => &[
                Column::Name,
                Column::Community,
                Column::RecordKind,
                Column::Title,
                Column::Start,
            ],
            SheetKind::Participation => &[
                Column::Activity,
                Column::Date,
                Column::Name,
                Column::Community,
            ],
        }
    }
}

/// A column of a roster (of one kind or several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Community,
    Phone,
    IdNumber,
    BirthYear,
    Address,
    Citation,
    /// 类型 of a service record.
    RecordKind,
    Title,
    Organisation,
    Start,
    End,
    /// 数量: one or more amounts as people write them (`60几个`, `100多万`, `约50`).
    Amount,
    /// 计量单位 of the amounts that name none.
    Unit,
    /// 限定词 of the amounts that carry none (准确 / 以上 / 约).
    Qualifier,
    Unpaid,
    Evidence,
    RecordedBy,
    VerifiedBy,
    Activity,
    Date,
    Place,
    Organiser,
    DefaultHours,
    Hours,
}

impl Column {
    /// The residents roster's columns.
    pub const RESIDENTS: [Column; 7] = [
        Column::Name,
        Column::Community,
        Column::Phone,
        Column::IdNumber,
        Column::BirthYear,
        Column::Address,
        Column::Citation,
    ];

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
            Column::RecordKind => &["类型", "记录类型", "服务类型", "kind"],
            Column::Title => &["事项", "名称", "服务事项", "服务内容", "内容", "title"],
            Column::Organisation => &["所在组织", "组织", "单位", "所在单位", "organisation"],
            Column::Start => &["开始时间", "开始日期", "开始", "时间", "start"],
            Column::End => &["结束时间", "结束日期", "结束", "end"],
            Column::Amount => &["数量", "数额", "成果", "amount"],
            Column::Unit => &["计量单位", "量词", "unit"],
            Column::Qualifier => &["限定词", "精确程度", "qualifier"],
            Column::Unpaid => &["是否无偿", "无偿", "unpaid"],
            Column::Evidence => &["证明材料", "依据", "佐证", "evidence"],
            Column::RecordedBy => &["记录人", "记录单位", "recorded_by"],
            Column::VerifiedBy => &["核实人", "verified_by"],
            Column::Activity => &["活动", "活动名称", "活动标题", "activity"],
            Column::Date => &["日期", "活动日期", "活动时间", "date"],
            Column::Place => &["地点", "活动地点", "place"],
            Column::Organiser => &["组织者", "组织单位", "主办", "主办单位", "organiser"],
            Column::DefaultHours => &["默认时长", "活动时长", "default_hours"],
            Column::Hours => &["时长", "服务时长", "志愿服务时长", "小时", "工时", "hours"],
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

/// Which column of a `kind` sheet each header is (none for columns Youde does not read), or the
/// required headers that are missing.
pub fn match_headers(
    kind: SheetKind,
    headers: &[String],
) -> Result<Vec<Option<Column>>, Vec<Column>> {
    let mut taken = Vec::new();
    let columns: Vec<Option<Column>> = headers
        .iter()
        .map(|h| {
            let key = header_key(h);
            let column = kind
                .columns()
                .iter()
                .copied()
                .find(|c| c.aliases().iter().any(|a| header_key(a) == key))
                .filter(|c| !taken.contains(c));
            taken.extend(column);
            column
        })
        .collect();
    let missing: Vec<Column> = kind
        .required()
        .iter()
        .copied()
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

/// An Excel serial day (1900 date system, with its phantom 29 February 1900).
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    let days = serial.floor() as i64;
    let days = if days < 60 { days + 1 } else { days };
    Some(base + chrono::Duration::days(days))
}

/// A date as people type it: `2019`, `2019.8`, `2019年8月`, `2019年8月28日`, `2019/08/28`,
/// `2019-8-28`, `20190828`, or an Excel serial day (`43705`, a date cell whose format was lost),
/// with full-width digits and stray spaces. Known to the precision written, never more.
pub fn parse_date(s: &str) -> Result<PartialDate, String> {
    let cleaned = clean_cell(s);
    let t: String = half_width(&cleaned)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let err = || {
        format!(
            "无法识别的日期“{cleaned}”，可写作 2019、2019.8、2019年8月、2019/08/28 或 2019-08-28"
        )
    };
    if t.is_empty() {
        return Err("缺少日期".into());
    }
    let digits_only = t.bytes().all(|b| b.is_ascii_digit());
    if digits_only && t.len() == 8 {
        return PartialDate::parse(&format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..]))
            .map_err(|_| err());
    }
    let integer = t.split('.').next().unwrap_or("");
    if integer.len() == 5 && integer.bytes().all(|b| b.is_ascii_digit()) {
        let serial: f64 = t.parse().map_err(|_| err())?;
        return excel_serial_date(serial)
            .map(PartialDate::from_date)
            .filter(|d| (PartialDate::MIN_YEAR..=2100).contains(&d.year()))
            .ok_or_else(err);
    }
    let t = t.trim_end_matches(['日', '号']);
    let unified: String = t
        .chars()
        .map(|c| match c {
            '年' | '月' | '.' | '/' | '-' => '-',
            c => c,
        })
        .collect();
    let parts: Vec<&str> = unified.trim_end_matches('-').split('-').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || p.len() > 4 || !p.bytes().all(|b| b.is_ascii_digit()))
        || parts[0].len() != 4
        || parts[1..].iter().any(|p| p.len() > 2)
    {
        return Err(err());
    }
    let mut text = parts[0].to_string();
    for p in &parts[1..] {
        text.push_str(&format!("-{p:0>2}"));
    }
    PartialDate::parse(&text).map_err(|_| err())
}

/// One amount of a 数量 cell: the unit and the qualifier when the cell says them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Amount {
    pub value: f64,
    pub unit: Option<Unit>,
    pub qualifier: Option<Qualifier>,
}

/// The words that follow a number for each unit; the first is the template's.
fn unit_words(unit: Unit) -> &'static [&'static str] {
    match unit {
        Unit::VisitBatches => &["批次", "批"],
        Unit::YuanSaved => &["节约资金（元）", "节约资金(元)", "节约资金", "节约元"],
        Unit::Yuan => &["元", "块"],
        Unit::Compounds => &["个小区", "小区"],
        Unit::Households => &["户"],
        Unit::People => &["人", "人次", "名", "位"],
        Unit::Hours => &["小时", "个小时", "h"],
        Unit::Days => &["天", "日"],
        Unit::Months => &["个月", "月"],
        Unit::Percent => &["%", "％"],
        Unit::Items => &["项", "份", "篇", "本", "件"],
    }
}

/// The unit as the template's 计量单位 dropdown names it.
pub fn unit_label(unit: Unit) -> &'static str {
    unit_words(unit)[0]
}

/// The qualifier as the template's 限定词 dropdown names it.
pub fn qualifier_label(qualifier: Qualifier) -> &'static str {
    match qualifier {
        Qualifier::Exact => "准确",
        Qualifier::AtLeast => "以上",
        Qualifier::About => "约",
    }
}

/// A 计量单位 cell: the dropdown's label, a counter word, or the API's code.
pub fn parse_unit(s: &str) -> Result<Unit, String> {
    let t = half_width(&clean_cell(s)).to_lowercase();
    Unit::ALL
        .into_iter()
        .find(|u| u.code() == t || unit_words(*u).iter().any(|w| half_width(w) == t))
        .ok_or_else(|| {
            let labels: Vec<&str> = Unit::ALL.into_iter().map(unit_label).collect();
            format!(
                "无法识别的计量单位“{}”，应为 {}",
                clean_cell(s),
                labels.join("、")
            )
        })
}

/// A 限定词 cell: 准确, 以上 (余, 多, 至少), 约 (大约, 左右), or the API's code.
pub fn parse_qualifier(s: &str) -> Result<Qualifier, String> {
    let t = half_width(&clean_cell(s)).to_lowercase();
    match t.as_str() {
        "准确" | "确切" | "精确" | "exact" => Ok(Qualifier::Exact),
        "以上" | "余" | "多" | "至少" | "不少于" | "at_least" => Ok(Qualifier::AtLeast),
        "约" | "大约" | "左右" | "估计" | "about" => Ok(Qualifier::About),
        _ => Err(format!(
            "无法识别的限定词“{}”，应为 准确、以上 或 约",
            clean_cell(s)
        )),
    }
}

/// A 数量 cell as people write it: `38`, `60几个`, `100多万`, `30万元`, `约50`, `200人左右`,
/// `1.5万`, `3,000`, full-width digits; several amounts separated by `；` or `、`
/// (`60余个小区；约200人`). `节约30万元` is money saved. Each amount's unit and qualifier are
/// there when the cell says them.
pub fn parse_amounts(s: &str) -> Result<Vec<Amount>, String> {
    let cleaned = clean_cell(s);
    let mut amounts = Vec::new();
    for part in cleaned
        .split(['；', ';', '、', '\n'])
        .filter(|p| !p.trim().is_empty())
    {
        amounts.push(parse_amount(part)?);
    }
    if amounts.is_empty() {
        return Err("缺少数量".into());
    }
    Ok(amounts)
}

fn parse_amount(part: &str) -> Result<Amount, String> {
    let original = part.trim();
    let err = || format!("无法识别的数量“{original}”，可写作 38、60几个、100多万、30万元 或 约50");
    let t: String = half_width(original)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    let (saved, t) = match t
        .strip_prefix("节约资金")
        .or_else(|| t.strip_prefix("节约"))
    {
        Some(rest) => (true, rest),
        None => (false, t.as_str()),
    };
    let mut qualifier = None;
    let mut t = t;
    for prefix in ["大约", "将近", "约为", "约", "近", "估计"] {
        if let Some(rest) = t.strip_prefix(prefix) {
            qualifier = Some(Qualifier::About);
            t = rest;
            break;
        }
    }
    let number_len = t
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map_or(t.len(), |(i, _)| i);
    let mut value: f64 = t[..number_len].parse().map_err(|_| err())?;
    let mut rest = &t[number_len..];
    loop {
        let before = rest;
        for (marker, q) in [
            ("以上", Qualifier::AtLeast),
            ("余", Qualifier::AtLeast),
            ("多", Qualifier::AtLeast),
            ("几", Qualifier::AtLeast),
            ("+", Qualifier::AtLeast),
            ("左右", Qualifier::About),
            ("上下", Qualifier::About),
        ] {
            if let Some(r) = rest.strip_prefix(marker) {
                qualifier = Some(qualifier.map_or(q, |old: Qualifier| old.combine(q)));
                rest = r;
            }
            if let Some(r) = rest
                .strip_suffix(marker)
                .filter(|_| marker.chars().count() > 1)
            {
                qualifier = Some(qualifier.map_or(q, |old: Qualifier| old.combine(q)));
                rest = r;
            }
        }
        for (marker, factor) in [("万", 1e4), ("千", 1e3), ("亿", 1e8)] {
            if let Some(r) = rest.strip_prefix(marker) {
                value *= factor;
                rest = r;
            }
        }
        if rest == before {
            break;
        }
    }
    let unit = match rest {
        "" | "个" => None,
        word => {
            let word = word.to_lowercase();
            let unit = Unit::ALL
                .into_iter()
                .find(|u| unit_words(*u).iter().any(|w| half_width(w) == word))
                .ok_or_else(err)?;
            Some(unit)
        }
    };
    let unit = match (saved, unit) {
        (false, unit) => unit,
        (true, None | Some(Unit::Yuan) | Some(Unit::YuanSaved)) => Some(Unit::YuanSaved),
        (true, Some(_)) => return Err(err()),
    };
    if !value.is_finite() || value > Measure::MAX_VALUE {
        return Err(err());
    }
    Ok(Amount {
        value,
        unit,
        qualifier,
    })
}

/// A measure as the export writes it and [`parse_amounts`] reads it back: `60余个小区`,
/// `100余万元`, `节约30万元`, `约200人`.
pub fn amount_text(m: &Measure) -> String {
    match m.unit() {
        Unit::YuanSaved => format!("节约{}", m.to_chinese()),
        _ => m.to_chinese(),
    }
}

/// A 时长（小时） cell: an exact number of hours (`2`, `1.5`, `2小时`, `２`).
pub fn parse_hours(s: &str) -> Result<f64, String> {
    let message = || {
        format!(
            "无法识别的时长“{}”，应为确切的小时数，如 2 或 1.5",
            clean_cell(s)
        )
    };
    match parse_amounts(s).map_err(|_| message())?.as_slice() {
        [Amount {
            value,
            unit: None | Some(Unit::Hours),
            qualifier: None | Some(Qualifier::Exact),
        }] => Ok(*value),
        _ => Err(message()),
    }
}

/// A 类型 cell: the record kind's Chinese name (担任职务, 接待参访…) or the API's code.
pub fn parse_record_kind(s: &str) -> Result<RecordKind, String> {
    let t = clean_cell(s);
    let lower = t.to_lowercase();
    RecordKind::ALL
        .into_iter()
        .find(|k| k.label() == t || k.code() == lower)
        .ok_or_else(|| {
            let labels: Vec<&str> = RecordKind::ALL.into_iter().map(|k| k.label()).collect();
            format!("无法识别的类型“{t}”，应为 {}", labels.join("、"))
        })
}

/// A yes-or-no cell (是否无偿): 是/否, 无偿/有偿, Y/N, √/×, 1/0.
pub fn parse_yes_no(s: &str) -> Result<bool, String> {
    let t = half_width(&clean_cell(s)).to_lowercase();
    match t.as_str() {
        "是" | "无偿" | "y" | "yes" | "true" | "1" | "√" | "对" => Ok(true),
        "否" | "有偿" | "n" | "no" | "false" | "0" | "×" | "x" => Ok(false),
        _ => Err(format!("无法识别“{}”，应填 是 或 否", clean_cell(s))),
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
            match_headers(SheetKind::Residents, &headers).unwrap(),
            [
                Some(Column::Phone),
                Some(Column::Name),
                Some(Column::Community),
                None,
                Some(Column::IdNumber)
            ]
        );
        let missing = match_headers(SheetKind::Residents, &["电话".to_string()]).unwrap_err();
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

    #[test]
    fn dates_are_read_as_people_type_them() {
        let cases = [
            ("2019", "2019"),
            ("2019.8", "2019-08"),
            ("2019.08", "2019-08"),
            ("2019年8月", "2019-08"),
            ("2019年8月28日", "2019-08-28"),
            ("2019/08/28", "2019-08-28"),
            ("2019/8/28", "2019-08-28"),
            ("2019-8-28", "2019-08-28"),
            ("2019.8.28", "2019-08-28"),
            ("20190828", "2019-08-28"),
            ("43705", "2019-08-28"),
            ("43705.5", "2019-08-28"),
            ("２０１９年８月", "2019-08"),
            (" 2019 / 08 / 28 ", "2019-08-28"),
            ("2019年", "2019"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_date(input).map(|d| d.to_string()),
                Ok(expected.to_string()),
                "{input}"
            );
        }
        for bad in [
            "去年",
            "2019.13",
            "2019/02/30",
            "19.8",
            "8月28日",
            "2019-8-28-1",
            "99999",
        ] {
            let message = parse_date(bad).unwrap_err();
            assert!(message.contains("无法识别的日期"), "{bad}: {message}");
            assert!(
                message.contains("2019年8月"),
                "{bad}: the message shows how to write it"
            );
        }
        assert_eq!(parse_date(" ").unwrap_err(), "缺少日期");
    }

    #[test]
    fn amounts_are_read_as_people_write_them() {
        let one = |s: &str| parse_amounts(s).unwrap()[0];
        let amount = |value, unit, qualifier| Amount {
            value,
            unit,
            qualifier,
        };
        assert_eq!(one("38"), amount(38.0, None, None));
        assert_eq!(one("60几个"), amount(60.0, None, Some(Qualifier::AtLeast)));
        assert_eq!(
            one("60几个小区"),
            amount(60.0, Some(Unit::Compounds), Some(Qualifier::AtLeast))
        );
        assert_eq!(
            one("100多万"),
            amount(1_000_000.0, None, Some(Qualifier::AtLeast))
        );
        assert_eq!(one("30万元"), amount(300_000.0, Some(Unit::Yuan), None));
        assert_eq!(one("约50"), amount(50.0, None, Some(Qualifier::About)));
        assert_eq!(
            one("200人左右"),
            amount(200.0, Some(Unit::People), Some(Qualifier::About))
        );
        assert_eq!(
            one("１００余万元"),
            amount(1_000_000.0, Some(Unit::Yuan), Some(Qualifier::AtLeast))
        );
        assert_eq!(
            one(" 3,000 户 "),
            amount(3000.0, Some(Unit::Households), None)
        );
        assert_eq!(one("1.5万"), amount(15_000.0, None, None));
        assert_eq!(
            one("节约30万元"),
            amount(300_000.0, Some(Unit::YuanSaved), None)
        );
        assert_eq!(one("89.2%"), amount(89.2, Some(Unit::Percent), None));
        assert_eq!(parse_amounts("60余个小区；约200人").unwrap().len(), 2);
        for bad in ["很多", "五十", "60斤", "节约3户", "约", ""] {
            assert!(parse_amounts(bad).is_err(), "{bad}");
        }
        assert!(parse_amounts("60斤")
            .unwrap_err()
            .contains("无法识别的数量“60斤”"));
        assert_eq!(parse_amounts("  ").unwrap_err(), "缺少数量");
    }

    #[test]
    fn every_measure_the_export_writes_reads_back() {
        for unit in Unit::ALL {
            for qualifier in Qualifier::ALL {
                for value in [0.0, 7.0, 38.0, 89.5, 15_000.0, 1_000_000.0] {
                    let Ok(m) = Measure::new(value, unit, qualifier) else {
                        continue;
                    };
                    let text = amount_text(&m);
                    let back = parse_amounts(&text).unwrap()[0];
                    assert_eq!(back.value, value, "{text}");
                    assert_eq!(back.unit, Some(unit), "{text}");
                    assert_eq!(
                        back.qualifier.unwrap_or(Qualifier::Exact),
                        qualifier,
                        "{text}"
                    );
                }
            }
            assert_eq!(parse_unit(unit_label(unit)), Ok(unit));
            assert_eq!(parse_unit(unit.code()), Ok(unit));
        }
        for q in Qualifier::ALL {
            assert_eq!(parse_qualifier(qualifier_label(q)), Ok(q));
        }
        assert!(parse_unit("斤").unwrap_err().contains("计量单位"));
        assert!(parse_qualifier("大概吧").unwrap_err().contains("限定词"));
    }

    #[test]
    fn hours_kinds_and_yes_no_cells() {
        assert_eq!(parse_hours("2"), Ok(2.0));
        assert_eq!(parse_hours("１.５"), Ok(1.5));
        assert_eq!(parse_hours("2小时"), Ok(2.0));
        for bad in ["约2", "2天", "两小时", "2；3"] {
            assert!(
                parse_hours(bad).unwrap_err().contains("应为确切的小时数"),
                "{bad}"
            );
        }
        assert_eq!(parse_record_kind("担任职务"), Ok(RecordKind::Role));
        assert_eq!(parse_record_kind("survey"), Ok(RecordKind::Survey));
        assert!(parse_record_kind("打扫")
            .unwrap_err()
            .contains("无法识别的类型“打扫”"));
        assert_eq!(parse_yes_no("是"), Ok(true));
        assert_eq!(parse_yes_no("有偿"), Ok(false));
        assert!(parse_yes_no("也许").is_err());
    }
}
