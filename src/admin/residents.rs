//! Residents and their consents: the list, the resident's page (with their service history and
//! photos), the forms, consent and erasure.

use std::collections::HashMap;

use poem::http::{Method, StatusCode};
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::dashboard::has_active;
use super::form::{community_options, fixable};
use super::records::{volunteer_hours_text, RecordPage, Summary};
use super::ui::{Block, Cell, Compare, Field, Form, Kind, Link, Table};
use super::{redirect, Console, Result};
use crate::domain::policy::Action;
use crate::domain::service_record::RecordKind;
use crate::service::photos::Photo;
use crate::service::registry::Consent;
use crate::service::registry::Resident;
use crate::service::search::SearchPage;
use crate::service::workflow::Nomination;

pub fn routes(route: Route) -> Route {
    route
        .at("/residents", get(list).post(create))
        .at("/residents/new", get(new_form))
        .at("/residents/:id", get(show))
        .at("/residents/:id/edit", get(edit_form).post(update))
        .at("/residents/:id/consents", poem::post(record_consent))
        .at(
            "/residents/:id/consents/:consent_id/withdraw",
            poem::post(withdraw_consent),
        )
        .at("/residents/:id/erasure", poem::post(erase_resident))
}

#[derive(Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

/// `GET /admin/residents`: everyone (staff scope), or search hits for `q`.
#[handler]
async fn list(console: Console, query: Query<ListQuery>) -> Result<Response> {
    console.require(Action::ReadPrivate)?;
    let q = query.q.clone().unwrap_or_default();
    let mut blocks = Vec::new();
    if console.may(Action::EditRegistry) {
        blocks.push(Block::Links(vec![
            Link::new("/admin/residents/new", "登记新居民"),
            Link::new("/admin/activities/new", "登记一次活动（多名参与者）"),
        ]));
    }
    blocks.push(Block::Form(Form::get("/admin/residents", "搜索").group(
        "",
        vec![Field::text("q", "姓名、拼音或事迹")
            .value(q.clone())
            .hint("包括未公开的居民（工作人员范围）")],
    )));
    let mut table = Table::new("", &["姓名", "拼音", "社区", "公开"], "没有找到居民。");
    if q.trim().is_empty() {
        let all: Vec<Resident> = console.api.get_all("/residents").await?;
        let communities = community_options(&console).await?;
        let names: HashMap<String, String> = communities.into_iter().collect();
        for r in all {
            table.row(vec![
                Cell::link(r.name.clone(), format!("/admin/residents/{}", r.id)),
                Cell::text(r.pinyin.clone()),
                Cell::text(
                    names
                        .get(&r.community_id.to_string())
                        .cloned()
                        .unwrap_or_default(),
                ),
                Cell::text(""),
            ]);
        }
    } else {
        let query = serde_urlencoded::to_string([
            ("q", q.as_str()),
            ("scope", "staff"),
            ("kind", "resident"),
            ("limit", "50"),
        ])
        .unwrap_or_default();
        match console
            .api
            .get::<SearchPage>(&format!("/search?{query}"))
            .await
        {
            Ok(page) => {
                for hit in page.hits {
                    table.row(vec![
                        Cell::link(hit.name.clone(), format!("/admin/residents/{}", hit.id)),
                        Cell::text(hit.pinyin.clone()),
                        Cell::text(hit.community_path.clone()),
                        Cell::text(match hit.public {
                            Some(true) => "是",
                            Some(false) => "否",
                            None => "",
                        }),
                    ]);
                }
            }
            Err(p) if fixable(&p) => blocks.push(Block::Notice("error", p.message.clone())),
            Err(p) => return Err(p.into()),
        }
    }
    blocks.push(Block::Table(table));
    console.render("居民", blocks)
}

