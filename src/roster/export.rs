//! Rosters out (名册导出): residents as the import template's columns, as CSV (UTF-8 with BOM, so
//! Excel and WPS open it as Chinese) or .xlsx (every cell text, so ID and phone numbers stay as
//! typed). Cells beginning with `=`, `+`, `-` or `@` get a leading `'` so a spreadsheet never runs
//! them as formulas; the import takes that mark off again, so an exported file re-imports without
//! changes.

use std::collections::HashMap;

use sea_orm::ConnectionTrait;

use crate::domain::measure::{format_number, Unit};
use crate::domain::roster::Column;
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
        .filter(|c| visibility == Visibility::Staff || !c.is_private())
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

/// The activities' sign-in sheet (签到表): one row per participant with the hours they served
/// (their own figure or the activity's default), who recorded them and who verified them; an
/// activity nobody is listed for gets one row of its own. Participants are those `visibility`
/// admits (the public ones for roles that do not read private fields).
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
            if listed == 0 {
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

/// What each column of the residents template means, with an example: the template's second
/// sheet (填写说明), which the import skips since it has no 姓名 and 小区 header.
pub fn residents_guide() -> Vec<Vec<String>> {
    let mut rows = vec![vec!["列名".to_string(), "说明".into(), "示例".into()]];
    for c in Column::RESIDENTS {
        let (note, example) = match c {
            Column::Name => ("必填。也可写作：名字、居民姓名", "张丽"),
            Column::Community => (
                "必填，系统中已有的小区或社区名称。也可写作：所属小区、社区、居民区",
                "音乐广场",
            ),
            Column::Phone => ("选填，隐私。也可写作：手机、联系电话", "13812345678"),
            Column::IdNumber => (
                "选填，隐私；填写后按身份证号码匹配已有居民。也可写作：身份证、身份证号",
                "",
            ),
            Column::BirthYear => ("选填，隐私，4 位年份", "1956"),
            Column::Address => ("选填，隐私", "长寿路1号"),
            Column::Citation => ("选填，公开页面显示的事迹简介", "热心公益，组织助老服务。"),
            _ => ("", ""),
        };
        rows.push(vec![c.header().to_string(), note.into(), example.into()]);
    }
    rows.push(vec![
        "说明".into(),
        "按列名识别，列的顺序不限；空白单元格不会覆盖系统中已有的内容；同一文件重复导入不会产生重复居民。".into(),
        String::new(),
    ]);
    rows
}

/// The residents template's header row.
pub fn residents_header() -> Vec<Vec<String>> {
    vec![Column::RESIDENTS
        .iter()
        .map(|c| c.header().to_string())
        .collect()]
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
