//! Rosters out (名册导出): residents as the import template's columns, as CSV (UTF-8 with BOM, so
//! Excel and WPS open it as Chinese) or .xlsx (every cell text, so ID and phone numbers stay as
//! typed). Cells beginning with `=`, `+`, `-` or `@` get a leading `'` so a spreadsheet never runs
//! them as formulas; the import takes that mark off again, so an exported file re-imports without
//! changes.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::domain::measure::{format_number, Qualifier, Unit};
use crate::domain::roster::{amount_text, qualifier_label, unit_label, Column, SheetKind};
use crate::domain::service_record::RecordKind;
use crate::store::residents::{self, ListFilter, Visibility};
use crate::store::{
    activities, audit, categories, communities, recognitions, service_records, StoreResult,
};

/// Community names, each looked up once per export.
#[derive(Default)]
struct CommunityNames(HashMap<i64, String>);

impl CommunityNames {
    async fn of(&mut self, db: &impl ConnectionTrait, id: i64) -> StoreResult<String> {
        if let Some(name) = self.0.get(&id) {
            return Ok(name.clone());
        }
        let name = communities::get(db, id).await?.name;
        self.0.insert(id, name.clone());
        Ok(name)
    }
}

/// The residents the visibility allows, header first; private columns only for
/// [`Visibility::Staff`]. Erased residents are left out.
pub async fn residents_table(
    db: &impl ConnectionTrait,
    visibility: Visibility,
) -> StoreResult<Vec<Vec<String>>> {
    let columns: Vec<Column> = Column::RESIDENTS
        .into_iter()
        .filter(|c| visibility.is_staff() || !c.is_private())
        .collect();
    let mut rows = vec![columns.iter().map(|c| c.header().to_string()).collect()];
    let mut community_names = CommunityNames::default();
    let mut after = None;
    loop {
        let page = residents::list(
            db,
            ListFilter {
                after,
                limit: 500,
                community_id: None,
                within: None,
                visibility,
            },
        )
        .await?;
        for m in page.items.iter().filter(|m| m.erased_at.is_none()) {
            let community = community_names.of(db, m.community_id).await?;
            let row = columns
                .iter()
                .map(|c| match c {
                    Column::Name => m.name.clone(),
                    Column::Community => community.clone(),
                    Column::Phone => m.phone.clone().unwrap_or_default(),
                    Column::IdNumber => m.id_number.clone().unwrap_or_default(),
                    Column::BirthYear => m.birth_year.map(|y| y.to_string()).unwrap_or_default(),
                    Column::Address => m.address.clone().unwrap_or_default(),
                    Column::Citation => m.citation.clone().unwrap_or_default(),
                    _ => String::new(),
                })
                .collect();
            rows.push(row);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// The service records (服务记录) of the residents `visibility` admits, as the service records
/// template's columns, oldest first: 身份证号码 only for [`Visibility::Staff`]; amounts written as
/// the import reads them back (`60余个小区；约200人`), an ongoing record's end as 至今. Records of
/// activities are left out: they are the activities export's.
pub async fn service_records_table(
    db: &impl ConnectionTrait,
    visibility: Visibility,
) -> StoreResult<Vec<Vec<String>>> {
    let columns: Vec<Column> = SheetKind::ServiceRecords
        .columns()
        .iter()
        .copied()
        .filter(|c| visibility.is_staff() || !c.is_private())
        .collect();
    let mut rows = vec![columns.iter().map(|c| c.header().to_string()).collect()];
    let mut community_names = CommunityNames::default();
    let mut after = None;
    loop {
        let page = crate::store::imports::records_page(db, after, 500).await?;
        let ids: Vec<i64> = page.items.iter().map(|r| r.resident_id).collect();
        let people = residents::get_many(db, &ids, visibility).await?;
        for r in &page.items {
            let Some(person) = people.get(&r.resident_id).filter(|p| p.erased_at.is_none()) else {
                continue;
            };
            let community = community_names.of(db, person.community_id).await?;
            let facts = service_records::facts(r)?;
            let amounts: Vec<String> = facts.measures.iter().map(amount_text).collect();
            let row = columns
                .iter()
                .map(|c| match c {
                    Column::Name => person.name.clone(),
                    Column::Community => community.clone(),
                    Column::IdNumber => person.id_number.clone().unwrap_or_default(),
                    Column::RecordKind => facts.kind.label().to_string(),
                    Column::Title => r.title.clone(),
                    Column::Organisation => r.organisation.clone().unwrap_or_default(),
                    Column::Start => r.start_date.clone(),
                    Column::End => r.end_date.clone().unwrap_or_else(|| "至今".into()),
                    Column::Amount => amounts.join("；"),
                    Column::Unpaid => if r.unpaid { "是" } else { "否" }.to_string(),
                    Column::Evidence => r.evidence.clone().unwrap_or_default(),
                    Column::RecordedBy => r.recorded_by.clone(),
                    Column::VerifiedBy => r.verified_by.clone().unwrap_or_default(),
                    _ => String::new(),
                })
                .collect();
            rows.push(row);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// The activities' sign-in sheet (签到表): one row per participant with the hours they served
/// (their own figure or the activity's default), who recorded them and who verified them; an
/// activity nobody is listed for gets one row of its own. Participants are those `visibility`
/// admits (the public ones for roles that do not read private fields; for scoped staff those of
/// their subtree, and an activity with none of them is left out).
pub async fn activities_table(
    db: &impl ConnectionTrait,
    visibility: Visibility,
) -> StoreResult<Vec<Vec<String>>> {
    let header = [
        "活动",
        "日期",
        "地点",
        "组织者",
        "默认时长（小时）",
        "姓名",
        "小区",
        "时长（小时）",
        "记录人",
        "核实人",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    let mut community_names = CommunityNames::default();
    let mut after = None;
    loop {
        let page = activities::list(db, after, 200).await?;
        for a in &page.items {
            let records = service_records::list_for_activity(db, a.id).await?;
            let ids: Vec<i64> = records.iter().map(|r| r.resident_id).collect();
            let people = residents::get_many(db, &ids, visibility).await?;
            let activity = vec![
                a.title.clone(),
                a.date.clone(),
                a.place.clone().unwrap_or_default(),
                a.organiser.clone().unwrap_or_default(),
                a.hours.map(format_number).unwrap_or_default(),
            ];
            let mut listed = 0;
            for r in &records {
                let Some(person) = people.get(&r.resident_id).filter(|p| p.erased_at.is_none())
                else {
                    continue;
                };
                let community = community_names.of(db, person.community_id).await?;
                let hours = service_records::measures(r)?
                    .iter()
                    .find(|m| m.unit() == Unit::Hours)
                    .map(|m| format_number(m.value()))
                    .unwrap_or_default();
                let mut row = activity.clone();
                row.extend([
                    person.name.clone(),
                    community,
                    hours,
                    r.recorded_by.clone(),
                    r.verified_by.clone().unwrap_or_default(),
                ]);
                rows.push(row);
                listed += 1;
            }
            // Scoped staff: an activity with none of their participants is not theirs.
            if listed == 0 && !matches!(visibility, Visibility::Within(_)) {
                let mut row = activity;
                row.resize(header.len(), String::new());
                rows.push(row);
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// The recognitions (表彰) `visibility` admits, oldest first: the public see standing honours of
/// public residents; staff see revoked ones too, marked so.
pub async fn recognitions_table(
    db: &impl ConnectionTrait,
    visibility: Visibility,
) -> StoreResult<Vec<Vec<String>>> {
    let header = [
        "姓名",
        "小区",
        "荣誉称号",
        "年度",
        "类别",
        "推荐理由",
        "表彰日期",
        "状态",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    let categories: HashMap<i64, String> = categories::list(db, true)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let mut community_names = CommunityNames::default();
    let mut after = None;
    loop {
        let page = recognitions::list(
            db,
            recognitions::ListFilter {
                after,
                limit: 500,
                resident_id: None,
                community_id: None,
                year: None,
                visibility,
                within: None,
                newest_first: false,
            },
        )
        .await?;
        let ids: Vec<i64> = page.items.iter().map(|r| r.resident_id).collect();
        let people = residents::get_many(db, &ids, visibility).await?;
        for r in page.items {
            let Some(person) = people.get(&r.resident_id) else {
                continue;
            };
            let community = community_names.of(db, person.community_id).await?;
            let state = match (&r.revoked_at, &r.revoke_reason) {
                (None, _) => "有效".to_string(),
                (Some(_), Some(reason)) => format!("已撤销：{reason}"),
                (Some(_), None) => "已撤销".to_string(),
            };
            rows.push(vec![
                person.name.clone(),
                community,
                r.title,
                r.year.to_string(),
                categories.get(&r.category_id).cloned().unwrap_or_default(),
                r.citation,
                r.recognised_on.to_string(),
                state,
            ]);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// The audit log from `since` up to (not including) `until`, oldest first: time in Shanghai,
/// who, what, on which entity, and the snapshots before and after as the audit log keeps them.
pub async fn audit_table(
    db: &impl ConnectionTrait,
    since: chrono::DateTime<chrono::Utc>,
    until: chrono::DateTime<chrono::Utc>,
    by_staff_within: Option<i64>,
) -> StoreResult<Vec<Vec<String>>> {
    let header = [
        "时间（北京时间）",
        "操作人",
        "操作",
        "对象类型",
        "对象编号",
        "变更前",
        "变更后",
    ];
    let mut rows = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    let mut after = None;
    loop {
        let page = audit::list(
            db,
            audit::Filter {
                after,
                limit: 500,
                since: Some(since),
                until: Some(until),
                by_staff_within,
                ..Default::default()
            },
        )
        .await?;
        for e in page.items {
            rows.push(vec![
                (e.at + chrono::Duration::hours(8))
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string(),
                e.actor_name,
                e.action,
                e.entity_kind,
                e.entity_id.to_string(),
                e.before.unwrap_or_default(),
                e.after.unwrap_or_default(),
            ]);
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(rows)
}

/// A cell a spreadsheet would run as a formula, made inert.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// CSV in UTF-8 with BOM, CRLF line ends, fields quoted when they need it.
pub fn to_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = String::from("\u{FEFF}");
    for row in rows {
        let fields: Vec<String> = row
            .iter()
            .map(|cell| {
                let cell = neutralise(cell);
                if cell.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", cell.replace('"', "\"\""))
                } else {
                    cell
                }
            })
            .collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A workbook of `(name, rows)` sheets, every cell written as text.
pub fn to_xlsx(sheets: &[(&str, Vec<Vec<String>>)]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let ws = book.add_worksheet();
        ws.set_name(*name)?;
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                ws.write_string(r as u32, c as u16, neutralise(cell))?;
            }
        }
    }
    book.save_to_buffer()
}

/// What a column of a template means, and an example (the template's sample row).
fn column_note(kind: SheetKind, c: Column) -> (&'static str, &'static str) {
    match (kind, c) {
        (SheetKind::Residents, Column::Name) => ("必填。也可写作：名字、居民姓名", "张丽"),
        (_, Column::Name) => ("必填，系统中已有的居民。也可写作：名字、居民姓名", "张丽"),
        (_, Column::Community) => (
            "必填，系统中已有的小区或社区名称（可从下拉列表选择）。也可写作：所属小区、社区、居民区",
            "音乐广场",
        ),
        (_, Column::Phone) => ("选填，隐私。也可写作：手机、联系电话", "13812345678"),
        (SheetKind::Residents, Column::IdNumber) => (
            "选填，隐私；填写后按身份证号码匹配已有居民。也可写作：身份证、身份证号",
            "",
        ),
        (_, Column::IdNumber) => (
            "选填；同名居民较多时填写，按身份证号码匹配居民",
            "",
        ),
        (_, Column::BirthYear) => ("选填，隐私，4 位年份", "1956"),
        (_, Column::Address) => ("选填，隐私", "长寿路1号"),
        (_, Column::Citation) => ("选填，公开页面显示的事迹简介", "热心公益，组织助老服务。"),
        (_, Column::RecordKind) => ("必填，从下拉列表选择", "调研排摸"),
        (_, Column::Title) => ("必填，做了什么", "小区加装电梯意愿排摸"),
        (_, Column::Organisation) => ("选填，在哪个组织或以什么身份", "音乐广场业主委员会"),
        (_, Column::Start) => (
            "必填。可写作 2019、2019.8、2019年8月、2019/08/28",
            "2019年8月",
        ),
        (_, Column::End) => ("选填；“至今”表示仍在进行，空白表示未结束", "2019年9月"),
        (_, Column::Amount) => (
            "选填。可写作 38、60几个、100多万、30万元、约50；多项用“；”分隔",
            "60几个",
        ),
        (_, Column::Unit) => ("数量中没写单位时必填，从下拉列表选择", "个小区"),
        (_, Column::Qualifier) => (
            "选填：准确、以上（即“余”“多”）、约；数量中写了“多”“约”等时可不填",
            "以上",
        ),
        (_, Column::Unpaid) => ("选填：是 / 否", "是"),
        (_, Column::Evidence) => ("选填，证明材料或出处", "居委会排摸记录表"),
        (SheetKind::Participation, Column::RecordedBy) => (
            "选填，谁组织谁记录；空白时为导入人。同一活动各行须一致",
            "音乐广场居委会",
        ),
        (_, Column::RecordedBy) => ("选填，空白时为导入人", "音乐广场居委会"),
        (_, Column::VerifiedBy) => (
            "不填。核实须由记录人以外的工作人员在系统中操作",
            "",
        ),
        (_, Column::Activity) => ("必填，活动名称；与日期一起确定是哪一个活动", "敬老院助老服务"),
        (_, Column::Date) => (
            "必填。可写作 2019.8.28、2019年8月28日、2019/08/28",
            "2019/08/28",
        ),
        (_, Column::Place) => ("选填，新活动的地点；同一活动各行须一致", "长寿路敬老院"),
        (_, Column::Organiser) => ("选填，新活动的组织者", "音乐广场居委会"),
        (_, Column::DefaultHours) => (
            "选填，新活动每人的默认时长（小时）",
            "2",
        ),
        (_, Column::Hours) => (
            "选填，此人的时长（小时），确切数字；空白时用默认时长",
            "3.5",
        ),
    }
}

/// What each column of a `kind` template means, with a sample row: the template's second sheet
/// (填写说明), which the import skips since its first row is not the roster's header.
pub fn guide(kind: SheetKind) -> Vec<Vec<String>> {
    let mut rows = vec![vec!["列名".to_string(), "说明".into(), "示例".into()]];
    for c in kind.columns() {
        let (note, example) = column_note(kind, *c);
        let required = if kind.required().contains(c) {
            "（必填）"
        } else {
            ""
        };
        rows.push(vec![
            format!("{}{required}", c.header()),
            note.into(),
            example.into(),
        ]);
    }
    let general = match kind {
        SheetKind::Residents => "按列名识别，列的顺序不限；空白单元格不会覆盖系统中已有的内容；同一文件重复导入不会产生重复居民。",
        SheetKind::ServiceRecords => "按列名识别，列的顺序不限；居民须已在系统中；同一居民、类型、事项和开始时间的记录已有时更新，空白单元格不会覆盖已有内容；同一文件重复导入不会产生重复记录。",
        SheetKind::Participation => "每位参与者一行；活动按“活动 + 日期”确定，系统中没有时新建；居民须已在系统中；同一文件重复导入不会产生重复记录。",
    };
    rows.push(vec!["说明".into(), general.into(), String::new()]);
    rows.push(vec![]);
    rows.push(vec!["示例行（按此格式填写在第一张表中）".into()]);
    rows.push(
        kind.columns()
            .iter()
            .map(|c| c.header().to_string())
            .collect(),
    );
    rows.push(
        kind.columns()
            .iter()
            .map(|c| column_note(kind, *c).1.to_string())
            .collect(),
    );
    rows
}

/// A template's header row.
pub fn template_header(kind: SheetKind) -> Vec<Vec<String>> {
    vec![kind
        .columns()
        .iter()
        .map(|c| c.header().to_string())
        .collect()]
}

/// The name of a template's first sheet.
pub fn sheet_name(kind: SheetKind) -> &'static str {
    match kind {
        SheetKind::Residents => "居民",
        SheetKind::ServiceRecords => "服务记录",
        SheetKind::Participation => "活动签到",
    }
}

/// Rows of a template that get the dropdowns (the header is row 0).
const TEMPLATE_ROWS: u32 = 5000;

/// A `kind` template as an .xlsx: the header row with dropdowns (data validation lists) under
/// it — record kinds, units, qualifiers, 是/否, and the `communities` from a hidden sheet (小区列表,
/// which the import ignores) — then the 填写说明 sheet with a sample row. Values outside a list
/// get a warning, not a refusal: the import reads the usual variants and reports the rest.
pub fn template_xlsx(
    kind: SheetKind,
    communities: &[String],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{DataValidation, DataValidationErrorStyle, Format, Formula, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = book.add_worksheet();
    ws.set_name(sheet_name(kind))?;
    for (i, c) in kind.columns().iter().enumerate() {
        let col = i as u16;
        ws.write_string_with_format(0, col, c.header(), &bold)?;
        ws.set_column_width(col, 14)?;
        let list: Option<Vec<String>> = match c {
            Column::RecordKind => Some(
                RecordKind::ALL
                    .into_iter()
                    .filter(|k| *k != RecordKind::Activity)
                    .map(|k| k.label().to_string())
                    .collect(),
            ),
            Column::Unit => Some(
                Unit::ALL
                    .into_iter()
                    .map(|u| unit_label(u).to_string())
                    .collect(),
            ),
            Column::Qualifier => Some(
                Qualifier::ALL
                    .into_iter()
                    .map(|q| qualifier_label(q).to_string())
                    .collect(),
            ),
            Column::Unpaid => Some(vec!["是".into(), "否".into()]),
            _ => None,
        };
        let validation = match (c, list) {
            (_, Some(list)) => Some(DataValidation::new().allow_list_strings(&list)?),
            (Column::Community, None) if !communities.is_empty() => Some(
                DataValidation::new().allow_list_formula(Formula::new(format!(
                    "=小区列表!$A$1:$A${}",
                    communities.len()
                ))),
            ),
            _ => None,
        };
        if let Some(v) = validation {
            let v = v
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_title("不在列表中")?
                .set_error_message("请从下拉列表选择；如确需填写其他写法，导入时会逐行检查。")?;
            ws.add_data_validation(1, col, TEMPLATE_ROWS, col, &v)?;
        }
    }
    ws.set_freeze_panes(1, 0)?;
    let guide_sheet = book.add_worksheet();
    guide_sheet.set_name("填写说明")?;
    for (r, row) in guide(kind).iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            guide_sheet.write_string(r as u32, c as u16, neutralise(cell))?;
        }
    }
    guide_sheet.set_column_width(0, 18)?;
    guide_sheet.set_column_width(1, 60)?;
    if !communities.is_empty() {
        let list = book.add_worksheet();
        list.set_name("小区列表")?;
        for (r, name) in communities.iter().enumerate() {
            list.write_string(r as u32, 0, neutralise(name))?;
        }
        list.set_hidden(true);
    }
    book.save_to_buffer()
}

/// The names the templates' 小区 dropdown offers: every community, each name once.
pub async fn community_names(db: &impl ConnectionTrait) -> StoreResult<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    let mut after = None;
    loop {
        let page = communities::list(db, after, 500, None, None).await?;
        for c in page.items {
            if !names.contains(&c.name) {
                names.push(c.name);
            }
        }
        match page.next_after {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_fields_quoted() {
        let rows = vec![vec![
            "=HYPERLINK(\"x\")".to_string(),
            "@SUM".into(),
            "a,b".into(),
            "张丽".into(),
        ]];
        let csv = String::from_utf8(to_csv(&rows)).unwrap();
        assert_eq!(
            csv,
            "\u{FEFF}\"'=HYPERLINK(\"\"x\"\")\",'@SUM,\"a,b\",张丽\r\n"
        );
    }
}