fn resident_form(action: &str, csrf: &str, communities: Vec<(String, String)>) -> Form {
    Form::post(action, csrf, "保存")
        .group(
            "公开信息",
            vec![
                Field::text("name", "姓名").required(),
                Field::new("community_id", "所属社区", Kind::Select)
                    .required()
                    .options(communities, &[]),
                Field::new("citation", "事迹简介（Markdown）", Kind::Textarea)
                    .hint("公开页面上显示；可用 **加粗**、列表和链接"),
            ],
        )
        .group(
            "隐私信息（只在工作台显示，永不公开）",
            vec![
                Field::text("phone", "电话"),
                Field::text("id_number", "身份证号码").hint("18 位，校验位须正确"),
                Field::new("birth_year", "出生年份", Kind::Number),
                Field::text("address", "住址"),
            ],
        )
}

fn resident_json(form: &super::form::FormData) -> Value {
    json!({
        "name": form.get("name"),
        "community_id": form.get("community_id").parse::<i64>().unwrap_or(0),
        "citation": form.opt("citation"),
        "phone": form.opt("phone"),
        "id_number": form.opt("id_number"),
        "birth_year": form.opt("birth_year").map(|y| y.parse::<i64>().map(Value::from).unwrap_or(Value::from(y))),
        "address": form.opt("address"),
    })
}

/// A field name the API reported, as the form's field name.
fn resident_field(name: &str) -> Option<&'static str> {
    match name {
        "birth_year" => Some("birth_year"),
        _ => None,
    }
}

#[handler]
async fn new_form(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let form = resident_form(
        "/admin/residents",
        &console.csrf,
        community_options(&console).await?,
    );
    console.render("登记新居民", vec![Block::Form(form)])
}

#[handler]
async fn create(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let body = resident_json(&console.form);
    if console.form.opt("birth_year").is_some() && !body["birth_year"].is_i64() {
        let form = resident_form(
            "/admin/residents",
            &console.csrf,
            community_options(&console).await?,
        )
        .refill(
            &console.form,
            &[("birth_year".into(), "请填写四位数字的年份".into())],
        );
        return console.render_status(
            "登记新居民",
            vec![Block::Form(form)],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match console
        .api
        .send(Method::POST, "/residents", &body, None)
        .await
    {
        Ok(reply) => redirect(&format!("/admin/residents/{}", reply.body["id"])),
        Err(p) if fixable(&p) => {
            let form = resident_form(
                "/admin/residents",
                &console.csrf,
                community_options(&console).await?,
            )
            .refill(&console.form, &p.field_errors(resident_field));
            console.render_status("登记新居民", vec![Block::Form(form)], p.status)
        }
        Err(p) => Err(p.into()),
    }
}

fn or_dash(v: &Option<String>) -> String {
    v.clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "—".into())
}

/// What each consent covers, as the form offers it.
fn scope_choice(scope: crate::domain::consent::ConsentScope) -> (&'static str, &'static str) {
    use crate::domain::consent::ConsentScope;
    let text = match scope {
        ConsentScope::Profile => "公开资料（姓名、事迹、服务记录上公开页面和搜索）",
        ConsentScope::Photo => "照片（含本人的照片可以公开）",
        ConsentScope::Story => "报道（可在新闻报道中点名）",
    };
    (scope.code(), text)
}

fn scope_label(scope: &crate::domain::consent::ConsentScope) -> &'static str {
    use crate::domain::consent::ConsentScope;
    match scope {
        ConsentScope::Profile => "公开资料",
        ConsentScope::Photo => "照片",
        ConsentScope::Story => "报道",
    }
}

/// A record kind as the public page names it (the domain's label).
pub fn kind_label(kind: &str) -> &'static str {
    kind.parse::<RecordKind>().map_or("其他", RecordKind::label)
}

