//! The editors' desk: stories (Markdown with a preview, residents named, featured flag,
//! publication) and newsletter issues (stories in order, 编者按, publication, the export pack).

use poem::http::{Method, StatusCode};
use poem::web::Path;
use poem::{get, handler, Response, Route};
use serde_json::{json, Value};

use super::client::Problem;
use super::form::FormData;
use super::form::{fixable, resident_options};
use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, shanghai, Console, Result};
use crate::domain::policy::Action;
use crate::service::issues::Issue;
use crate::service::stories::Story;

/// A story as the desk lists it (the list API keeps only the keys asked for).
#[derive(serde::Deserialize)]
struct StoryRow {
    id: i64,
    title: String,
    section: Option<String>,
    state: String,
    featured: bool,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    attention: Option<String>,
}

#[derive(serde::Deserialize)]
struct StoryRows {
    items: Vec<StoryRow>,
    next_cursor: Option<String>,
}

/// Every story, drafts included, newest first.
async fn all_stories(console: &Console) -> Result<Vec<StoryRow>> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let (page, _): (StoryRows, _) = console
            .api
            .get_view(&format!(
                "/stories?sort=newest&limit=200&fields=id,title,section,state,featured,published_at,attention{cursor}"
            ))
            .await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = format!("&cursor={next}"),
            None => return Ok(all),
        }
    }
}

pub fn routes(route: Route) -> Route {
    route
        .at("/stories", get(desk).post(create_story))
        .at("/stories/new", get(new_story))
        .at("/stories/preview", poem::post(preview_new))
        .at("/stories/:id", get(edit_story).post(update_story))
        .at("/stories/:id/preview", poem::post(preview_existing))
        .at("/stories/:id/publication", poem::post(publish_story))
        .at("/issues", poem::post(create_issue))
        .at("/issues/new", get(new_issue))
        .at("/issues/:id", get(edit_issue).post(update_issue))
        .at("/issues/:id/publication", poem::post(publish_issue))
}

fn state_label(state: &str) -> &'static str {
    if state == "published" {
        "已发布"
    } else {
        "草稿"
    }
}

#[handler]
async fn desk(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    let stories = all_stories(&console).await?;
    let issues: Vec<Issue> = console.api.get_all("/issues").await?;
    let mut st = Table::new(
        "",
        &["标题", "栏目", "状态", "推荐", "发布时间"],
        "还没有报道。",
    );
    for s in &stories {
        st.row(vec![
            Cell::link(s.title.clone(), format!("/admin/stories/{}", s.id)),
            Cell::text(s.section.clone().unwrap_or_default()),
            Cell::text(if s.attention.is_some() {
                "草稿 · 需处理"
            } else {
                state_label(&s.state)
            }),
            Cell::text(if s.featured { "★ 推荐" } else { "" }),
            Cell::text(s.published_at.map(shanghai).unwrap_or_default()),
        ]);
    }
    let mut it = Table::new(
        "",
        &["期", "日期", "主题", "状态", "篇数", "排版包"],
        "还没有期刊。",
    );
    for i in &issues {
        it.row(vec![
            Cell::link(i.name.clone(), format!("/admin/issues/{}", i.id)),
            Cell::text(i.date.to_string()),
            Cell::text(i.theme.clone().unwrap_or_default()),
            Cell::text(state_label(&i.state)),
            Cell::text(i.story_ids.len().to_string()),
            Cell::link("下载 zip", format!("/api/v1/issues/{}/pack", i.id)),
        ]);
    }
    console.render(
        "编辑部",
        vec![
            Block::Links(vec![
                Link::new("/admin/stories/new", "写一篇报道"),
                Link::new("/admin/issues/new", "新建一期"),
            ]),
            Block::Heading("报道".into()),
            Block::Table(st),
            Block::Heading("期刊".into()),
            Block::Table(it),
        ],
    )
}

