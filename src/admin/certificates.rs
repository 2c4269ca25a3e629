//! 证书 in the console: the certificates of a year, the honours still waiting for one (issued
//! with one button), a resident's 志愿服务记录证明 (a period chosen on their page, the records it
//! counts previewed, then issued), and a certificate's page with its preview, reissue and
//! revocation with a reason. Reviewers and admins; every change is the API's (`/certificates`).

use poem::http::{Method, StatusCode};
use poem::web::{Data, Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, Console, Result};
use crate::domain::certificate::format_hours;
use crate::domain::policy::Action;
use crate::service::certificates::Desk;

pub fn routes(route: Route) -> Route {
    route
        .at("/certificates", get(list))
        .at("/certificates/seal", get(seal_page).post(upload_seal))
        .at("/certificates/:id", get(show))
        .at("/certificates/:id/reissue", poem::post(reissue))
        .at("/certificates/:id/revoke", poem::post(revoke))
        .at("/recognitions/:id/certificates", poem::post(issue))
        .at("/residents/:id/hours-certificate", get(hours_preview))
        .at("/residents/:id/hours-certificates", poem::post(issue_hours))
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn standing_label(v: &Value) -> &'static str {
    match v["standing"].as_str() {
        Some("valid") => "有效",
        Some("superseded") => "已被新证书替代",
        Some("revoked") => "已撤销",
        _ => "—",
    }
}

/// The honour's title, or `志愿服务记录证明（65.5 小时）`.
fn what(c: &Value) -> String {
    match c["hours"].as_f64() {
        Some(hours) => format!("{}（{} 小时）", text(c, "kind_label"), format_hours(hours)),
        None => text(c, "title"),
    }
}

#[derive(Debug, Deserialize)]
struct YearQuery {
    year: Option<i32>,
}

#[handler]
async fn list(console: Console, Query(q): Query<YearQuery>) -> Result<Response> {
    console.require(Action::Review)?;
    let this_year = chrono::Datelike::year(&(console.state.clock.today()));
    let year = q.year.unwrap_or(this_year);
    let certificates: Vec<Value> = console
        .api
        .get_all(&format!("/certificates?year={year}"))
        .await?;
    let mut table = Table::new(
        &format!("{year} 年颁发的证书"),
        &["编号", "姓名", "内容", "颁发日期", "状态"],
        "这一年还没有颁发证书。",
    );
    for c in &certificates {
        table.row(vec![
            Cell::link(
                text(c, "number"),
                format!("/admin/certificates/{}", c["id"]),
            ),
            Cell::text(text(c, "holder_name")),
            Cell::text(what(c)),
            Cell::text(text(c, "issued_on")),
            Cell::text(standing_label(c)),
        ]);
    }
    let years = Form::get("/admin/certificates", "查看").group(
        "年度",
        vec![Field::new("year", "颁发年度", Kind::Number).value(year.to_string())],
    );
    let mut blocks = vec![Block::Form(years), Block::Table(table)];
    if console.may(Action::ManageSeal) {
        blocks.insert(
            0,
            Block::Links(vec![Link::new("/admin/certificates/seal", "证书印章")]),
        );
    }
    if console.may(Action::Decide) {
        blocks.push(Block::Heading("待颁发证书的表彰".into()));
        let waiting = waiting_honours(&console).await?;
        if waiting.is_empty() {
            blocks.push(Block::Text("每项表彰都已有有效证书。".into()));
        } else {
            blocks.push(Block::Buttons(waiting));
        }
    }
    console.render("证书", blocks)
}

/// A button per standing recognition without a standing certificate.
async fn waiting_honours(console: &Console) -> Result<Vec<Form>> {
    let honours: Vec<Value> = console.api.get_all("/recognitions").await?;
    let mut buttons = Vec::new();
    for h in honours.iter().filter(|h| h["revoked_at"].is_null()) {
        let of_honour: Vec<Value> = console
            .api
            .get_all(&format!("/certificates?recognition_id={}", h["id"]))
            .await?;
        if of_honour.iter().any(|c| c["standing"] == "valid") {
            continue;
        }
        let label = format!(
            "为{}颁发证书（{}）",
            text(h, "resident_name"),
            text(h, "title")
        );
        buttons.push(Form::button(
            format!("/admin/recognitions/{}/certificates", h["id"]),
            &console.csrf,
            &label,
            "primary",
        ));
    }
    Ok(buttons)
}

