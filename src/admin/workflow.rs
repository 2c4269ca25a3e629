//! Nominations → review → 公示 (objections) → recognition. The buttons shown are the nomination's
//! `allowed_transitions` as the API computes them for this user; the API enforces the same rules.

use poem::http::{Method, StatusCode};
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::json;

use super::form::FormData;
use super::form::{fixable, resident_options};
use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, shanghai, Console, ConsoleError, Result};
use crate::domain::nomination::{NominationState, ObjectionState, MAX_STATEMENTS};
use crate::domain::policy::Action;
use crate::service::notices::Objection;
use crate::service::workflow::Category;
use crate::service::workflow::Nomination;

pub fn routes(route: Route) -> Route {
    route
        .at("/nominations", get(list).post(create))
        .at("/nominations/new", get(new_form))
        .at("/nominations/:id", get(show))
        .at("/nominations/:id/edit", get(edit_form).post(update))
        .at("/nominations/:id/transitions", poem::post(transition))
        .at(
            "/objections/:id/transitions",
            poem::post(objection_transition),
        )
}

const STATES: [(&str, &str); 10] = [
    ("", "全部"),
    ("review", "评审队列（已提交和评审中）"),
    ("draft", "草稿"),
    ("submitted", "已提交（待评审）"),
    ("in_review", "评审中"),
    ("public_notice", "公示中"),
    ("approved", "已批准"),
    ("recognised", "已表彰"),
    ("rejected", "未通过"),
    ("withdrawn", "已撤回"),
];

fn transition_label(to: NominationState) -> &'static str {
    match to {
        NominationState::Submitted => "提交评审",
        NominationState::InReview => "开始评审",
        NominationState::PublicNotice => "开启公示",
        NominationState::Approved => "批准",
        NominationState::Recognised => "授予表彰",
        NominationState::Rejected => "不予通过",
        NominationState::Withdrawn => "撤回提名",
        NominationState::Draft => "变更状态",
    }
}

