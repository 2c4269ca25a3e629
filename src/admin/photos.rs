//! Photo upload (with the residents shown), preview, and captions; consent problems shown before
//! anything is published.

use poem::http::{Method, StatusCode};
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::json;

use super::dashboard::has_active;
use super::form::{fixable, resident_options};
use super::form::{multipart_body, FormData};
use super::records::partial_date;
use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, Console, ConsoleError, Result};
use crate::domain::policy::Action;
use crate::service::photos::Photo;
use crate::service::registry::Consent;
use crate::service::registry::Resident;
use crate::service::stories::Story;

pub fn routes(route: Route) -> Route {
    route
        .at("/photos", get(list).post(upload))
        .at("/photos/new", get(new_form))
        .at("/photos/:id", get(show).post(update))
}

/// `GET /admin/photos`: every photo, those not public (a consent missing) first.
#[handler]
async fn list(console: Console) -> Result<Response> {
    console.require(Action::ReadPrivate)?;
    let mut photos: Vec<Photo> = console.api.get_all("/photos").await?;
    photos.sort_by_key(|p| (p.public == Some(true), std::cmp::Reverse(p.id)));
    let mut table = Table::new("", &["照片", "说明", "属于", "公开"], "还没有照片。");
    for p in &photos {
        let owner = match p.owner_kind.as_str() {
            "resident" => Cell::link("居民", format!("/admin/residents/{}", p.owner_id)),
            "story" => Cell::link("报道", format!("/admin/stories/{}", p.owner_id)),
            other => Cell::text(format!("{other} #{}", p.owner_id)),
        };
        table.row(vec![
            Cell::link(format!("照片 #{}", p.id), format!("/admin/photos/{}", p.id)),
            Cell::text(p.caption.clone().unwrap_or_default()),
            owner,
            Cell::text(match (p.public == Some(true), p.owner_kind.as_str()) {
                (true, _) => "公开",
                (false, "story") => "暂不公开（报道未发布，或缺少照片同意）",
                (false, _) => "暂不公开（缺少同意）",
            }),
        ]);
    }
    console.render("照片", vec![Block::Table(table)])
}

fn date_inputs() -> Vec<Field> {
    vec![
        Field::new("taken_year", "拍摄：年", Kind::Number).hint("不知道可以不填"),
        Field::new("taken_month", "拍摄：月", Kind::Number),
        Field::new("taken_day", "拍摄：日", Kind::Number),
    ]
}

fn text_fields() -> Vec<Field> {
    vec![
        Field::text("caption", "图片说明").hint("例如：孙建伟（右）向参访团介绍智慧社区平台"),
        Field::text("credit", "摄影").hint("例如：记者 周晶"),
        Field::text("alt", "替代文字").hint("为看不见图片的读者描述画面内容"),
    ]
}

/// Who may manage photos of this owner kind: editors a story's, registry staff the rest.
fn manage_action(owner_kind: &str) -> Action {
    if owner_kind == "story" {
        Action::EditStories
    } else {
        Action::EditRegistry
    }
}

/// The upload form for a photo of `owner_kind` #`owner`, with `shown` ticked as the residents
/// in it.
async fn upload_form(
    console: &Console,
    owner_kind: &str,
    owner: i64,
    shown: &[String],
) -> Result<Form> {
    let people = resident_options(console).await?;
    Ok(Form::post("/admin/photos", &console.csrf, "上传")
        .multipart()
        .hidden("owner_kind", owner_kind)
        .hidden("owner_id", owner.to_string())
        .group(
            "照片",
            vec![Field::new("file", "照片文件", Kind::File)
                .required()
                .hint("JPEG、PNG 或 WebP；上传后自动去除位置等元数据，生成三种尺寸")],
        )
        .group("说明", text_fields())
        .group("拍摄日期", date_inputs())
        .group(
            "照片中的居民（每人都需有照片同意，照片才会公开）",
            vec![Field::new("residents", "照片中的居民", Kind::Checkboxes).options(people, shown)],
        ))
}

#[derive(Deserialize)]
pub struct NewQuery {
    resident: Option<i64>,
    story: Option<i64>,
}

/// `GET /admin/photos/new?resident=N` or `?story=N`.
#[handler]
async fn new_form(console: Console, query: Query<NewQuery>) -> Result<Response> {
    let (form, title, crumb) = match (query.resident, query.story) {
        (Some(id), None) => {
            console.require(Action::EditRegistry)?;
            let r: Resident = console.api.get(&format!("/residents/{id}")).await?;
            (
                upload_form(&console, "resident", r.id, &[r.id.to_string()]).await?,
                format!("上传照片：{}", r.name),
                Link::new(format!("/admin/residents/{}", r.id), r.name),
            )
        }
        (None, Some(id)) => {
            console.require(Action::EditStories)?;
            let s: Story = console.api.get(&format!("/stories/{id}")).await?;
            let named: Vec<String> = s.resident_ids.iter().map(|r| r.to_string()).collect();
            (
                upload_form(&console, "story", s.id, &named).await?,
                format!("为报道配图：{}", s.title),
                Link::new(format!("/admin/stories/{}", s.id), s.title),
            )
        }
        _ => return Err(ConsoleError::NotFound),
    };
    let mut page = console.page(title, vec![Block::Form(form)]);
    page.crumbs = vec![crumb];
    super::html(page)
}

