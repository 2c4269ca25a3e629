//! Residents, their consents and their service history; activities for many participants.

use std::collections::HashMap;

use poem::http::{Method, StatusCode};
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::client::Problem;
use super::dashboard::has_active;
use super::ui::{Block, Cell, Compare, Field, Form, Kind, Link, Table};
use super::{redirect, Console, Result};
use crate::api::communities::Community;
use crate::api::consents::Consent;
use crate::api::nominations::Nomination;
use crate::api::photos::Photo;
use crate::api::residents::Resident;
use crate::api::search::SearchPage;
use crate::domain::measure::format_number;
use crate::domain::policy::Action;
use crate::domain::service_record::{RecordKind, MAX_MEASURES};

/// The summary as the console reads it (the API type's measures have read-only parts).
#[derive(Deserialize)]
struct Summary {
    as_of: String,
    service_years: i64,
    unpaid_years: i64,
    records: u64,
    headlines: Vec<String>,
    volunteer_hours: f64,
    hours_by_year: Vec<YearHours>,
    star_level_label: Option<String>,
}

#[derive(Deserialize)]
struct YearHours {
    year: i32,
    hours: f64,
}

#[derive(Deserialize)]
struct Measure {
    value: f64,
    unit: String,
    qualifier: String,
    text: String,
}

/// A service record as the console reads it.
#[derive(Deserialize)]
struct ServiceRecord {
    id: i64,
    kind: String,
    title: String,
    organisation: Option<String>,
    start: String,
    end: Option<String>,
    unpaid: bool,
    measures: Vec<Measure>,
    evidence: Option<String>,
    recorded_by: String,
    verified_by: Option<String>,
    verified_on: Option<String>,
    #[serde(default)]
    confirmed_on: Option<String>,
}

#[derive(Deserialize)]
struct RecordPage {
    items: Vec<ServiceRecord>,
}

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
        .at(
            "/residents/:id/records/new",
            get(new_record_form).post(create_record),
        )
        .at(
            "/residents/:id/records/:record_id/edit",
            get(edit_record_form).post(update_record),
        )
        .at("/residents/:id/erasure", poem::post(erase_resident))
        .at(
            "/residents/:id/records/:record_id/verify",
            poem::post(verify_record),
        )
        .at(
            "/activities/new",
            get(new_activity_form).post(create_activity),
        )
}

/// A refused change the user can fix in the form: shown next to the fields, status kept.
pub fn fixable(p: &Problem) -> bool {
    matches!(
        p.status,
        StatusCode::BAD_REQUEST
            | StatusCode::CONFLICT
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
    )
}

/// Communities as select options, labelled with their path: 普陀区 › 长寿路街道 › 音乐广场.
pub async fn community_options(console: &Console) -> Result<Vec<(String, String)>> {
    let all: Vec<Community> = console.api.get_all("/communities").await?;
    let by_id: HashMap<i64, &Community> = all.iter().map(|c| (c.id, c)).collect();
    let mut options: Vec<(String, String)> = all
        .iter()
        .map(|c| {
            let mut names = vec![c.name.clone()];
            let mut parent = c.parent_id;
            while let Some(p) = parent.and_then(|id| by_id.get(&id)) {
                names.push(p.name.clone());
                parent = p.parent_id;
            }
            names.reverse();
            (c.id.to_string(), names.join(" › "))
        })
        .collect();
    options.sort_by(|a, b| a.1.cmp(&b.1));
    options.insert(0, (String::new(), "请选择".into()));
    Ok(options)
}

/// Every resident as `(id, name)` for pickers.
pub async fn resident_options(console: &Console) -> Result<Vec<(String, String)>> {
    let all: Vec<Resident> = console.api.get_all("/residents").await?;
    Ok(all
        .into_iter()
        .map(|r| (r.id.to_string(), r.name))
        .collect())
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

const SCOPES: [(&str, &str); 3] = [
    (
        "profile",
        "公开资料（姓名、事迹、服务记录上公开页面和搜索）",
    ),
    ("photo", "照片（含本人的照片可以公开）"),
    ("story", "报道（可在新闻报道中点名）"),
];

fn scope_label(scope: &str) -> &'static str {
    match scope {
        "profile" => "公开资料",
        "photo" => "照片",
        "story" => "报道",
        _ => "其他",
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
                .options(SCOPES, &[]),
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
    let public = has_active(&consents, "profile");
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

// --- Service records -------------------------------------------------------------------------

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
fn date_fields(prefix: &str, label: &str, required: bool) -> Vec<Field> {
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
fn volunteer_hours_text(summary: &Summary) -> String {
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

// --- Activities ------------------------------------------------------------------------------

async fn activity_form(console: &Console) -> Result<Form> {
    let people = resident_options(console).await?;
    Ok(
        Form::post("/admin/activities/new", &console.csrf, "登记活动")
            .group(
                "活动",
                vec![
                    Field::text("title", "活动名称").required(),
                    Field::text("place", "地点"),
                    Field::text("organiser", "组织方"),
                    Field::new("description", "说明", Kind::Textarea),
                    Field::new("unpaid", "无偿参与", Kind::Checkbox).value("on"),
                ],
            )
            .group("日期", date_fields("date", "日期", true))
            .group(
                "参与者（每人记一条服务记录）",
                vec![
                    Field::new("participant_ids", "参与的居民", Kind::Checkboxes)
                        .options(people, &[]),
                ],
            ),
    )
}

#[handler]
async fn new_activity_form(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let form = activity_form(&console).await?;
    console.render("登记一次活动", vec![Block::Form(form)])
}

#[handler]
async fn create_activity(console: Console) -> Result<Response> {
    console.require(Action::EditRegistry)?;
    let f = &console.form;
    let errors = match partial_date(f, "date") {
        Ok(date) => {
            let body = json!({
                "title": f.get("title"),
                "date": date.unwrap_or_default(),
                "place": f.opt("place"),
                "organiser": f.opt("organiser"),
                "description": f.opt("description"),
                "unpaid": f.checked("unpaid"),
                "participant_ids": f.all("participant_ids").iter().filter_map(|v| v.parse::<i64>().ok()).collect::<Vec<_>>(),
            });
            match console
                .api
                .send(Method::POST, "/activities", &body, None)
                .await
            {
                Ok(_) => return redirect("/admin/residents"),
                Err(p) if fixable(&p) => p.field_errors(|n| match n {
                    "date" => Some("date_year"),
                    _ => None,
                }),
                Err(p) => return Err(p.into()),
            }
        }
        Err(e) => vec![e],
    };
    let form = activity_form(&console).await?.refill(f, &errors);
    console.render_status(
        "登记一次活动",
        vec![Block::Form(form)],
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}