fn workflow_role(console: &Console) -> Result<()> {
    if console.may(Action::Nominate) || console.may(Action::Review) {
        Ok(())
    } else {
        Err(ConsoleError::Forbidden)
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
}

#[handler]
async fn list(console: Console, query: Query<ListQuery>) -> Result<Response> {
    workflow_role(&console)?;
    let wanted = query.state.clone().unwrap_or_default();
    // `review` is the reviewers' queue: submitted and in review.
    let states: Vec<&str> = match wanted.as_str() {
        "" => vec![""],
        "review" => vec!["submitted", "in_review"],
        one => vec![one],
    };
    let mut blocks = Vec::new();
    if console.may(Action::Nominate) {
        blocks.push(Block::Links(vec![Link::new(
            "/admin/nominations/new",
            "新建提名",
        )]));
    }
    blocks.push(Block::Form(Form::get("/admin/nominations", "筛选").group(
        "",
        vec![Field::new("state", "状态", Kind::Select)
                .options(STATES, std::slice::from_ref(&wanted))],
    )));
    let mut items: Vec<Nomination> = Vec::new();
    for state in states {
        let path = if state.is_empty() {
            "/nominations".to_string()
        } else {
            format!(
                "/nominations?{}",
                serde_urlencoded::to_string([("state", state)]).unwrap_or_default()
            )
        };
        match console.api.get_all(&path).await {
            Ok(found) => items.extend(found),
            Err(p) if fixable(&p) => blocks.push(Block::Notice("error", p.message.clone())),
            Err(p) => return Err(p.into()),
        }
    }
    let mut table = Table::new(
        "",
        &["居民", "荣誉", "年度", "类别", "状态", "公示截止"],
        "没有符合条件的提名。",
    );
    for n in items {
        table.row(vec![
            Cell::link(
                n.resident_name.clone(),
                format!("/admin/nominations/{}", n.id),
            ),
            Cell::text(n.honour_title.clone()),
            Cell::text(n.year.to_string()),
            Cell::text(n.category_name.clone()),
            Cell::text(n.state_label.clone()),
            Cell::text(
                n.notice
                    .as_ref()
                    .map(|w| shanghai(w.closes_at))
                    .unwrap_or_default(),
            ),
        ]);
    }
    blocks.push(Block::Table(table));
    let title = if wanted == "review" || wanted == "submitted" {
        "评审队列"
    } else {
        "提名与评审"
    };
    console.render(title, blocks)
}

/// Statement rows to offer for a form holding `filled`: each, one more, at least two, at most the
/// domain's limit.
fn statement_rows(filled: usize) -> usize {
    (filled + 1).clamp(2, MAX_STATEMENTS)
}

/// The statement rows a submitted form used.
fn submitted_statement_rows(f: &FormData) -> usize {
    (0..MAX_STATEMENTS)
        .rev()
        .find(|i| {
            ["author", "relation", "body"]
                .iter()
                .any(|k| !f.get(&format!("s{i}_{k}")).is_empty())
        })
        .map_or(0, |i| i + 1)
}

async fn nomination_form(console: &Console, action: &str, rows: usize) -> Result<Form> {
    let people = resident_options(console).await?;
    let categories: Vec<Category> = console.api.get("/categories").await?;
    let mut people_options = vec![(String::new(), "请选择".to_string())];
    people_options.extend(people);
    let mut category_options = vec![(String::new(), "请选择".to_string())];
    category_options.extend(categories.into_iter().map(|c| (c.id.to_string(), c.name)));
    let year = console.state.clock.today().format("%Y").to_string();
    let mut form = Form::post(action, &console.csrf, "保存为草稿").group(
        "提名",
        vec![
            Field::new("resident_id", "被提名的居民", Kind::Select)
                .required()
                .options(people_options, &[]),
            Field::new("category_id", "表彰类别", Kind::Select)
                .required()
                .options(category_options, &[]),
            Field::text("honour_title", "荣誉称号")
                .required()
                .value(format!("{year}年度长寿路街道有德之士")),
            Field::new("year", "年度", Kind::Number)
                .required()
                .value(year),
            Field::new("citation", "推荐理由", Kind::Textarea).required(),
        ],
    );
    for i in 0..rows {
        form = form.group(
            &format!(
                "推荐意见 / 事迹材料 {}{}",
                i + 1,
                if i == 0 {
                    "（至少一份）"
                } else {
                    "（可选）"
                }
            ),
            vec![
                Field::text(&format!("s{i}_author"), "推荐人"),
                Field::text(&format!("s{i}_relation"), "与被提名人的关系")
                    .hint("例如：小区业主、居委会主任"),
                Field::new(&format!("s{i}_body"), "内容", Kind::Textarea),
            ],
        );
    }
    Ok(form)
}

#[derive(Deserialize)]
pub struct NewQuery {
    resident: Option<i64>,
}

#[handler]
async fn new_form(console: Console, query: Query<NewQuery>) -> Result<Response> {
    console.require(Action::Nominate)?;
    let mut form = nomination_form(&console, "/admin/nominations", statement_rows(0)).await?;
    if let Some(r) = query.resident {
        let chosen = r.to_string();
        for f in form.groups.iter_mut().flat_map(|g| g.fields.iter_mut()) {
            if f.name == "resident_id" {
                for o in &mut f.options {
                    o.selected = o.value == chosen;
                }
            }
        }
    }
    console.render("新建提名", vec![Block::Form(form)])
}

fn statements(f: &FormData) -> Vec<serde_json::Value> {
    (0..MAX_STATEMENTS)
        .filter(|i| {
            ["author", "relation", "body"]
                .iter()
                .any(|k| !f.get(&format!("s{i}_{k}")).is_empty())
        })
        .map(|i| {
            json!({
                "author": f.get(&format!("s{i}_author")),
                "relation": f.get(&format!("s{i}_relation")),
                "body": f.get(&format!("s{i}_body")),
            })
        })
        .collect()
}

fn nomination_json(f: &FormData) -> serde_json::Value {
    json!({
        "resident_id": f.get("resident_id").parse::<i64>().unwrap_or(0),
        "category_id": f.get("category_id").parse::<i64>().unwrap_or(0),
        "honour_title": f.get("honour_title"),
        "year": f.get("year").parse::<i64>().unwrap_or(0),
        "citation": f.get("citation"),
        "statements": statements(f),
    })
}

/// An API field name as the form's input: `statements[1].author` → `s1_author`.
fn nomination_field(name: &str) -> Option<String> {
    if name == "statements" {
        return Some("s0_body".into());
    }
    let rest = name.strip_prefix("statements[")?;
    let (i, part) = rest.split_once(']')?;
    let i: usize = i.parse().ok()?;
    Some(match part.trim_start_matches('.') {
        "author" => format!("s{i}_author"),
        "relation" => format!("s{i}_relation"),
        _ => format!("s{i}_body"),
    })
}

/// The API's field errors named as the nomination form's inputs.
fn nomination_errors(p: &super::client::Problem) -> Vec<(String, String)> {
    p.field_errors(|_| None)
        .into_iter()
        .map(|(field, message)| (nomination_field(&field).unwrap_or(field), message))
        .collect()
}

#[handler]
async fn create(console: Console) -> Result<Response> {
    console.require(Action::Nominate)?;
    let f = &console.form;
    match console
        .api
        .send(Method::POST, "/nominations", &nomination_json(f), None)
        .await
    {
        Ok(reply) => redirect(&format!("/admin/nominations/{}", reply.body["id"])),
        Err(p) if fixable(&p) => {
            let form = nomination_form(
                &console,
                "/admin/nominations",
                statement_rows(submitted_statement_rows(f)),
            )
            .await?
            .refill(f, &nomination_errors(&p));
            console.render_status("新建提名", vec![Block::Form(form)], p.status)
        }
        Err(p) => Err(p.into()),
    }
}

fn transition_forms(console: &Console, n: &Nomination) -> Vec<Form> {
    n.allowed_transitions
        .iter()
        .map(|to| {
            let to = *to;
            let style = match to {
                NominationState::Rejected | NominationState::Withdrawn => "danger",
                _ => "primary",
            };
            let mut form = Form::button(
                format!("/admin/nominations/{}/transitions", n.id),
                &console.csrf,
                if to == n.state {
                    "重新公示（新的完整公示期）"
                } else {
                    transition_label(to)
                },
                style,
            )
            .hidden("to", to.code());
            match to {
                NominationState::PublicNotice => {
                    form = form.group(
                        "",
                        vec![Field::new("window_days", "公示天数", Kind::Number)
                            .value(console.state.notice_days.to_string())
                            .hint("1–30 天")],
                    )
                }
                NominationState::Rejected | NominationState::Withdrawn => {
                    form = form.group("", vec![Field::text("note", "原因（记入审计日志）")])
                }
                _ => {}
            }
            form.scoped(&format!("t-{to}"))
        })
        .collect()
}

/// The nomination's page; after a refused transition or objection decision, `notice` says why
/// and the form that was sent is filled again with what was typed.
async fn nomination_page(
    console: &Console,
    id: i64,
    notice: Option<String>,
    sent: Option<(&str, &FormData)>,
) -> Result<Response> {
    let n: Nomination = console.api.get(&format!("/nominations/{id}")).await?;
    let mut blocks = Vec::new();
    if let Some(message) = notice {
        blocks.push(Block::Notice("error", message));
    }
    blocks.push(Block::Facts(vec![
        ("被提名人".into(), n.resident_name.clone()),
        ("荣誉称号".into(), n.honour_title.clone()),
        ("年度".into(), n.year.to_string()),
        ("类别".into(), n.category_name.clone()),
        ("状态".into(), n.state_label.clone()),
        (
            "公示".into(),
            n.notice
                .as_ref()
                .map(|w| format!("{} 至 {}", shanghai(w.opens_at), shanghai(w.closes_at)))
                .unwrap_or_else(|| "未开启".into()),
        ),
    ]));
    let mut links = vec![Link::new(
        format!("/admin/residents/{}", n.resident_id),
        "查看居民资料",
    )];
    if let Some(w) = &n.notice {
        links.push(Link::new(format!("/notices/{}", w.id), "查看公示页面"));
    }
    blocks.push(Block::Links(links));
    blocks.push(Block::Heading("推荐理由".into()));
    blocks.push(Block::Text(n.citation.clone()));
    blocks.push(Block::Heading("推荐意见与事迹材料".into()));
    let mut st = Table::new("", &["推荐人", "关系", "内容"], "没有推荐意见。");
    for s in &n.statements {
        st.row(vec![
            Cell::text(s.author.clone()),
            Cell::text(s.relation.clone()),
            Cell::text(s.body.clone()),
        ]);
    }
    blocks.push(Block::Table(st));
    blocks.push(Block::Heading("可进行的操作".into()));
    let own_draft = n.state == NominationState::Draft
        && (n.nominator_id == console.staff.user_id
            || console
                .staff
                .roles
                .contains(&crate::domain::policy::Role::Admin));
    if own_draft {
        blocks.push(Block::Links(vec![Link::new(
            format!("/admin/nominations/{id}/edit"),
            "修改草稿",
        )]));
    }
    let forms = transition_forms(console, &n);
    if forms.is_empty() {
        blocks.push(Block::Text("当前状态下，您的角色没有可进行的操作。".into()));
    } else {
        blocks.push(Block::Buttons(forms));
    }
    if let (Some(w), true) = (&n.notice, console.may(Action::Review)) {
        let objections: Vec<Objection> = console
            .api
            .get(&format!("/notices/{}/objections", w.id))
            .await?;
        blocks.push(Block::Heading("异议".into()));
        let mut table = Table::new(
            "",
            &["回执号", "异议人", "联系方式", "内容", "状态", "核查结果"],
            "公示期间没有收到异议。",
        );
        let mut forms = Vec::new();
        for o in &objections {
            table.row(vec![
                Cell::text(o.receipt_code.clone()),
                Cell::text(o.objector_name.clone()),
                Cell::text(o.objector_contact.clone()),
                Cell::text(o.content.clone()),
                Cell::text(o.state.label()),
                Cell::text(o.resolution_note.clone().unwrap_or_default()),
            ]);
            if matches!(
                o.state,
                ObjectionState::Open | ObjectionState::Investigating
            ) {
                let action = format!("/admin/objections/{}/transitions", o.id);
                if o.state == ObjectionState::Open {
                    forms.push(
                        Form::button(
                            action.clone(),
                            &console.csrf,
                            &format!("{}：开始核查", o.receipt_code),
                            "plain",
                        )
                        .hidden("to", "investigating")
                        .hidden("nomination_id", n.id.to_string()),
                    );
                }
                forms.push(
                    Form::button(action, &console.csrf, "记录核查结果", "primary")
                        .hidden("nomination_id", n.id.to_string())
                        .group(
                            &format!("处理异议 {}", o.receipt_code),
                            vec![
                                Field::new("to", "结论", Kind::Select).options(
                                    [
                                        ("dismissed", "异议不成立"),
                                        ("upheld", "异议成立（不予表彰）"),
                                    ],
                                    &[],
                                ),
                                Field::new("note", "核查结果（将告知异议人）", Kind::Textarea)
                                    .required(),
                            ],
                        )
                        .scoped(&format!("o{}", o.id)),
                );
            }
        }
        blocks.push(Block::Table(table));
        if !forms.is_empty() {
            blocks.push(Block::Buttons(forms));
        }
    }
    if let Some((action, submitted)) = sent {
        refill_sent(&mut blocks, action, submitted);
    }
    let mut page = console.page(format!("提名：{}", n.resident_name), blocks);
    page.crumbs = vec![Link::new("/admin/nominations", "提名与评审")];
    super::html(page)
}

/// Fill again the form that was sent: the one posting to `action` whose hidden `to` (if any) is
/// the one sent.
fn refill_sent(blocks: &mut [Block], action: &str, submitted: &FormData) {
    let sent_to = submitted.get("to");
    for block in blocks.iter_mut() {
        let Block::Buttons(forms) = block else {
            continue;
        };
        for form in forms.iter_mut() {
            let hidden_to = form
                .hidden
                .iter()
                .find(|(k, _)| k == "to")
                .map(|(_, v)| v.as_str());
            if form.action == action && hidden_to.is_none_or(|to| to == sent_to) {
                let filled = std::mem::replace(form, Form::get("", ""));
                *form = filled.refill(submitted, &[]);
            }
        }
    }
}

#[handler]
async fn show(console: Console, Path(id): Path<i64>) -> Result<Response> {
    workflow_role(&console)?;
    nomination_page(&console, id, None, None).await
}

#[handler]
async fn transition(console: Console, Path(id): Path<i64>) -> Result<Response> {
    workflow_role(&console)?;
    let f = &console.form;
    let window_days = match f.opt("window_days") {
        None => None,
        Some(d) => match d.parse::<u32>() {
            Ok(d) => Some(d),
            Err(_) => {
                let mut resp = nomination_page(
                    &console,
                    id,
                    Some("公示天数应为 1–30 的整数".into()),
                    Some((&format!("/admin/nominations/{id}/transitions"), f)),
                )
                .await?;
                resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
                return Ok(resp);
            }
        },
    };
    let body = json!({ "to": f.get("to"), "note": f.opt("note"), "window_days": window_days });
    match console
        .api
        .send(
            Method::POST,
            &format!("/nominations/{id}/transitions"),
            &body,
            None,
        )
        .await
    {
        Ok(_) => redirect(&format!("/admin/nominations/{id}")),
        Err(p) if fixable(&p) => {
            let message = p
                .fields
                .iter()
                .map(|(_, m)| m.clone())
                .collect::<Vec<_>>()
                .join("；");
            let message = if message.is_empty() {
                p.message.clone()
            } else {
                message
            };
            let action = format!("/admin/nominations/{id}/transitions");
            let mut resp = nomination_page(&console, id, Some(message), Some((&action, f))).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn objection_transition(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Review)?;
    let f = &console.form;
    let nomination: i64 = f.get("nomination_id").parse().unwrap_or(0);
    let body = json!({ "to": f.get("to"), "note": f.opt("note") });
    match console
        .api
        .send(
            Method::POST,
            &format!("/objections/{id}/transitions"),
            &body,
            None,
        )
        .await
    {
        Ok(_) if nomination > 0 => redirect(&format!("/admin/nominations/{nomination}#objections")),
        Ok(_) => redirect("/admin"),
        Err(p) if fixable(&p) && nomination > 0 => {
            let message = p
                .fields
                .first()
                .map_or(p.message.clone(), |(_, m)| m.clone());
            let action = format!("/admin/objections/{id}/transitions");
            let mut resp =
                nomination_page(&console, nomination, Some(message), Some((&action, f))).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn edit_form(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Nominate)?;
    let (n, etag): (Nomination, String) = console
        .api
        .get_tagged(&format!("/nominations/{id}"))
        .await?;
    let mut pairs = vec![
        ("resident_id".to_string(), n.resident_id.to_string()),
        ("category_id".into(), n.category_id.to_string()),
        ("honour_title".into(), n.honour_title.clone()),
        ("year".into(), n.year.to_string()),
        ("citation".into(), n.citation.clone()),
    ];
    for (i, st) in n.statements.iter().enumerate() {
        pairs.push((format!("s{i}_author"), st.author.clone()));
        pairs.push((format!("s{i}_relation"), st.relation.clone()));
        pairs.push((format!("s{i}_body"), st.body.clone()));
    }
    let form = nomination_form(
        &console,
        &format!("/admin/nominations/{id}/edit"),
        statement_rows(n.statements.len()),
    )
    .await?
    .hidden("etag", etag)
    .refill(
        &FormData {
            pairs,
            files: Vec::new(),
        },
        &[],
    );
    console.render(
        format!("修改提名草稿：{}", n.resident_name),
        vec![Block::Form(form)],
    )
}

#[handler]
async fn update(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Nominate)?;
    let f = &console.form;
    let mut etag = f.get("etag").to_string();
    let errors = match console
        .api
        .send(
            Method::PUT,
            &format!("/nominations/{id}"),
            &nomination_json(f),
            Some(&etag),
        )
        .await
    {
        Ok(_) => return redirect(&format!("/admin/nominations/{id}")),
        Err(p) if p.status == StatusCode::PRECONDITION_FAILED => {
            // Keep what was typed; the form now carries the current version.
            let (_, current): (Nomination, String) = console
                .api
                .get_tagged(&format!("/nominations/{id}"))
                .await?;
            etag = current;
            vec![(
                String::new(),
                "在您修改期间，这份提名已被改动。下面保留了您填写的内容；核对提名页面上的最新内容后，再次保存将以您的版本为准。".to_string(),
            )]
        }
        Err(p) if fixable(&p) => nomination_errors(&p),
        Err(p) => return Err(p.into()),
    };
    let form = nomination_form(
        &console,
        &format!("/admin/nominations/{id}/edit"),
        statement_rows(submitted_statement_rows(f)),
    )
    .await?
    .hidden("etag", etag)
    .refill(f, &errors);
    console.render_status(
        "修改提名草稿",
        vec![Block::Form(form)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