/// `multipart/form-data` for the API's upload.
fn multipart(form: &FormData, taken_on: Option<String>) -> (String, Vec<u8>) {
    let mut texts: Vec<(&str, String)> = ["owner_kind", "owner_id", "caption", "credit", "alt"]
        .into_iter()
        .filter_map(|name| form.opt(name).map(|v| (name, v)))
        .collect();
    texts.extend(taken_on.map(|t| ("taken_on", t)));
    texts.extend(
        form.all("residents")
            .into_iter()
            .map(|id| ("residents", id.to_string())),
    );
    multipart_body(&texts, form.file("file"))
}

#[handler]
async fn upload(console: Console) -> Result<Response> {
    let f = &console.form;
    let owner_kind = if f.get("owner_kind") == "story" {
        "story"
    } else {
        "resident"
    };
    console.require(manage_action(owner_kind))?;
    let owner: i64 = f.get("owner_id").parse().unwrap_or(0);
    // The API's own status when it refused (409 duplicate, 413, 415, 422); 422 for our checks.
    let mut status = StatusCode::UNPROCESSABLE_ENTITY;
    let errors = match partial_date(f, "taken") {
        Err(e) => vec![e],
        Ok(_) if f.file("file").is_none() => vec![("file".into(), "请选择要上传的照片文件".into())],
        Ok(taken_on) => {
            let (content_type, body) = multipart(f, taken_on);
            match console
                .api
                .call(Method::POST, "/photos", Some((content_type, body)), None)
                .await
            {
                Ok(reply) => return redirect(&format!("/admin/photos/{}", reply.body["id"])),
                Err(p) if fixable(&p) => {
                    status = p.status;
                    let mut errors = p.field_errors(|n| match n {
                        "taken_on" => Some("taken_year"),
                        "file" | "" => Some("file"),
                        _ => None,
                    });
                    for e in &mut errors {
                        if e.0.is_empty() {
                            e.0 = "file".into();
                        }
                    }
                    errors
                }
                Err(p) => return Err(p.into()),
            }
        }
    };
    let mut form = upload_form(&console, owner_kind, owner, &[])
        .await?
        .refill(f, &errors);
    form.error = Some(match form.error.take() {
        Some(e) => format!("{e}（请重新选择照片文件）"),
        None => "照片未上传，请改正后重新选择照片文件再提交。".into(),
    });
    console.render_status("上传照片", vec![Block::Form(form)], status)
}

fn edit_form(console: &Console, p: &Photo, etag: &str) -> Form {
    let parts: Vec<String> = p
        .taken_on
        .as_deref()
        .map(|d| {
            d.split('-')
                .map(|x| x.trim_start_matches('0').to_string())
                .collect()
        })
        .unwrap_or_default();
    let values = FormData {
        pairs: vec![
            ("caption".into(), p.caption.clone().unwrap_or_default()),
            ("credit".into(), p.credit.clone().unwrap_or_default()),
            ("alt".into(), p.alt.clone().unwrap_or_default()),
            (
                "taken_year".into(),
                parts.first().cloned().unwrap_or_default(),
            ),
            (
                "taken_month".into(),
                parts.get(1).cloned().unwrap_or_default(),
            ),
            (
                "taken_day".into(),
                parts.get(2).cloned().unwrap_or_default(),
            ),
        ],
        files: Vec::new(),
    };
    Form::post(format!("/admin/photos/{}", p.id), &console.csrf, "保存说明")
        .hidden("etag", etag)
        .group("说明", text_fields())
        .group("拍摄日期", date_inputs())
        .refill(&values, &[])
}