#[handler]
async fn show(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Review)?;
    let (c, _): (Value, String) = console.api.get_view(&format!("/certificates/{id}")).await?;
    let code = text(&c, "verification_code");
    let mut blocks = vec![
        Block::Notice(
            if c["standing"] == "valid" {
                "ok"
            } else {
                "warn"
            },
            format!("状态：{}", standing_label(&c)),
        ),
        Block::Facts(facts(&c)),
        Block::Links(vec![
            Link::new(format!("/verify/{code}/certificate"), "预览并打印证书"),
            Link::new(format!("/verify/{code}"), "公开验证页"),
            Link::new(format!("/admin/residents/{}", c["resident_id"]), "居民页面"),
            Link::new("/admin/certificates", "返回证书列表"),
        ]),
    ];
    if cfg!(feature = "pdf") {
        if let Some(Block::Links(links)) = blocks.last_mut() {
            links.insert(
                1,
                Link::new(format!("/verify/{code}/certificate.pdf"), "下载 PDF"),
            );
        }
    }
    if console.may(Action::Decide) && c["standing"] == "valid" {
        blocks.push(Block::Buttons(vec![Form::button(
            format!("/admin/certificates/{id}/reissue"),
            &console.csrf,
            "补发（新编号，原证书作废）",
            "plain",
        )]));
    }
    if console.may(Action::Decide) && c["revoked_at"].is_null() {
        let reason = Field::new("reason", "撤销原因", Kind::Textarea)
            .required()
            .hint("仅工作人员可见；公开验证页只显示“已撤销”和日期。");
        blocks.push(Block::Form(
            Form::button(
                format!("/admin/certificates/{id}/revoke"),
                &console.csrf,
                "撤销证书",
                "danger",
            )
            .group("撤销证书", vec![reason]),
        ));
    }
    console.render(format!("证书 {}", text(&c, "number")), blocks)
}

/// What the certificate's page lists: an honour's title and citation, or a 志愿服务记录证明's
/// masked ID number, period and hours.
fn facts(c: &Value) -> Vec<(String, String)> {
    let mut facts = vec![
        ("证书编号".into(), text(c, "number")),
        ("证书类别".into(), text(c, "kind_label")),
        ("姓名".into(), text(c, "holder_name")),
    ];
    if c["kind"] == "hours" {
        facts.extend([
            ("身份证号码（证明所示）".into(), text(c, "masked_id_number")),
            (
                "服务期间".into(),
                format!("{} 至 {}", text(c, "period_start"), text(c, "period_end")),
            ),
            (
                "累计志愿服务时长".into(),
                format!(
                    "{} 小时",
                    format_hours(c["hours"].as_f64().unwrap_or_default())
                ),
            ),
            ("服务内容".into(), text(c, "citation")),
        ]);
    } else {
        facts.extend([
            ("荣誉称号".into(), text(c, "title")),
            ("类别".into(), text(c, "category")),
            ("事迹".into(), text(c, "citation")),
        ]);
    }
    facts.extend([
        ("颁发单位".into(), text(c, "issuing_body")),
        ("签发".into(), text(c, "signatory")),
        ("颁发日期".into(), text(c, "issued_on")),
        ("验证地址".into(), text(c, "verify_url")),
        ("撤销原因".into(), text(c, "revoke_reason")),
    ]);
    facts
}