fn consent_form(console: &Console, id: i64) -> Form {
    Form::post(
        format!("/admin/residents/{id}/consents"),
        &console.csrf,
        "记录同意",
    )
    .group(
        "记录一份同意书",
        vec![
            Field::new("scope", "同意范围", Kind::Select)
                .required()
                .options(
                    crate::domain::consent::ConsentScope::ALL.map(scope_choice),
                    &[],
                ),
            Field::text("text_version", "同意书版本")
                .required()
                .value("2019-1")
                .hint("本人签署的同意书文本的版本号"),
            Field::new("signed_on", "签署日期", Kind::Date)
                .required()
                .value(console.state.clock.today().to_string()),
            Field::text("evidence", "存档位置").hint("例如：纸质同意书存档于居委会"),
        ],
    )
}

#[handler]
async fn show(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ReadPrivate)?;
    resident_page(&console, id, None).await
}

async fn resident_page(
    console: &Console,
    id: i64,
    consent_form_state: Option<Form>,
) -> Result<Response> {
    let r: Resident = console.api.get(&format!("/residents/{id}")).await?;
    let (summary, _): (Summary, _) = console
        .api
        .get_view(&format!("/residents/{id}/summary"))
        .await?;
    let consents: Vec<Consent> = console
        .api
        .get(&format!("/residents/{id}/consents"))
        .await?;
    let (records, _): (RecordPage, _) = console
        .api
        .get_view(&format!("/residents/{id}/service-records?limit=200"))
        .await?;
    let records = records.items;
    let photos: Vec<Photo> = console
        .api
        .get_all(&format!("/photos?owner_kind=resident&owner_id={id}"))
        .await?;
    let communities: HashMap<String, String> =
        community_options(console).await?.into_iter().collect();
    let public = has_active(&consents, crate::domain::consent::ConsentScope::Profile);
    let mut blocks = Vec::new();
    let mut links = Vec::new();
    if console.may(Action::EditRegistry) {
        links.push(Link::new(format!("/admin/residents/{id}/edit"), "修改资料"));
        links.push(Link::new(
            format!("/admin/residents/{id}/records/new"),
            "添加服务记录",
        ));
        links.push(Link::new(
            format!("/admin/photos/new?resident={id}"),
            "上传照片",
        ));
    }
    if console.may(Action::Nominate) {
        links.push(Link::new(
            format!("/admin/nominations/new?resident={id}"),
            "提名此人",
        ));
    }
    if console.may(Action::Review) && r.erased_at.is_none() {
        links.push(Link::new(
            format!("/admin/residents/{id}/hours-certificate"),
            "志愿服务记录证明",
        ));
    }
    if public {
        links.push(Link::new(format!("/people/{}", r.slug), "查看公开页面"));
    }
    blocks.push(Block::Links(links));
    match r.erased_at {
        Some(at) => blocks.push(Block::Notice(
            "warn",
            format!(
                "已于 {} 按本人要求删除个人信息：隐私字段、照片和公开内容均已删除，不能再修改或登记同意。",
                at.format("%Y-%m-%d")
            ),
        )),
        None if console.may(Action::Erase) => blocks.push(Block::Buttons(vec![Form::button(
            format!("/admin/residents/{id}/erasure"),
            &console.csrf,
            "按本人要求删除个人信息（不可撤销）",
            "danger",
        )])),
        None => {}
    }
    blocks.push(Block::Notice(
        if public { "ok" } else { "warn" },
        if public {
            "已同意公开资料：公开页面和搜索中可见。".into()
        } else {
            "尚无公开资料同意：此人不在公开页面和公开搜索中出现。".into()
        },
    ));
    blocks.push(Block::Facts(vec![
        ("姓名".into(), r.name.clone()),
        ("拼音".into(), r.pinyin.clone()),
        (
            "所属社区".into(),
            communities
                .get(&r.community_id.to_string())
                .cloned()
                .unwrap_or_default(),
        ),
        ("电话（隐私）".into(), or_dash(&r.phone)),
        ("身份证号码（隐私）".into(), or_dash(&r.id_number)),
        (
            "出生年份（隐私）".into(),
            r.birth_year.map_or("—".into(), |y| y.to_string()),
        ),
        ("住址（隐私）".into(), or_dash(&r.address)),
    ]));
    if let Some(citation) = &r.citation {
        blocks.push(Block::Heading("事迹简介（公开页面所示）".into()));
        blocks.push(Block::Html(crate::markdown::to_safe_html(citation)));
    }
    blocks.push(Block::Heading(
        "服务概况（按公开页面的算法实时计算）".into(),
    ));
    blocks.push(Block::Text(if summary.headlines.is_empty() {
        "暂无可汇总的服务记录。".into()
    } else {
        summary.headlines.join(" · ")
    }));
    blocks.push(Block::Facts(vec![
        (
            "服务年限".into(),
            format!(
                "{} 年（其中无偿 {} 年）",
                summary.service_years, summary.unpaid_years
            ),
        ),
        ("志愿服务时长".into(), volunteer_hours_text(&summary)),
        (
            "星级".into(),
            summary
                .star_level_label
                .clone()
                .unwrap_or_else(|| "未达一星（100 小时）".into()),
        ),
        ("记录数".into(), summary.records.to_string()),
        ("计算截至".into(), summary.as_of.clone()),
    ]));
    blocks.push(Block::Heading("服务记录".into()));
    let mut table = Table::new(
        "",
        &[
            "时间",
            "类别",
            "事项",
            "数量",
            "无偿",
            "出处",
            "记录 / 核实",
            "",
        ],
        "还没有服务记录。",
    );
    for rec in &records {
        let when = match &rec.end {
            Some(end) if end != &rec.start => format!("{} 至 {}", rec.start, end),
            Some(_) => rec.start.clone(),
            None if rec.kind == "role" => match &rec.confirmed_on {
                Some(known) => format!("{} 至 {known}（最后核实）", rec.start),
                None => format!("{} 至今", rec.start),
            },
            None => rec.start.clone(),
        };
        let measures = rec
            .measures
            .iter()
            .map(|m| m.text.clone())
            .collect::<Vec<_>>()
            .join("，");
        let verified = match (&rec.verified_by, &rec.verified_on) {
            (Some(by), Some(on)) => format!("{} / {} 于 {}", rec.recorded_by, by, on),
            (Some(by), None) => format!("{} / {}", rec.recorded_by, by),
            _ => format!("{} / 未核实", rec.recorded_by),
        };
        table.row(vec![
            Cell::text(when),
            Cell::text(kind_label(&rec.kind)),
            Cell::text(rec.title.clone()),
            Cell::text(measures),
            Cell::text(if rec.unpaid { "是" } else { "" }),
            Cell::text(rec.evidence.clone().unwrap_or_default()),
            Cell::text(verified),
            if console.may(Action::EditRegistry) {
                Cell::link(
                    "修改",
                    format!("/admin/residents/{id}/records/{}/edit", rec.id),
                )
            } else {
                Cell::text("")
            },
        ]);
    }
    blocks.push(Block::Table(table));
    if console.may(Action::EditRegistry) || console.may(Action::Review) {
        let verify: Vec<Form> = records
            .iter()
            .filter(|rec| rec.verified_by.is_none())
            .map(|rec| {
                Form::button(
                    format!("/admin/residents/{id}/records/{}/verify", rec.id),
                    &console.csrf,
                    &format!("核实“{}”", rec.title),
                    "primary",
                )
            })
            .collect();
        if !verify.is_empty() {
            blocks.push(Block::Buttons(verify));
        }
    }
    blocks.push(Block::Heading("同意记录".into()));
    let mut ctable = Table::new(
        "",
        &["范围", "版本", "签署", "记录人", "存档", "状态"],
        "尚未记录任何同意。",
    );
    let mut withdraw = Vec::new();
    for c in &consents {
        ctable.row(vec![
            Cell::text(scope_label(&c.scope)),
            Cell::text(c.text_version.clone()),
            Cell::text(c.signed_on.to_string()),
            Cell::text(c.recorded_by.clone()),
            Cell::text(c.evidence.clone().unwrap_or_default()),
            Cell::text(match c.withdrawn_on {
                Some(d) => format!("已于 {d} 撤回"),
                None => "有效".into(),
            }),
        ]);
        if c.withdrawn_on.is_none() && console.may(Action::ManageConsent) {
            withdraw.push(Form::button(
                format!("/admin/residents/{id}/consents/{}/withdraw", c.id),
                &console.csrf,
                &format!("撤回“{}”同意", scope_label(&c.scope)),
                "danger",
            ));
        }
    }
    blocks.push(Block::Table(ctable));
    if !withdraw.is_empty() {
        blocks.push(Block::Buttons(withdraw));
    }
    if console.may(Action::ManageConsent) {
        blocks.push(Block::Form(
            consent_form_state.unwrap_or_else(|| consent_form(console, id)),
        ));
    }
    blocks.push(Block::Heading("照片".into()));
    let mut ptable = Table::new("", &["照片", "说明", "摄影", "公开"], "还没有照片。");
    for p in &photos {
        ptable.row(vec![
            Cell::link(format!("照片 #{}", p.id), format!("/admin/photos/{}", p.id)),
            Cell::text(p.caption.clone().unwrap_or_default()),
            Cell::text(p.credit.clone().unwrap_or_default()),
            Cell::text(if p.public == Some(true) {
                "公开"
            } else {
                "未公开（缺少同意）"
            }),
        ]);
    }
    blocks.push(Block::Table(ptable));
    if console.may(Action::Nominate) || console.may(Action::Review) {
        let nominations: Vec<Nomination> = console
            .api
            .get_all(&format!("/nominations?resident_id={id}"))
            .await?;
        blocks.push(Block::Heading("提名".into()));
        let mut ntable = Table::new("", &["荣誉", "年度", "状态"], "没有提名。");
        for n in nominations {
            ntable.row(vec![
                Cell::link(
                    n.honour_title.clone(),
                    format!("/admin/nominations/{}", n.id),
                ),
                Cell::text(n.year.to_string()),
                Cell::text(n.state_label.clone()),
            ]);
        }
        blocks.push(Block::Table(ntable));
    }
    let mut page = console.page(r.name.clone(), blocks);
    page.crumbs = vec![Link::new("/admin/residents", "居民")];
    super::html(page)
}