async fn photo_page(console: &Console, id: i64, form: Option<Form>) -> Result<Response> {
    let (p, etag): (Photo, String) = console.api.get_tagged(&format!("/photos/{id}")).await?;
    let mut blocks = vec![Block::Image {
        src: p.derivatives.page.url.clone(),
        alt: p.alt.clone().unwrap_or_else(|| "（未填写替代文字）".into()),
    }];
    let mut table = Table::new(
        "照片中的居民",
        &["居民", "照片同意"],
        "没有标注照片中的居民。",
    );
    let mut missing = Vec::new();
    // Consents are private: staff who read private data see each one; editors see the outcome.
    let consents_readable = console.may(Action::ReadPrivate);
    for rid in &p.resident_ids {
        let Ok(r) = console
            .api
            .get::<Resident>(&format!("/residents/{rid}"))
            .await
        else {
            table.row(vec![
                Cell::text(format!("居民 #{rid}（未公开）")),
                Cell::text("—"),
            ]);
            continue;
        };
        if !consents_readable {
            table.row(vec![Cell::text(r.name.clone()), Cell::text("—")]);
            continue;
        }
        let consents: Vec<Consent> = console
            .api
            .get(&format!("/residents/{rid}/consents"))
            .await?;
        let ok = has_active(&consents, crate::domain::consent::ConsentScope::Photo);
        if !ok {
            missing.push(r.name.clone());
        }
        table.row(vec![
            Cell::link(r.name.clone(), format!("/admin/residents/{rid}")),
            Cell::text(if ok { "有效" } else { "缺少" }),
        ]);
    }
    blocks.insert(
        0,
        if p.public == Some(true) {
            Block::Notice("ok", "这张照片现在公开可见。".into())
        } else if !missing.is_empty() {
            Block::Notice(
                "warn",
                format!(
                    "这张照片暂不公开：{} 还没有照片同意。在其居民页面记录同意后即会公开。",
                    missing.join("、")
                ),
            )
        } else if p.owner_kind == "story" {
            Block::Notice(
                "warn",
                "这张照片暂不公开：报道尚未发布，或照片中有人还没有照片同意。".into(),
            )
        } else {
            Block::Notice(
                "warn",
                "这张照片暂不公开（照片所属的居民或活动尚未公开）。".into(),
            )
        },
    );
    blocks.push(Block::Facts(vec![
        ("尺寸".into(), format!("{} × {} 像素", p.width, p.height)),
        ("上传人".into(), p.uploaded_by.clone().unwrap_or_default()),
        ("打印尺寸文件".into(), p.derivatives.print.url.clone()),
    ]));
    blocks.push(Block::Table(table));
    if console.may(manage_action(&p.owner_kind)) {
        blocks.push(Block::Form(
            form.unwrap_or_else(|| edit_form(console, &p, &etag)),
        ));
    }
    let mut page = console.page(format!("照片 #{id}"), blocks);
    page.crumbs = match p.owner_kind.as_str() {
        "resident" => vec![Link::new(
            format!("/admin/residents/{}", p.owner_id),
            "返回居民",
        )],
        "story" => vec![Link::new(
            format!("/admin/stories/{}", p.owner_id),
            "返回报道",
        )],
        _ => Vec::new(),
    };
    super::html(page)
}

#[handler]
async fn show(console: Console, Path(id): Path<i64>) -> Result<Response> {
    if !console.may(Action::ReadPrivate) {
        // Editors reach the photos of stories (the API shows them nothing else unpublished).
        console.require(Action::EditStories)?;
    }
    photo_page(&console, id, None).await
}

#[handler]
async fn update(console: Console, Path(id): Path<i64>) -> Result<Response> {
    // The API decides by the photo's owner: registry staff, or editors for a story's photos.
    if !console.may(Action::EditRegistry) {
        console.require(Action::EditStories)?;
    }
    let f = &console.form;
    let mut etag = f.get("etag").to_string();
    let errors = match partial_date(f, "taken") {
        Err(e) => vec![e],
        Ok(taken_on) => {
            let body = json!({
                "caption": f.opt("caption"),
                "credit": f.opt("credit"),
                "alt": f.opt("alt"),
                "taken_on": taken_on,
            });
            match console
                .api
                .send(Method::PUT, &format!("/photos/{id}"), &body, Some(&etag))
                .await
            {
                Ok(_) => return redirect(&format!("/admin/photos/{id}")),
                Err(p) if p.status == StatusCode::PRECONDITION_FAILED => {
                    let (_, current): (Photo, String) =
                        console.api.get_tagged(&format!("/photos/{id}")).await?;
                    etag = current;
                    vec![(
                        String::new(),
                        "在您修改期间，别人已经改动了这张照片的说明。下面保留了您填写的内容，再次保存将以您的版本为准。".into(),
                    )]
                }
                Err(p) if fixable(&p) => p.field_errors(|n| match n {
                    "taken_on" => Some("taken_year"),
                    _ => None,
                }),
                Err(p) => return Err(p.into()),
            }
        }
    };
    let form = Form::post(format!("/admin/photos/{id}"), &console.csrf, "保存说明")
        .hidden("etag", etag)
        .group("说明", text_fields())
        .group("拍摄日期", date_inputs())
        .refill(f, &errors);
    let mut resp = photo_page(&console, id, Some(form)).await?;
    resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    Ok(resp)
}