async fn story_form(console: &Console, action: &str, preview: &str) -> Result<Form> {
    let people = resident_options(console).await?;
    Ok(Form::post(action, &console.csrf, "保存")
        .secondary("预览", preview)
        .group(
            "报道",
            vec![
                Field::text("title", "标题").required(),
                Field::text("subtitle", "副标题"),
                Field::text("section", "栏目").hint("例如：长寿先锋、小城大事"),
                Field::text("themes", "主题标签").hint("用逗号分隔，例如：有德之士，智慧社区"),
                Field::text("byline", "署名").hint("例如：记者 周晶"),
                Field::new("body", "正文（Markdown）", Kind::Textarea).required(),
                Field::new(
                    "featured",
                    "推荐（出现在推荐报道接口和订阅中）",
                    Kind::Checkbox,
                ),
                Field::new(
                    "recognition_story",
                    "表彰报道（所点名的居民需已获表彰或公示无异议）",
                    Kind::Checkbox,
                ),
            ],
        )
        .group(
            "报道中点名的居民（每人都需有报道同意，报道才会公开）",
            vec![Field::new("resident_ids", "点名的居民", Kind::Checkboxes).options(people, &[])],
        ))
}

fn story_json(f: &FormData) -> Value {
    json!({
        "title": f.get("title"),
        "subtitle": f.opt("subtitle"),
        "section": f.opt("section"),
        "themes": f.get("themes")
            .split([',', '，', '、'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>(),
        "byline": f.opt("byline"),
        "body": f.get("body"),
        "featured": f.checked("featured"),
        "recognition_story": f.checked("recognition_story"),
        "resident_ids": f.all("resident_ids").iter().filter_map(|v| v.parse::<i64>().ok()).collect::<Vec<_>>(),
    })
}

#[handler]
async fn new_story(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    let form = story_form(&console, "/admin/stories", "/admin/stories/preview").await?;
    console.render("写一篇报道", vec![Block::Form(form)])
}

/// The form again with the Markdown rendered above it; nothing is saved.
async fn preview(console: &Console, action: &str, preview_action: &str) -> Result<Response> {
    let f = &console.form;
    let mut form = story_form(console, action, preview_action)
        .await?
        .refill(f, &[]);
    if let Some(etag) = f.opt("etag") {
        form = form.hidden("etag", etag);
    }
    console.render(
        "预览（尚未保存）",
        vec![
            Block::Notice("info", "这是预览，还没有保存。确认后点击“保存”。".into()),
            Block::Heading(f.get("title").to_string()),
            Block::Html(crate::markdown::to_safe_html(f.get("body"))),
            Block::Form(form),
        ],
    )
}

#[handler]
async fn preview_new(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    preview(&console, "/admin/stories", "/admin/stories/preview").await
}

#[handler]
async fn preview_existing(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    preview(
        &console,
        &format!("/admin/stories/{id}"),
        &format!("/admin/stories/{id}/preview"),
    )
    .await
}

fn story_field(name: &str) -> Option<&'static str> {
    match name {
        "resident_ids" | "residents" => Some("resident_ids"),
        _ => None,
    }
}

#[handler]
async fn create_story(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    match console
        .api
        .send(Method::POST, "/stories", &story_json(&console.form), None)
        .await
    {
        Ok(reply) => redirect(&format!("/admin/stories/{}", reply.body["id"])),
        Err(p) if fixable(&p) => {
            let form = story_form(&console, "/admin/stories", "/admin/stories/preview")
                .await?
                .refill(&console.form, &p.field_errors(story_field));
            console.render_status("写一篇报道", vec![Block::Form(form)], p.status)
        }
        Err(p) => Err(p.into()),
    }
}

async fn story_page(
    console: &Console,
    id: i64,
    form: Option<Form>,
    notice: Option<String>,
) -> Result<Response> {
    let (s, etag): (Story, String) = console.api.get_tagged(&format!("/stories/{id}")).await?;
    let mut blocks = Vec::new();
    if let Some(n) = notice {
        blocks.push(Block::Notice("error", n));
    }
    if let Some(reason) = &s.attention {
        blocks.push(Block::Notice("error", format!("需处理：{reason}")));
    }
    blocks.push(Block::Facts(vec![
        ("状态".into(), state_label(&s.state).into()),
        ("推荐".into(), if s.featured { "是" } else { "否" }.into()),
        (
            "发布时间".into(),
            s.published_at.map(shanghai).unwrap_or_else(|| "—".into()),
        ),
        (
            "点名的居民".into(),
            s.residents
                .iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
                .join("、"),
        ),
    ]));
    let mut links = Vec::new();
    if s.state == "published" {
        links.push(Link::new(s.url.clone(), "查看公开页面"));
    }
    blocks.push(Block::Links(links));
    blocks.push(Block::Buttons(vec![if s.state == "published" {
        Form::button(
            format!("/admin/stories/{id}/publication"),
            &console.csrf,
            "撤回为草稿",
            "danger",
        )
        .hidden("published", "false")
    } else {
        Form::button(
            format!("/admin/stories/{id}/publication"),
            &console.csrf,
            "发布",
            "primary",
        )
        .hidden("published", "true")
    }]));
    blocks.push(Block::Heading("照片".into()));
    blocks.push(Block::Links(vec![Link::new(
        format!("/admin/photos/new?story={id}"),
        "为报道上传照片",
    )]));
    blocks.push(Block::Text(
        "报道自己的照片按上传顺序排列，第一张是题图；没有自己的照片时，使用所点名居民的公开照片。"
            .into(),
    ));
    let own: Vec<crate::service::photos::Photo> = console
        .api
        .get_all(&format!("/photos?owner_kind=story&owner_id={id}"))
        .await?;
    let mut pt = Table::new(
        "",
        &["照片", "说明", "摄影", "来源", "公开"],
        "这篇报道还没有照片。",
    );
    let from_residents = s.photos.iter().filter(|p| p.owner_kind != "story");
    for (p, source) in own
        .iter()
        .map(|p| (p, "报道自己的照片"))
        .chain(from_residents.map(|p| (p, "点名居民的公开照片")))
    {
        pt.row(vec![
            Cell::link(format!("照片 #{}", p.id), format!("/admin/photos/{}", p.id)),
            Cell::text(p.caption.clone().unwrap_or_default()),
            Cell::text(p.credit.clone().unwrap_or_default()),
            Cell::text(source),
            Cell::text(match p.public {
                Some(false) => "暂不公开",
                _ => "公开",
            }),
        ]);
    }
    blocks.push(Block::Table(pt));
    blocks.push(Block::Heading("正文预览".into()));
    blocks.push(Block::Html(s.body_html.clone()));
    blocks.push(Block::Heading("修改".into()));
    let form = match form {
        Some(f) => f,
        None => {
            let mut pairs = vec![
                ("title".to_string(), s.title.clone()),
                ("subtitle".into(), s.subtitle.clone().unwrap_or_default()),
                ("section".into(), s.section.clone().unwrap_or_default()),
                ("themes".into(), s.themes.join("，")),
                ("byline".into(), s.byline.clone().unwrap_or_default()),
                ("body".into(), s.body.clone()),
                (
                    "featured".into(),
                    if s.featured {
                        "on".into()
                    } else {
                        String::new()
                    },
                ),
                (
                    "recognition_story".into(),
                    if s.recognition_story {
                        "on".into()
                    } else {
                        String::new()
                    },
                ),
            ];
            pairs.extend(
                s.resident_ids
                    .iter()
                    .map(|r| ("resident_ids".to_string(), r.to_string())),
            );
            story_form(
                console,
                &format!("/admin/stories/{id}"),
                &format!("/admin/stories/{id}/preview"),
            )
            .await?
            .hidden("etag", etag)
            .refill(
                &FormData {
                    pairs,
                    files: Vec::new(),
                },
                &[],
            )
        }
    };
    blocks.push(Block::Form(form));
    let mut page = console.page(s.title.clone(), blocks);
    page.crumbs = vec![Link::new("/admin/stories", "编辑部")];
    super::html(page)
}

#[handler]
async fn edit_story(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    story_page(&console, id, None, None).await
}

#[handler]
async fn update_story(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    let f = &console.form;
    let etag = f.get("etag").to_string();
    match console
        .api
        .send(
            Method::PUT,
            &format!("/stories/{id}"),
            &story_json(f),
            Some(&etag),
        )
        .await
    {
        Ok(_) => redirect(&format!("/admin/stories/{id}")),
        Err(p) if fixable(&p) || p.status == StatusCode::PRECONDITION_FAILED => {
            let (errors, tag) = if p.status == StatusCode::PRECONDITION_FAILED {
                let (_, current): (Story, String) =
                    console.api.get_tagged(&format!("/stories/{id}")).await?;
                (
                    vec![(String::new(), "在您修改期间，别人已经保存了这篇报道。上方预览是当前已保存的版本，下面的表单保留了您的修改；再次保存将以您的版本为准。".to_string())],
                    current,
                )
            } else {
                (p.field_errors(story_field), etag)
            };
            let form = story_form(
                &console,
                &format!("/admin/stories/{id}"),
                &format!("/admin/stories/{id}/preview"),
            )
            .await?
            .hidden("etag", tag)
            .refill(f, &errors);
            let mut resp = story_page(&console, id, Some(form), None).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

/// Publish or take back a story or an issue (`kind` is the API's collection); the refusal's
/// message when the API refuses (e.g. a missing story consent).
async fn set_publication(console: &Console, kind: &str, id: i64) -> Result<Result<(), Problem>> {
    let published = console.form.get("published") == "true";
    match console
        .api
        .send(
            Method::PUT,
            &format!("/{kind}/{id}/publication"),
            &json!({ "published": published }),
            None,
        )
        .await
    {
        Ok(_) => Ok(Ok(())),
        Err(p) if fixable(&p) => Ok(Err(p)),
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn publish_story(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    match set_publication(&console, "stories", id).await? {
        Ok(()) => redirect(&format!("/admin/stories/{id}")),
        Err(p) => {
            let mut resp = story_page(&console, id, None, Some(p.message.clone())).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
    }
}

// --- Issues ----------------------------------------------------------------------------------

async fn issue_form(console: &Console, action: &str) -> Result<Form> {
    let stories = all_stories(console).await?;
    let order: Vec<Field> = stories
        .iter()
        .map(|s| {
            Field::new(
                &format!("order_{}", s.id),
                &format!("《{}》的顺序", s.title),
                Kind::Number,
            )
            .hint(state_label(&s.state))
        })
        .collect();
    Ok(Form::post(action, &console.csrf, "保存")
        .group(
            "期刊",
            vec![
                Field::text("name", "名称")
                    .required()
                    .hint("例如：长寿社区晨报 · 小城大事 2019年9月"),
                Field::new("date", "日期", Kind::Date).required(),
                Field::text("theme", "主题"),
                Field::new("editors_note", "编者按（Markdown）", Kind::Textarea),
            ],
        )
        .group("收录的报道：填写 1、2、3… 表示顺序，留空表示不收录", order))
}

fn issue_json(f: &FormData) -> std::result::Result<Value, Vec<(String, String)>> {
    let mut chosen = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in &f.pairs {
        let Some(id) = name
            .strip_prefix("order_")
            .and_then(|i| i.parse::<i64>().ok())
        else {
            continue;
        };
        if value.trim().is_empty() {
            continue;
        }
        match value.trim().parse::<f64>() {
            Ok(n) => chosen.push((n, id)),
            Err(_) => errors.push((name.clone(), "顺序应为数字".to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    chosen.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(json!({
        "name": f.get("name"),
        "date": f.get("date"),
        "theme": f.opt("theme"),
        "editors_note": f.opt("editors_note"),
        "story_ids": chosen.into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
    }))
}

fn issue_field(name: &str) -> Option<&'static str> {
    match name {
        "story_ids" => Some(""),
        _ => None,
    }
}

#[handler]
async fn new_issue(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    let form = issue_form(&console, "/admin/issues").await?;
    console.render("新建一期", vec![Block::Form(form)])
}

#[handler]
async fn create_issue(console: Console) -> Result<Response> {
    console.require(Action::EditStories)?;
    let f = &console.form;
    let result = match issue_json(f) {
        Ok(body) => console
            .api
            .send(Method::POST, "/issues", &body, None)
            .await
            .map_err(|p| {
                if fixable(&p) {
                    Ok(p.field_errors(issue_field))
                } else {
                    Err(p)
                }
            }),
        Err(e) => Err(Ok(e)),
    };
    match result {
        Ok(reply) => redirect(&format!("/admin/issues/{}", reply.body["id"])),
        Err(Ok(errors)) => {
            let form = issue_form(&console, "/admin/issues")
                .await?
                .refill(f, &errors);
            console.render_status(
                "新建一期",
                vec![Block::Form(form)],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(Err(p)) => Err(p.into()),
    }
}

async fn issue_page(
    console: &Console,
    id: i64,
    form: Option<Form>,
    notice: Option<String>,
) -> Result<Response> {
    let (i, etag): (Issue, String) = console.api.get_tagged(&format!("/issues/{id}")).await?;
    let mut blocks = Vec::new();
    if let Some(n) = notice {
        blocks.push(Block::Notice("error", n));
    }
    blocks.push(Block::Facts(vec![
        ("状态".into(), state_label(&i.state).into()),
        ("日期".into(), i.date.to_string()),
        ("篇数".into(), i.story_ids.len().to_string()),
    ]));
    let mut links = vec![Link::new(
        format!("/api/v1/issues/{id}/pack"),
        "下载排版包（zip：Markdown、HTML、打印尺寸照片、图片说明）",
    )];
    if i.state == "published" {
        links.push(Link::new(i.url.clone(), "查看公开页面"));
    }
    blocks.push(Block::Links(links));
    blocks.push(Block::Buttons(vec![if i.state == "published" {
        Form::button(
            format!("/admin/issues/{id}/publication"),
            &console.csrf,
            "撤回为草稿",
            "danger",
        )
        .hidden("published", "false")
    } else {
        Form::button(
            format!("/admin/issues/{id}/publication"),
            &console.csrf,
            "发布",
            "primary",
        )
        .hidden("published", "true")
    }]));
    let form = match form {
        Some(f) => f,
        None => {
            let mut pairs = vec![
                ("name".to_string(), i.name.clone()),
                ("date".into(), i.date.to_string()),
                ("theme".into(), i.theme.clone().unwrap_or_default()),
                (
                    "editors_note".into(),
                    i.editors_note.clone().unwrap_or_default(),
                ),
            ];
            for (n, sid) in i.story_ids.iter().enumerate() {
                pairs.push((format!("order_{sid}"), (n + 1).to_string()));
            }
            issue_form(console, &format!("/admin/issues/{id}"))
                .await?
                .hidden("etag", etag)
                .refill(
                    &FormData {
                        pairs,
                        files: Vec::new(),
                    },
                    &[],
                )
        }
    };
    blocks.push(Block::Heading("编者按预览".into()));
    blocks.push(Block::Html(i.editors_note_html.clone()));
    blocks.push(Block::Heading("修改".into()));
    blocks.push(Block::Form(form));
    let mut page = console.page(i.name.clone(), blocks);
    page.crumbs = vec![Link::new("/admin/stories", "编辑部")];
    super::html(page)
}

#[handler]
async fn edit_issue(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    issue_page(&console, id, None, None).await
}

#[handler]
async fn update_issue(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    let f = &console.form;
    let mut etag = f.get("etag").to_string();
    let result = match issue_json(f) {
        Ok(body) => match console
            .api
            .send(Method::PUT, &format!("/issues/{id}"), &body, Some(&etag))
            .await
        {
            Ok(reply) => Ok(reply),
            Err(p) if p.status == StatusCode::PRECONDITION_FAILED => {
                let (_, current): (Issue, String) =
                    console.api.get_tagged(&format!("/issues/{id}")).await?;
                etag = current;
                Err(Ok(vec![(
                    String::new(),
                    "在您修改期间，别人已经保存了这一期。下面保留了您的修改，再次保存将以您的版本为准。".to_string(),
                )]))
            }
            Err(p) if fixable(&p) => Err(Ok(p.field_errors(issue_field))),
            Err(p) => Err(Err(p)),
        },
        Err(e) => Err(Ok(e)),
    };
    match result {
        Ok(_) => redirect(&format!("/admin/issues/{id}")),
        Err(Ok(errors)) => {
            let form = issue_form(&console, &format!("/admin/issues/{id}"))
                .await?
                .hidden("etag", etag)
                .refill(f, &errors);
            let mut resp = issue_page(&console, id, Some(form), None).await?;
            resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
            Ok(resp)
        }
        Err(Err(p)) => Err(p.into()),
    }
}

#[handler]
async fn publish_issue(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::EditStories)?;
    match set_publication(&console, "issues", id).await? {
        Ok(()) => redirect(&format!("/admin/issues/{id}")),
        Err(p) => {
            let mut resp = issue_page(&console, id, None, Some(p.message.clone())).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
    }
}
