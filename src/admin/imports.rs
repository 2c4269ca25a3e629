//! Rosters in, in the console: upload a sheet, read the report of every row, confirm. The pages
//! call the API's `/imports` in process, so the console checks and commits exactly as the API.

use poem::http::{Method, StatusCode};
use poem::web::Path;
use poem::{get, handler, post, Response, Route};
use serde::Deserialize;

use super::form::multipart_body;
use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, Console, Result};
use crate::domain::policy::Action;
use crate::domain::roster::SheetKind;

pub fn routes(route: Route) -> Route {
    route
        .at("/imports", post(upload))
        .at("/imports/new", get(new_form))
        .at("/imports/templates/:kind", get(template))
        .at("/imports/:id", get(show))
        .at("/imports/:id/commit", post(commit))
}

/// The report as the console reads it.
#[derive(Deserialize)]
struct Report {
    id: i64,
    kind: String,
    file_name: String,
    key: String,
    rows: u64,
    create: u64,
    update: u64,
    unchanged: u64,
    problems: Vec<Problem>,
    items: Vec<Item>,
    committed: bool,
}

#[derive(Deserialize)]
struct Problem {
    row: u64,
    column: String,
    value: String,
    message: String,
}

#[derive(Deserialize)]
struct Item {
    row: u64,
    action: String,
    name: String,
    community: String,
    resident_id: Option<i64>,
    subject: Option<String>,
}

fn upload_form(console: &Console) -> Form {
    let selected = [console.form.get("kind").to_string()];
    Form::post("/admin/imports", &console.csrf, "检查名册")
        .multipart()
        .group(
            "名册",
            vec![
                Field::new("kind", "名册类型", Kind::Select)
                    .required()
                    .options(
                        SheetKind::ALL.map(|k| (k.code(), k.label())),
                        &selected,
                    )
                    .hint("居民名册须有“姓名”“小区”两列；服务记录还须有“类型”“事项”“开始时间”；活动签到表须有“活动”“日期”“姓名”“小区”，时长写在“时长（小时）”。可先下载模板填写。"),
                Field::new("file", "名册文件", Kind::File).required().hint(
                    "Excel（.xlsx、.xls）或 CSV（UTF-8 或 GBK）；列名可用常见写法，顺序不限。检查时不会写入任何数据。",
                ),
            ],
        )
}

/// `GET /admin/imports/new`
#[handler]
async fn new_form(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let templates = SheetKind::ALL
        .iter()
        .map(|k| {
            Link::new(
                format!("/admin/imports/templates/{}", k.code()),
                format!("下载{}模板（.xlsx）", k.label()),
            )
        })
        .collect();
    console.render(
        "导入名册",
        vec![Block::Form(upload_form(&console)), Block::Links(templates)],
    )
}

/// `GET /admin/imports/templates/{kind}`: the kind's .xlsx template (with its dropdowns), as
/// `GET /api/v1/imports/templates/…` gives it.
#[handler]
async fn template(console: Console, Path(kind): Path<String>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let Some(kind) = SheetKind::parse(&kind) else {
        return Err(super::client::Problem {
            status: StatusCode::NOT_FOUND,
            code: "not_found".into(),
            message: "没有这种名册模板".into(),
            fields: Vec::new(),
            details: serde_json::Value::Null,
        }
        .into());
    };
    let failed = |what: &str| super::client::Problem::internal(&format!("模板生成失败：{what}"));
    let communities = crate::roster::export::community_names(&console.state.db)
        .await
        .map_err(|_| failed("读取社区"))?;
    let bytes =
        crate::roster::export::template_xlsx(kind, &communities).map_err(|_| failed("写入表格"))?;
    Ok(Response::builder()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .header(
            poem::http::header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"youde-{}-template.xlsx\"",
                kind.code().replace('_', "-")
            ),
        )
        .header(poem::http::header::CACHE_CONTROL, "no-store")
        .body(bytes))
}