#[handler]
async fn edit_form(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let (r, etag): (Resident, String) = console.api.get_tagged(&format!("/residents/{id}")).await?;
    let form = filled_resident_form(&console, id, &r, &etag).await?;
    console.render(format!("修改资料：{}", r.name), vec![Block::Form(form)])
}

fn resident_values(r: &Resident) -> Vec<(String, String)> {
    vec![
        ("name".into(), r.name.clone()),
        ("community_id".into(), r.community_id.to_string()),
        ("citation".into(), r.citation.clone().unwrap_or_default()),
        ("phone".into(), r.phone.clone().unwrap_or_default()),
        ("id_number".into(), r.id_number.clone().unwrap_or_default()),
        (
            "birth_year".into(),
            r.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        ),
        ("address".into(), r.address.clone().unwrap_or_default()),
    ]
}

async fn filled_resident_form(
    console: &Console,
    id: i64,
    r: &Resident,
    etag: &str,
) -> Result<Form> {
    let values = super::form::FormData {
        pairs: resident_values(r),
        files: Vec::new(),
    };
    Ok(resident_form(
        &format!("/admin/residents/{id}/edit"),
        &console.csrf,
        community_options(console).await?,
    )
    .hidden("etag", etag)
    .refill(&values, &[]))
}

const RESIDENT_LABELS: [(&str, &str); 7] = [
    ("name", "姓名"),
    ("community_id", "所属社区"),
    ("citation", "事迹简介"),
    ("phone", "电话"),
    ("id_number", "身份证号码"),
    ("birth_year", "出生年份"),
    ("address", "住址"),
];

