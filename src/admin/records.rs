//! A resident's service records: the record form with its partial dates and measures, editing,
//! and verification by a second member of staff.

use poem::http::{Method, StatusCode};
use poem::web::Path;
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::form::fixable;
use super::ui::{Block, Field, Form, Kind, Link};
use super::{redirect, Console, Result};
use crate::domain::measure::format_number;
use crate::domain::policy::Action;
use crate::domain::service_record::{RecordKind, MAX_MEASURES};
use crate::service::registry::Resident;

/// The summary as the console reads it (the API type's measures have read-only parts).
#[derive(Deserialize)]
pub(super) struct Summary {
    pub(super) as_of: String,
    pub(super) service_years: i64,
    pub(super) unpaid_years: i64,
    pub(super) records: u64,
    pub(super) headlines: Vec<String>,
    pub(super) volunteer_hours: f64,
    pub(super) hours_by_year: Vec<YearHours>,
    pub(super) star_level_label: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct YearHours {
    pub(super) year: i32,
    pub(super) hours: f64,
}

#[derive(Deserialize)]
pub(super) struct Measure {
    pub(super) value: f64,
    pub(super) unit: String,
    pub(super) qualifier: String,
    pub(super) text: String,
}

/// A service record as the console reads it.
#[derive(Deserialize)]
pub(super) struct ServiceRecord {
    pub(super) id: i64,
    pub(super) kind: String,
    pub(super) title: String,
    pub(super) organisation: Option<String>,
    pub(super) start: String,
    pub(super) end: Option<String>,
    pub(super) unpaid: bool,
    pub(super) measures: Vec<Measure>,
    pub(super) evidence: Option<String>,
    pub(super) recorded_by: String,
    pub(super) verified_by: Option<String>,
    pub(super) verified_on: Option<String>,
    #[serde(default)]
    pub(super) confirmed_on: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct RecordPage {
    pub(super) items: Vec<ServiceRecord>,
}

pub fn routes(route: Route) -> Route {
    route
        .at(
            "/residents/:id/records/new",
            get(new_record_form).post(create_record),
        )
        .at(
            "/residents/:id/records/:record_id/edit",
            get(edit_record_form).post(update_record),
        )
        .at(
            "/residents/:id/records/:record_id/verify",
            poem::post(verify_record),
        )
}

/// Verify a record: the API refuses its recorder (403), shown as an error page.
#[handler]
async fn verify_record(
    console: Console,
    Path((id, record_id)): Path<(i64, i64)>,
) -> Result<Response> {
    console
        .api
        .send(
            Method::POST,
            &format!("/residents/{id}/service-records/{record_id}/verification"),
            &json!({}),
            None,
        )
        .await?;
    redirect(&format!("/admin/residents/{id}"))
}

/// The kinds offered in the record form, labelled as the public page shows them.
fn kind_options() -> Vec<(String, String)> {
    RecordKind::ALL
        .iter()
        .map(|k| (k.code().to_string(), k.label().to_string()))
        .collect()
}

const UNITS: [(&str, &str); 12] = [
    ("", "（不填）"),
    ("visit_batches", "批次（接待参访）"),
    ("yuan_saved", "元（节约资金）"),
    ("yuan", "元"),
    ("compounds", "个小区"),
    ("households", "户"),
    ("people", "人"),
    ("hours", "小时"),
    ("days", "天"),
    ("months", "个月"),
    ("percent", "%"),
    ("items", "项"),
];

const QUALIFIERS: [(&str, &str); 3] = [
    ("exact", "确数"),
    ("at_least", "以上 / 余（如“60几个”）"),
    ("about", "约"),
];

/// Number of measure rows the record form offers.
const MEASURE_ROWS: usize = 3;

/// Year, month and day inputs for a partial date: only the year is needed.
pub(super) fn date_fields(prefix: &str, label: &str, required: bool) -> Vec<Field> {
    let mut year = Field::new(
        &format!("{prefix}_year"),
        &format!("{label}：年"),
        Kind::Number,
    )
    .hint("四位年份；月、日不知道可以不填");
    if required {
        year = year.required();
    }
    vec![
        year,
        Field::new(
            &format!("{prefix}_month"),
            &format!("{label}：月"),
            Kind::Number,
        ),
        Field::new(
            &format!("{prefix}_day"),
            &format!("{label}：日"),
            Kind::Number,
        ),
    ]
}

/// `2019`, `2019-08` or `2019-08-30` from the three inputs; `Err` names the input at fault.
pub fn partial_date(
    form: &super::form::FormData,
    prefix: &str,
) -> std::result::Result<Option<String>, (String, String)> {
    let y = form.get(&format!("{prefix}_year"));
    let m = form.get(&format!("{prefix}_month"));
    let d = form.get(&format!("{prefix}_day"));
    if y.is_empty() {
        if m.is_empty() && d.is_empty() {
            return Ok(None);
        }
        return Err((
            format!("{prefix}_year"),
            "填写了月或日，也请填写年份".into(),
        ));
    }
    let mut out = y.to_string();
    if !m.is_empty() {
        let Ok(month) = m.parse::<u32>() else {
            return Err((format!("{prefix}_month"), "月份应为 1–12 的数字".into()));
        };
        out.push_str(&format!("-{month:02}"));
        if !d.is_empty() {
            let Ok(day) = d.parse::<u32>() else {
                return Err((format!("{prefix}_day"), "日应为 1–31 的数字".into()));
            };
            out.push_str(&format!("-{day:02}"));
        }
    } else if !d.is_empty() {
        return Err((format!("{prefix}_month"), "填写了日，也请填写月份".into()));
    }
    Ok(Some(out))
}

/// The three inputs' values from a partial date.
fn split_date(prefix: &str, date: Option<&str>) -> Vec<(String, String)> {
    let parts: Vec<&str> = date.map(|d| d.split('-').collect()).unwrap_or_default();
    ["year", "month", "day"]
        .iter()
        .enumerate()
        .map(|(i, part)| {
            (
                format!("{prefix}_{part}"),
                parts
                    .get(i)
                    .map(|p| p.trim_start_matches('0').to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// How many measure rows to offer for a form that holds `filled` of them: each one, one more
/// empty row, at least [`MEASURE_ROWS`], at most the domain's limit.
fn measure_rows(filled: usize) -> usize {
    (filled + 1).clamp(MEASURE_ROWS, MAX_MEASURES)
}

/// The measure rows a submitted form used (the highest numbered row given).
fn submitted_measure_rows(form: &super::form::FormData) -> usize {
    (0..MAX_MEASURES)
        .rev()
        .find(|i| {
            !form.get(&format!("m{i}_value")).is_empty()
                || !form.get(&format!("m{i}_unit")).is_empty()
        })
        .map_or(0, |i| i + 1)
}

fn record_form(action: &str, csrf: &str, rows: usize) -> Form {
    let mut measures = Vec::new();
    for i in 0..rows {
        measures.push(Field::new(
            &format!("m{i}_value"),
            &format!("数量 {}：数值", i + 1),
            Kind::Number,
        ));
        measures.push(
            Field::new(
                &format!("m{i}_unit"),
                &format!("数量 {}：单位", i + 1),
                Kind::Select,
            )
            .options(UNITS, &[]),
        );
        measures.push(
            Field::new(
                &format!("m{i}_qualifier"),
                &format!("数量 {}：精确程度", i + 1),
                Kind::Select,
            )
            .options(QUALIFIERS, &["exact".to_string()]),
        );
    }
    let mut end = date_fields("end", "结束", false);
    end[0].hint = "仍在继续（至今）就留空".into();
    Form::post(action, csrf, "保存")
        .group(
            "事项",
            vec![
                Field::new("kind", "类别", Kind::Select)
                    .required()
                    .options(kind_options(), &[]),
                Field::text("title", "事项")
                    .required()
                    .hint("例如：业主委员会主任、接待外省市参访团"),
                Field::text("organisation", "单位 / 组织"),
                Field::new("unpaid", "无偿服务", Kind::Checkbox),
            ],
        )
        .group("开始时间", date_fields("start", "开始", true))
        .group("结束时间", end)
        .group("数量（可选，最多三项）", measures)
        .group(
            "出处与核实",
            vec![
                Field::text("evidence", "出处").hint("例如：长寿社区晨报 2019年9月，记者 周晶"),
                Field::text("recorded_by", "记录人")
                    .hint("留空则为当前登录的工作人员；核实由其他工作人员在居民页面点“核实”完成"),
                Field::text("confirmed_on", "最后核实（仍在继续时）")
                    .hint("例如 2019-09；留空则为今天。服务年数只计算到这一天"),
            ],
        )
}

fn record_field(name: &str) -> Option<&'static str> {
    match name {
        "start" => Some("start_year"),
        "end" => Some("end_year"),
        "measures" | "measures[0]" => Some("m0_value"),
        "measures[1]" => Some("m1_value"),
        "measures[2]" => Some("m2_value"),
        _ => None,
    }
}

fn record_json(form: &super::form::FormData) -> std::result::Result<Value, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let start = partial_date(form, "start")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let end = partial_date(form, "end")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let mut measures = Vec::new();
    for i in 0..MAX_MEASURES {
        let value = form.get(&format!("m{i}_value"));
        let unit = form.get(&format!("m{i}_unit"));
        if value.is_empty() && unit.is_empty() {
            continue;
        }
        match value.parse::<f64>() {
            Ok(v) if !unit.is_empty() => measures.push(json!({
                "value": v,
                "unit": unit,
                "qualifier": form.opt(&format!("m{i}_qualifier")),
            })),
            Ok(_) => errors.push((format!("m{i}_unit"), "请选择单位".into())),
            Err(_) => errors.push((format!("m{i}_value"), "请填写数字".into())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(json!({
        "kind": form.get("kind"),
        "title": form.get("title"),
        "organisation": form.opt("organisation"),
        "start": start.unwrap_or_default(),
        "end": end,
        "unpaid": form.checked("unpaid"),
        "measures": measures,
        "evidence": form.opt("evidence"),
        "recorded_by": form.opt("recorded_by"),
        "confirmed_on": form.opt("confirmed_on"),
    }))
}

/// "共 102.5 小时（2018年 60 小时、2019年 42.5 小时）".
pub(super) fn volunteer_hours_text(summary: &Summary) -> String {
    let years: Vec<String> = summary
        .hours_by_year
        .iter()
        .map(|y| format!("{}年 {} 小时", y.year, format_number(y.hours)))
        .collect();
    let total = format!("共 {} 小时", format_number(summary.volunteer_hours));
    if years.is_empty() {
        total
    } else {
        format!("{total}（{}）", years.join("、"))
    }
}

/// The summary line as the public page shows it now, above a record form.
async fn summary_notice(console: &Console, id: i64) -> Result<Block> {
    let (summary, _): (Summary, _) = console
        .api
        .get_view(&format!("/residents/{id}/summary"))
        .await?;
    Ok(Block::Notice(
        "info",
        if summary.headlines.is_empty() {
            "公开页面目前还没有服务概况；保存后按新的记录重新计算。".into()
        } else {
            format!(
                "公开页面目前显示：{}。保存后按新的记录重新计算。",
                summary.headlines.join(" · ")
            )
        },
    ))
}

#[handler]
async fn new_record_form(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let r: Resident = console.api.get(&format!("/residents/{id}")).await?;
    let form = record_form(
        &format!("/admin/residents/{id}/records/new"),
        &console.csrf,
        MEASURE_ROWS,
    );
    let blocks = vec![summary_notice(&console, id).await?, Block::Form(form)];
    let mut page = console.page(format!("添加服务记录：{}", r.name), blocks);
    page.crumbs = vec![Link::new(format!("/admin/residents/{id}"), r.name)];
    super::html(page)
}

async fn save_record(console: &Console, id: i64, record_id: Option<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let (action, method, path) = match record_id {
        Some(rid) => (
            format!("/admin/residents/{id}/records/{rid}/edit"),
            Method::PUT,
            format!("/residents/{id}/service-records/{rid}"),
        ),
        None => (
            format!("/admin/residents/{id}/records/new"),
            Method::POST,
            format!("/residents/{id}/service-records"),
        ),
    };
    let etag = console.form.get("etag").to_string();
    let title = if record_id.is_some() {
        "修改服务记录"
    } else {
        "添加服务记录"
    };
    let mut etag = etag;
    let errors = match record_json(&console.form) {
        Err(errors) => errors,
        Ok(body) => match console
            .api
            .send(method, &path, &body, record_id.map(|_| etag.as_str()))
            .await
        {
            Ok(_) => return redirect(&format!("/admin/residents/{id}")),
            Err(p) if p.status == StatusCode::PRECONDITION_FAILED => {
                // Keep what was typed and take the current version: saving again overwrites.
                let (_, current): (ServiceRecord, String) = console.api.get_view(&path).await?;
                etag = current;
                vec![(String::new(), "在您修改期间，别人已经改动了这条记录。下面保留了您填写的内容；核对居民页面上的最新内容后，再次保存将以您的版本为准。".to_string())]
            }
            Err(p) if fixable(&p) => p
                .field_errors(record_field)
                .into_iter()
                .map(|(field, message)| (measure_field(&field).unwrap_or(field), message))
                .collect(),
            Err(p) => return Err(p.into()),
        },
    };
    let rows = measure_rows(submitted_measure_rows(&console.form));
    let mut form = record_form(&action, &console.csrf, rows).refill(&console.form, &errors);
    if record_id.is_some() {
        form = form.hidden("etag", etag);
    }
    console.render_status(
        title,
        vec![Block::Form(form)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

/// `measures[3]` → the input of the fourth measure's value.
fn measure_field(api_field: &str) -> Option<String> {
    let i: usize = api_field
        .strip_prefix("measures[")?
        .split(']')
        .next()?
        .parse()
        .ok()?;
    Some(format!("m{i}_value"))
}

#[handler]
async fn create_record(console: Console, Path(id): Path<i64>) -> Result<Response> {
    save_record(&console, id, None).await
}

#[handler]
async fn edit_record_form(console: Console, Path((id, rid)): Path<(i64, i64)>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let (rec, etag): (ServiceRecord, String) = console
        .api
        .get_view(&format!("/residents/{id}/service-records/{rid}"))
        .await?;
    let mut pairs = vec![
        ("kind".to_string(), rec.kind.clone()),
        ("title".into(), rec.title.clone()),
        (
            "organisation".into(),
            rec.organisation.clone().unwrap_or_default(),
        ),
        (
            "unpaid".into(),
            if rec.unpaid {
                "on".into()
            } else {
                String::new()
            },
        ),
        ("evidence".into(), rec.evidence.clone().unwrap_or_default()),
        ("recorded_by".into(), rec.recorded_by.clone()),
        (
            "confirmed_on".into(),
            rec.confirmed_on.clone().unwrap_or_default(),
        ),
    ];
    pairs.extend(split_date("start", Some(&rec.start)));
    pairs.extend(split_date("end", rec.end.as_deref()));
    for (i, m) in rec.measures.iter().enumerate() {
        pairs.push((format!("m{i}_value"), m.value.to_string()));
        pairs.push((format!("m{i}_unit"), m.unit.clone()));
        pairs.push((format!("m{i}_qualifier"), m.qualifier.clone()));
    }
    let values = super::form::FormData {
        pairs,
        files: Vec::new(),
    };
    let form = record_form(
        &format!("/admin/residents/{id}/records/{rid}/edit"),
        &console.csrf,
        measure_rows(rec.measures.len()),
    )
    .hidden("etag", etag)
    .refill(&values, &[]);
    console.render(
        "修改服务记录",
        vec![summary_notice(&console, id).await?, Block::Form(form)],
    )
}

#[handler]
async fn update_record(console: Console, Path((id, rid)): Path<(i64, i64)>) -> Result<Response> {
    save_record(&console, id, Some(rid)).await
}