/// `POST /admin/imports`: check the sheet, then show its report.
#[handler]
async fn upload(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let Some(file) = console.form.file("file") else {
        let mut form = upload_form(&console);
        form.error = Some("请选择要导入的名册文件".into());
        return console.render_status(
            "导入名册",
            vec![Block::Form(form)],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    let kind = SheetKind::parse(console.form.get("kind")).unwrap_or(SheetKind::Residents);
    let (content_type, body) = multipart_body(&[("kind", kind.code().into())], Some(file));
    match console
        .api
        .call(Method::POST, "/imports", Some((content_type, body)), None)
        .await
    {
        Ok(reply) => redirect(&format!("/admin/imports/{}", reply.body["id"])),
        Err(p) if super::form::fixable(&p) => {
            let mut form = upload_form(&console);
            form.error = Some(format!("{}（请改正后重新选择文件）", p.message));
            console.render_status("导入名册", vec![Block::Form(form)], p.status)
        }
        Err(p) => Err(p.into()),
    }
}

/// `GET /admin/imports/{id}`: the report of every row, and the confirmation when it is clean.
#[handler]
async fn show(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let (report, _): (Report, _) = console.api.get_view(&format!("/imports/{id}")).await?;
    console.render(
        format!("名册：{}", report.file_name),
        report_blocks(&console, &report, None),
    )
}

/// `POST /admin/imports/{id}/commit`: apply the checked roster, all or nothing.
#[handler]
async fn commit(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    match console
        .api
        .send(
            Method::POST,
            &format!("/imports/{id}/commit"),
            &serde_json::json!({}),
            None,
        )
        .await
    {
        Ok(_) => redirect(&format!("/admin/imports/{id}")),
        Err(p) if super::form::fixable(&p) => {
            let (report, _): (Report, _) = console.api.get_view(&format!("/imports/{id}")).await?;
            let blocks = report_blocks(&console, &report, Some(p.message));
            console.render_status(format!("名册：{}", report.file_name), blocks, p.status)
        }
        Err(p) => Err(p.into()),
    }
}

fn report_blocks(console: &Console, report: &Report, error: Option<String>) -> Vec<Block> {
    let kind = SheetKind::parse(&report.kind).unwrap_or(SheetKind::Residents);
    let mut blocks = Vec::new();
    if let Some(e) = error {
        blocks.push(Block::Notice("error", format!("没有导入：{e}")));
    }
    blocks.push(if report.committed {
        Block::Notice(
            "ok",
            if kind == SheetKind::Residents {
                format!(
                    "已导入：新建 {} 位、更新 {} 位居民，{} 位没有变化。",
                    report.create, report.update, report.unchanged
                )
            } else {
                format!(
                    "已导入：新建 {} 条、更新 {} 条记录，{} 行没有变化。",
                    report.create, report.update, report.unchanged
                )
            },
        )
    } else if report.problems.is_empty() {
        Block::Notice(
            "info",
            "检查通过，尚未写入任何数据。请核对下表后确认导入。".to_string(),
        )
    } else {
        Block::Notice(
            "warn",
            format!(
                "发现 {} 处问题，不能导入。请在表格中改正后重新上传。",
                report.problems.len()
            ),
        )
    });
    blocks.push(Block::Facts(vec![
        ("名册类型".into(), kind.label().to_string()),
        ("数据行".into(), report.rows.to_string()),
        ("将新建".into(), report.create.to_string()),
        ("将更新".into(), report.update.to_string()),
        ("无变化".into(), report.unchanged.to_string()),
        ("匹配方式".into(), report.key.clone()),
    ]));
    if !report.problems.is_empty() {
        let mut table = Table::new("问题", &["行", "列", "内容", "问题"], "");
        for p in &report.problems {
            table.row(vec![
                Cell::text(format!("第 {} 行", p.row)),
                Cell::text(p.column.clone()),
                Cell::text(p.value.clone()),
                Cell::text(p.message.clone()),
            ]);
        }
        blocks.push(Block::Table(table));
    }
    let headers: &[&str] = if kind == SheetKind::Residents {
        &["行", "姓名", "小区", "处理"]
    } else {
        &["行", "姓名", "小区", "记录", "处理"]
    };
    let mut table = Table::new("逐行结果", headers, "没有可导入的行。");
    for item in &report.items {
        let name = match item.resident_id {
            Some(id) => Cell::link(item.name.clone(), format!("/admin/residents/{id}")),
            None => Cell::text(item.name.clone()),
        };
        let mut cells = vec![
            Cell::text(format!("第 {} 行", item.row)),
            name,
            Cell::text(item.community.clone()),
        ];
        if kind != SheetKind::Residents {
            cells.push(Cell::text(item.subject.clone().unwrap_or_default()));
        }
        cells.push(Cell::text(match item.action.as_str() {
            "create" => "新建",
            "update" => "更新",
            _ => "无变化",
        }));
        table.row(cells);
    }
    blocks.push(Block::Table(table));
    if !report.committed && report.problems.is_empty() {
        blocks.push(Block::Form(Form::button(
            format!("/admin/imports/{}/commit", report.id),
            &console.csrf,
            "确认导入",
            "primary",
        )));
    }
    blocks.push(Block::Links(vec![
        Link::new("/admin/imports/new", "再导入一份名册"),
        Link::new("/admin/residents", "居民列表"),
    ]));
    blocks
}