#[derive(Debug, Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `/admin/residents/N/hours-certificate`: choose a period, see what a 志愿服务记录证明 for it
/// would state (the records counted, those left out, the total, the masked ID number), and issue
/// it; below, the resident's certificates of this kind.
#[handler]
async fn hours_preview(
    console: Console,
    Path(id): Path<i64>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response> {
    console.require(Action::Review)?;
    // A resident the caller does not reach (out of their scope) has no page: 404.
    if let Err(p) = console
        .api
        .get_view::<Value>(&format!("/residents/{id}"))
        .await
    {
        return Err(p.into());
    }
    let today = console.state.clock.today();
    let from = q.from.unwrap_or_default().trim().to_string();
    let to = q.to.unwrap_or_default().trim().to_string();
    let mut blocks = vec![Block::Links(vec![Link::new(
        format!("/admin/residents/{id}"),
        "返回居民页面",
    )])];
    let (shown_from, shown_to) = if from.is_empty() && to.is_empty() {
        (
            format!("{}-01-01", chrono::Datelike::year(&today)),
            today.to_string(),
        )
    } else {
        (from.clone(), to.clone())
    };
    blocks.push(Block::Form(
        Form::get(format!("/admin/residents/{id}/hours-certificate"), "预览").group(
            "证明期间",
            vec![
                Field::new("from", "开始日期", Kind::Date)
                    .value(shown_from)
                    .required(),
                Field::new("to", "结束日期", Kind::Date)
                    .value(shown_to)
                    .required()
                    .hint("只计入完全落在期间内的服务记录；结束日期不能晚于今天。"),
            ],
        ),
    ));
    if !(from.is_empty() && to.is_empty()) {
        let query = serde_urlencoded::to_string([("from", &from), ("to", &to)]).unwrap_or_default();
        match console
            .api
            .get_view::<Value>(&format!("/residents/{id}/hours-statement?{query}"))
            .await
        {
            Ok((st, _)) => statement_blocks(&console, id, &st, &from, &to, &mut blocks),
            Err(p) if p.status.as_u16() == 422 => {
                let message = p
                    .fields
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("；");
                blocks.push(Block::Notice("error", message));
            }
            Err(p) => return Err(p.into()),
        }
    }
    let theirs: Vec<Value> = console
        .api
        .get_all(&format!("/certificates?resident_id={id}&kind=hours"))
        .await?;
    let mut table = Table::new(
        "已出具的志愿服务记录证明",
        &["编号", "服务期间", "时长", "出具日期", "状态"],
        "尚未出具。",
    );
    for c in &theirs {
        table.row(vec![
            Cell::link(
                text(c, "number"),
                format!("/admin/certificates/{}", c["id"]),
            ),
            Cell::text(format!(
                "{} 至 {}",
                text(c, "period_start"),
                text(c, "period_end")
            )),
            Cell::text(format!(
                "{} 小时",
                format_hours(c["hours"].as_f64().unwrap_or_default())
            )),
            Cell::text(text(c, "issued_on")),
            Cell::text(standing_label(c)),
        ]);
    }
    blocks.push(Block::Table(table));
    console.render("志愿服务记录证明", blocks)
}

/// The preview of a statement, and the button issuing it when it can be issued.
fn statement_blocks(
    console: &Console,
    id: i64,
    st: &Value,
    from: &str,
    to: &str,
    blocks: &mut Vec<Block>,
) {
    let total = st["total_hours"].as_f64().unwrap_or_default();
    let masked = text(st, "masked_id_number");
    blocks.push(Block::Heading("证明预览".into()));
    blocks.push(Block::Facts(vec![
        ("姓名".into(), text(st, "holder_name")),
        (
            "身份证号码（证明所示）".into(),
            if masked.is_empty() {
                "未登记".into()
            } else {
                masked.clone()
            },
        ),
        (
            "服务期间".into(),
            format!("{} 至 {}", text(st, "from"), text(st, "to")),
        ),
        (
            "累计志愿服务时长".into(),
            format!("{} 小时", format_hours(total)),
        ),
        ("服务内容".into(), text(st, "service_line")),
    ]));
    let rows = |key: &str, caption: &str, empty: &str| {
        let mut table = Table::new(caption, &["时间", "事项", "小时"], empty);
        for r in st[key].as_array().into_iter().flatten() {
            let when = match r["end"].as_str() {
                Some(end) => format!("{} 至 {end}", text(r, "start")),
                None => text(r, "start"),
            };
            table.row(vec![
                Cell::text(when),
                Cell::text(text(r, "title")),
                Cell::text(format_hours(r["hours"].as_f64().unwrap_or_default())),
            ]);
        }
        table
    };
    blocks.push(Block::Table(rows(
        "records",
        "计入的服务记录",
        "这一期间没有带小时数的服务记录。",
    )));
    if st["left_out"].as_array().is_some_and(|l| !l.is_empty()) {
        blocks.push(Block::Table(rows(
            "left_out",
            "未计入：跨越期间起止的记录（时长无法拆分）",
            "",
        )));
    }
    if masked.is_empty() {
        blocks.push(Block::Notice(
            "warn",
            "该居民未登记身份证号码：志愿服务记录证明须载明身份证件号码（部分隐去），请先修改资料。"
                .into(),
        ));
    } else if total <= 0.0 {
        blocks.push(Block::Notice(
            "warn",
            "该期间内没有可证明的志愿服务时长。".into(),
        ));
    } else if console.may(Action::Decide) {
        blocks.push(Block::Buttons(vec![Form::button(
            format!("/admin/residents/{id}/hours-certificates"),
            &console.csrf,
            "出具志愿服务记录证明",
            "primary",
        )
        .hidden("from", from)
        .hidden("to", to)]));
    }
}

/// `/admin/certificates/seal`: the seal in use, as certificates show it, and (for admins) the
/// upload of a new one.
#[handler]
async fn seal_page(console: Console, desk: Data<&Desk>) -> Result<Response> {
    console.require(Action::Review)?;
    seal_view(&console, &desk, None, StatusCode::OK).await
}

async fn seal_view(
    console: &Console,
    desk: &Desk,
    error: Option<String>,
    status: StatusCode,
) -> Result<Response> {
    let mut blocks = vec![Block::Links(vec![Link::new(
        "/admin/certificates",
        "返回证书列表",
    )])];
    let (status_body, _) = console.api.get_view::<Value>("/certificates/seal").await?;
    let info = &status_body["seal"];
    if info.is_null() {
        blocks.push(Block::Notice(
            "warn",
            "尚未上传印章：证书打印时不带印章。".into(),
        ));
    } else {
        blocks.push(Block::Facts(vec![
            (
                "尺寸".into(),
                format!("{} × {} 像素", info["width"], info["height"]),
            ),
            ("文件大小".into(), format!("{} 字节", info["size_bytes"])),
            ("上传时间".into(), text(info, "uploaded_at")),
        ]));
        let uri = desk
            .seal_data_uri()
            .await
            .map_err(|e| super::client::Problem::internal(&e.to_string()))?;
        if let Some(uri) = uri {
            blocks.push(Block::Html(format!(
                "<p><img class=\"seal-preview\" src=\"{uri}\" alt=\"当前印章\" width=\"160\"></p>"
            )));
        }
    }
    if console.may(Action::ManageSeal) {
        let mut form = Form::post("/admin/certificates/seal", &console.csrf, "上传印章")
            .multipart()
            .group(
                "上传新印章",
                vec![Field::new("file", "印章图片", Kind::File).required().hint(
                    "透明背景的 PNG，不超过 512 KB，每边 120–1200 像素；此后打印的证书都使用新印章。",
                )],
            );
        if let Some(message) = error {
            form = form.with_error(message);
        }
        blocks.push(Block::Form(form));
    }
    let mut page = console.render("证书印章", blocks)?;
    page.set_status(status);
    Ok(page)
}

#[handler]
async fn upload_seal(console: Console, desk: Data<&Desk>) -> Result<Response> {
    console.require(Action::ManageSeal)?;
    let Some(file) = console.form.file("file") else {
        let message = "请选择印章图片文件".to_string();
        return seal_view(
            &console,
            &desk,
            Some(message),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let body = Some(("image/png".to_string(), file.bytes.clone()));
    match console
        .api
        .call(Method::PUT, "/certificates/seal", body, None)
        .await
    {
        Ok(_) => redirect("/admin/certificates/seal"),
        Err(p) if p.status.is_client_error() && p.status != StatusCode::FORBIDDEN => {
            let message = match p.fields.first() {
                Some((_, m)) => m.clone(),
                None => p.message.clone(),
            };
            seal_view(&console, &desk, Some(message), p.status).await
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn issue_hours(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Decide)?;
    let body = json!({
        "from": console.form.get("from"),
        "to": console.form.get("to"),
    });
    let path = format!("/residents/{id}/hours-certificates");
    let reply = console.api.send(Method::POST, &path, &body, None).await?;
    redirect(&format!("/admin/certificates/{}", reply.body["id"]))
}

#[handler]
async fn issue(console: Console, Path(id): Path<i64>) -> Result<Response> {
    issue_and_show(&console, &format!("/recognitions/{id}/certificates")).await
}

#[handler]
async fn reissue(console: Console, Path(id): Path<i64>) -> Result<Response> {
    issue_and_show(&console, &format!("/certificates/{id}/reissue")).await
}

/// Post to an API operation that answers with a new certificate, and show it.
async fn issue_and_show(console: &Console, path: &str) -> Result<Response> {
    console.require(Action::Decide)?;
    let reply = console
        .api
        .send(Method::POST, path, &json!({}), None)
        .await?;
    redirect(&format!("/admin/certificates/{}", reply.body["id"]))
}

#[handler]
async fn revoke(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Decide)?;
    let body = json!({ "reason": console.form.get("reason") });
    let path = format!("/certificates/{id}/revoke");
    console.api.send(Method::POST, &path, &body, None).await?;
    redirect(&format!("/admin/certificates/{id}"))
}