#[handler]
async fn update(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let action = format!("/admin/residents/{id}/edit");
    let body = resident_json(&console.form);
    let etag = console.form.get("etag").to_string();
    if console.form.opt("birth_year").is_some() && !body["birth_year"].is_i64() {
        let form = resident_form(&action, &console.csrf, community_options(&console).await?)
            .hidden("etag", etag)
            .refill(
                &console.form,
                &[("birth_year".into(), "请填写四位数字的年份".into())],
            );
        return console.render_status(
            "修改资料",
            vec![Block::Form(form)],
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    match console
        .api
        .send(Method::PUT, &format!("/residents/{id}"), &body, Some(&etag))
        .await
    {
        Ok(_) => redirect(&format!("/admin/residents/{id}")),
        Err(p)
            if p.status == StatusCode::PRECONDITION_FAILED
                || p.status == StatusCode::PRECONDITION_REQUIRED =>
        {
            // Someone else saved in between: show both versions; the form keeps what this user
            // typed and now carries the current version, so saving again overwrites knowingly.
            let (current, current_tag): (Resident, String) =
                console.api.get_tagged(&format!("/residents/{id}")).await?;
            let theirs: HashMap<String, String> = resident_values(&current).into_iter().collect();
            let rows = RESIDENT_LABELS
                .iter()
                .map(|(name, label)| {
                    (
                        label.to_string(),
                        console.form.get(name).to_string(),
                        theirs.get(*name).cloned().unwrap_or_default(),
                    )
                })
                .collect();
            let form = resident_form(&action, &console.csrf, community_options(&console).await?)
                .hidden("etag", current_tag)
                .refill(&console.form, &[]);
            console.render_status(
                format!("修改资料：{}", current.name),
                vec![
                    Block::Notice(
                        "warn",
                        "在您修改期间，别人已经改动并保存了这位居民的资料。请对照两个版本：下面的表单保留了您填写的内容，确认后再次保存将以您的版本为准。".into(),
                    ),
                    Block::Compare(Compare {
                        left_title: "您填写的".into(),
                        right_title: "当前已保存的".into(),
                        rows,
                    }),
                    Block::Form(form),
                ],
                StatusCode::CONFLICT,
            )
        }
        Err(p) if fixable(&p) => {
            let form = resident_form(&action, &console.csrf, community_options(&console).await?)
                .hidden("etag", etag)
                .refill(&console.form, &p.field_errors(resident_field));
            console.render_status("修改资料", vec![Block::Form(form)], p.status)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn record_consent(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageConsent)?;
    let f = &console.form;
    let body = json!({
        "scope": f.get("scope"),
        "text_version": f.get("text_version"),
        "signed_on": f.get("signed_on"),
        "evidence": f.opt("evidence"),
    });
    match console
        .api
        .send(
            Method::POST,
            &format!("/residents/{id}/consents"),
            &body,
            None,
        )
        .await
    {
        Ok(_) => redirect(&format!("/admin/residents/{id}")),
        Err(p) if fixable(&p) => {
            let form = consent_form(&console, id).refill(f, &p.field_errors(|_| None));
            let mut resp = resident_page(&console, id, Some(form)).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn withdraw_consent(
    console: Console,
    Path((id, consent_id)): Path<(i64, i64)>,
) -> Result<Response> {
    console.require(Action::ManageConsent)?;
    console
        .api
        .send(
            Method::POST,
            &format!("/residents/{id}/consents/{consent_id}/withdraw"),
            &json!({}),
            None,
        )
        .await?;
    redirect(&format!("/admin/residents/{id}"))
}

/// Erase a resident on their request (PIPL Art. 47); admins only, as the API decides.
#[handler]
async fn erase_resident(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::Erase)?;
    console
        .api
        .send(
            Method::POST,
            &format!("/residents/{id}/erasure"),
            &json!({}),
            None,
        )
        .await?;
    redirect(&format!("/admin/residents/{id}"))
}
