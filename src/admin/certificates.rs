//! 证书 in the console: the certificates of a year, the honours still waiting for one (issued
//! with one button), and a certificate's page with its preview, reissue and revocation with a
//! reason. Reviewers and admins; every change is the API's (`/certificates`).

use poem::http::Method;
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, Console, Result};
use crate::domain::policy::Action;

pub fn routes(route: Route) -> Route {
    route
        .at("/certificates", get(list))
        .at("/certificates/:id", get(show))
        .at("/certificates/:id/reissue", poem::post(reissue))
        .at("/certificates/:id/revoke", poem::post(revoke))
        .at("/recognitions/:id/certificates", poem::post(issue))
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
        &["编号", "姓名", "荣誉称号", "颁发日期", "状态"],
        "这一年还没有颁发证书。",
    );
    for c in &certificates {
        table.row(vec![
            Cell::link(
                text(c, "number"),
                format!("/admin/certificates/{}", c["id"]),
            ),
            Cell::text(text(c, "holder_name")),
            Cell::text(text(c, "title")),
            Cell::text(text(c, "issued_on")),
            Cell::text(standing_label(c)),
        ]);
    }
    let years = Form::get("/admin/certificates", "查看").group(
        "年度",
        vec![Field::new("year", "颁发年度", Kind::Number).value(year.to_string())],
    );
    let mut blocks = vec![Block::Form(years), Block::Table(table)];
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
        Block::Facts(vec![
            ("证书编号".into(), text(&c, "number")),
            ("证书类别".into(), text(&c, "kind_label")),
            ("姓名".into(), text(&c, "holder_name")),
            ("荣誉称号".into(), text(&c, "title")),
            ("类别".into(), text(&c, "category")),
            ("事迹".into(), text(&c, "citation")),
            ("颁发单位".into(), text(&c, "issuing_body")),
            ("签发".into(), text(&c, "signatory")),
            ("颁发日期".into(), text(&c, "issued_on")),
            ("验证地址".into(), text(&c, "verify_url")),
            ("撤销原因".into(), text(&c, "revoke_reason")),
        ]),
        Block::Links(vec![
            Link::new(format!("/verify/{code}/certificate"), "预览并打印证书"),
            Link::new(format!("/verify/{code}"), "公开验证页"),
            Link::new("/admin/certificates", "返回证书列表"),
        ]),
    ];
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
