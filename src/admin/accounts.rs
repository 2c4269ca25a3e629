//! Administration: users and roles, API tokens (shown once), local categories, the audit log.

use poem::http::{Method, StatusCode};
use poem::web::{Path, Query};
use poem::{get, handler, Response, Route};
use serde::Deserialize;
use serde_json::{json, Value};

use super::form::fixable;
use super::form::FormData;
use super::ui::{Block, Cell, Field, Form, Kind, Link, Table};
use super::{redirect, shanghai, Console, Result};
use crate::domain::policy::{Action, Role};
use crate::service::accounts::AuditEvent;
use crate::service::accounts::Token;
use crate::service::accounts::User;
use crate::service::workflow::Category;

pub fn routes(route: Route) -> Route {
    route
        .at("/users", get(users).post(create_user))
        .at("/users/:id", get(user_page).post(update_user))
        .at("/users/:id/password", poem::post(reset_password))
        .at("/users/:id/state", poem::post(set_user_state))
        .at("/tokens", get(tokens).post(issue_token))
        .at("/tokens/:id/revoke", poem::post(revoke_token))
        .at("/categories", get(categories).post(create_category))
        .at("/categories/:id", poem::post(update_category))
        .at("/audit", get(audit))
}

fn role_options() -> Vec<(String, String)> {
    Role::ALL
        .iter()
        .map(|r| (r.code().to_string(), r.label().to_string()))
        .collect()
}

fn role_labels(codes: &[String]) -> String {
    codes
        .iter()
        .filter_map(|c| c.parse::<Role>().ok())
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("、")
}

/// The choices of a grant's scope: the whole deployment, or a district's or a 街道's subtree.
async fn scope_options(console: &Console) -> Result<Vec<(String, String)>> {
    let mut options = vec![(String::new(), "全部社区".to_string())];
    for kind in ["district", "subdistrict"] {
        let level: Vec<crate::service::registry::Community> = console
            .api
            .get_all(&format!("/communities?kind={kind}"))
            .await?;
        options.extend(level.into_iter().map(|c| (c.id.to_string(), c.name)));
    }
    Ok(options)
}

fn scope_field(options: Vec<(String, String)>, current: Option<i64>) -> Field {
    let current = current.map(|c| c.to_string()).unwrap_or_default();
    Field::new("community_id", "管辖范围", Kind::Select)
        .options(options, &[current])
        .hint(
            "角色只对该区或街道及其下属社区的居民有效；“全部社区”只有管辖全部社区的管理员可以授予",
        )
}

/// The scope the form chose: empty for the whole deployment.
fn chosen_scope(f: &FormData) -> Value {
    f.get("community_id")
        .parse::<i64>()
        .map_or(Value::Null, Value::from)
}

fn new_user_form(csrf: &str, scopes: Vec<(String, String)>) -> Form {
    Form::post("/admin/users", csrf, "创建用户").group(
        "新用户",
        vec![
            Field::text("username", "用户名")
                .required()
                .hint("3–32 位小写字母、数字、- _ ."),
            Field::text("display_name", "姓名").required(),
            Field::new("roles", "角色", Kind::Checkboxes).options(role_options(), &[]),
            scope_field(scopes, None),
            Field::new("password", "初始密码", Kind::Password)
                .required()
                .hint("至少 10 个字符；请当面或电话告知本人，首次登录后自行修改"),
        ],
    )
}

async fn users_page(console: &Console, form: Option<Form>, status: StatusCode) -> Result<Response> {
    let list: Vec<User> = console.api.get_all("/users").await?;
    let mut table = Table::new("", &["用户名", "姓名", "角色", "状态"], "没有用户。");
    for u in &list {
        table.row(vec![
            Cell::link(u.username.clone(), format!("/admin/users/{}", u.id)),
            Cell::text(u.display_name.clone()),
            Cell::text(role_labels(&u.roles)),
            Cell::text(if u.disabled { "已停用" } else { "正常" }),
        ]);
    }
    console.render_status(
        "用户与角色",
        vec![
            Block::Table(table),
            Block::Form(match form {
                Some(form) => form,
                None => new_user_form(&console.csrf, scope_options(console).await?),
            }),
        ],
        status,
    )
}

#[handler]
async fn users(console: Console) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    users_page(&console, None, StatusCode::OK).await
}

#[handler]
async fn create_user(console: Console) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    let f = &console.form;
    let body = json!({
        "username": f.get("username"),
        "display_name": f.get("display_name"),
        "roles": f.all("roles"),
        "password": f.raw("password"),
        "community_id": chosen_scope(f),
    });
    match console.api.send(Method::POST, "/users", &body, None).await {
        Ok(reply) => redirect(&format!("/admin/users/{}", reply.body["id"])),
        Err(p) if fixable(&p) => {
            let form = new_user_form(&console.csrf, scope_options(&console).await?)
                .refill(f, &p.field_errors(|_| None));
            users_page(&console, Some(form), p.status).await
        }
        Err(p) => Err(p.into()),
    }
}

fn user_form(console: &Console, u: &User, etag: &str, scopes: Vec<(String, String)>) -> Form {
    Form::post(format!("/admin/users/{}", u.id), &console.csrf, "保存")
        .hidden("etag", etag)
        .group(
            "资料与角色",
            vec![
                Field::text("display_name", "姓名")
                    .required()
                    .value(u.display_name.clone()),
                Field::new("roles", "角色", Kind::Checkboxes).options(role_options(), &u.roles),
                scope_field(scopes, u.community_id),
            ],
        )
}

async fn one_user(
    console: &Console,
    id: i64,
    form: Option<Form>,
    notice: Option<(&'static str, String)>,
) -> Result<Response> {
    let (u, etag): (User, String) = console.api.get_tagged(&format!("/users/{id}")).await?;
    let mut blocks = Vec::new();
    if let Some((kind, text)) = notice {
        blocks.push(Block::Notice(kind, text));
    }
    blocks.push(Block::Facts(vec![
        ("用户名".into(), u.username.clone()),
        (
            "状态".into(),
            if u.disabled { "已停用" } else { "正常" }.into(),
        ),
        ("创建于".into(), shanghai(u.created_at)),
    ]));
    blocks.push(Block::Form(match form {
        Some(form) => form,
        None => user_form(console, &u, &etag, scope_options(console).await?),
    }));
    blocks.push(Block::Form(
        Form::post(
            format!("/admin/users/{id}/password"),
            &console.csrf,
            "重设密码",
        )
        .group(
            "重设密码（该用户的所有登录会话和令牌随之失效）",
            vec![Field::new("password", "新密码", Kind::Password)
                .required()
                .hint("至少 10 个字符")],
        ),
    ));
    // One's own account cannot be disabled (the API refuses it): no button for it.
    if u.disabled {
        blocks.push(Block::Buttons(vec![Form::button(
            format!("/admin/users/{id}/state"),
            &console.csrf,
            "恢复使用",
            "primary",
        )
        .hidden("to", "enable")]));
    } else if u.id != console.staff.user_id {
        blocks.push(Block::Buttons(vec![Form::button(
            format!("/admin/users/{id}/state"),
            &console.csrf,
            "停用此用户",
            "danger",
        )
        .hidden("to", "disable")]));
    }
    blocks.push(Block::Links(vec![Link::new(
        format!("/admin/audit?actor_user_id={id}"),
        "查看此用户的操作记录",
    )]));
    let mut page = console.page(format!("用户：{}", u.display_name), blocks);
    page.crumbs = vec![Link::new("/admin/users", "用户与角色")];
    super::html(page)
}

#[handler]
async fn user_page(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    one_user(&console, id, None, None).await
}

#[handler]
async fn update_user(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    let f = &console.form;
    let body = json!({
        "display_name": f.get("display_name"),
        "roles": f.all("roles"),
        "community_id": chosen_scope(f),
    });
    match console
        .api
        .send(
            Method::PUT,
            &format!("/users/{id}"),
            &body,
            Some(f.get("etag")),
        )
        .await
    {
        Ok(_) => redirect(&format!("/admin/users/{id}")),
        Err(p) if p.status == StatusCode::PRECONDITION_FAILED => {
            let mut resp = one_user(
                &console,
                id,
                None,
                Some((
                    "warn",
                    "在您修改期间，别人已经改动了这个用户，下面是最新的内容，请重新修改。".into(),
                )),
            )
            .await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) if fixable(&p) => {
            let (u, etag): (User, String) = console.api.get_tagged(&format!("/users/{id}")).await?;
            let scopes = scope_options(&console).await?;
            let form = user_form(&console, &u, &etag, scopes).refill(f, &p.field_errors(|_| None));
            let mut resp = one_user(&console, id, Some(form), None).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn reset_password(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    let body = json!({ "password": console.form.raw("password") });
    match console
        .api
        .send(Method::POST, &format!("/users/{id}/password"), &body, None)
        .await
    {
        Ok(_) => one_user(&console, id, None, Some(("ok", "密码已重设。".into()))).await,
        Err(p) if fixable(&p) => {
            let message = p
                .fields
                .first()
                .map_or(p.message.clone(), |(_, m)| m.clone());
            let mut resp = one_user(
                &console,
                id,
                None,
                Some(("error", format!("密码未重设：{message}"))),
            )
            .await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn set_user_state(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageUsers)?;
    let to = if console.form.get("to") == "enable" {
        "enable"
    } else {
        "disable"
    };
    match console
        .api
        .send(Method::POST, &format!("/users/{id}/{to}"), &json!({}), None)
        .await
    {
        Ok(_) => redirect(&format!("/admin/users/{id}")),
        Err(p) if fixable(&p) => {
            let mut resp = one_user(&console, id, None, Some(("error", p.message.clone()))).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

// --- Tokens ----------------------------------------------------------------------------------

fn token_form(csrf: &str) -> Form {
    Form::post("/admin/tokens", csrf, "生成令牌").group(
        "新令牌（供排版软件、脚本等调用接口）",
        vec![Field::text("label", "用途")
            .required()
            .hint("例如：晨报排版电脑")],
    )
}

async fn tokens_page(
    console: &Console,
    extra: Vec<Block>,
    form: Option<Form>,
    status: StatusCode,
) -> Result<Response> {
    let list: Vec<Token> = console.api.get("/tokens").await?;
    let mut table = Table::new("", &["用途", "创建于", "状态"], "您还没有令牌。");
    let mut revoke = Vec::new();
    for t in &list {
        table.row(vec![
            Cell::text(t.label.clone()),
            Cell::text(shanghai(t.created_at)),
            Cell::text(
                t.revoked_at
                    .map_or("有效".into(), |at| format!("已于 {} 撤销", shanghai(at))),
            ),
        ]);
        if t.revoked_at.is_none() {
            revoke.push(Form::button(
                format!("/admin/tokens/{}/revoke", t.id),
                &console.csrf,
                &format!("撤销“{}”", t.label),
                "danger",
            ));
        }
    }
    let mut blocks = extra;
    blocks.push(Block::Table(table));
    if !revoke.is_empty() {
        blocks.push(Block::Buttons(revoke));
    }
    blocks.push(Block::Form(
        form.unwrap_or_else(|| token_form(&console.csrf)),
    ));
    console.render_status("我的令牌", blocks, status)
}

#[handler]
async fn tokens(console: Console) -> Result<Response> {
    tokens_page(&console, Vec::new(), None, StatusCode::OK).await
}

#[handler]
async fn issue_token(console: Console) -> Result<Response> {
    let body = json!({ "label": console.form.get("label") });
    match console.api.send(Method::POST, "/tokens", &body, None).await {
        Ok(reply) => {
            let token = reply.body["token"].as_str().unwrap_or_default().to_string();
            tokens_page(
                &console,
                vec![
                    Block::Notice(
                        "ok",
                        "令牌已生成。它只显示这一次，请立即复制保存；遗失后只能撤销再生成。".into(),
                    ),
                    Block::Facts(vec![("令牌".into(), token)]),
                ],
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(p) if fixable(&p) => {
            let form = token_form(&console.csrf).refill(&console.form, &p.field_errors(|_| None));
            tokens_page(&console, Vec::new(), Some(form), p.status).await
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn revoke_token(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console
        .api
        .call(Method::DELETE, &format!("/tokens/{id}"), None, None)
        .await?;
    redirect("/admin/tokens")
}

// --- Categories ------------------------------------------------------------------------------

fn category_form(csrf: &str) -> Form {
    Form::post("/admin/categories", csrf, "添加类别").group(
        "新的本地类别",
        vec![
            Field::text("code", "代码")
                .required()
                .hint("小写字母、数字和 _，例如 neighbourly"),
            Field::text("name", "名称")
                .required()
                .hint("例如：邻里互助"),
        ],
    )
}

async fn categories_page(
    console: &Console,
    form: Option<Form>,
    status: StatusCode,
) -> Result<Response> {
    let list: Vec<Category> = console.api.get("/categories?all=true").await?;
    let mut blocks = vec![Block::Text(
        "国家级类别（道德模范、中国好人榜）不可修改；本地类别可以改名或停用。".into(),
    )];
    let mut table = Table::new("", &["代码", "名称", "来源", "状态"], "没有类别。");
    let mut edits = Vec::new();
    for c in &list {
        table.row(vec![
            Cell::text(c.code.clone()),
            Cell::text(c.name.clone()),
            Cell::text(if c.origin == "national" {
                "国家级"
            } else {
                "本地"
            }),
            Cell::text(if c.active { "使用中" } else { "已停用" }),
        ]);
        if c.origin == "local" {
            edits.push(
                Form::post(format!("/admin/categories/{}", c.id), &console.csrf, "保存")
                    .group(
                        &format!("本地类别 {}", c.code),
                        vec![
                            Field::text("name", "名称").value(c.name.clone()),
                            Field::new("active", "使用中", Kind::Checkbox).value(if c.active {
                                "on"
                            } else {
                                ""
                            }),
                        ],
                    )
                    .scoped(&format!("c{}", c.id)),
            );
        }
    }
    blocks.push(Block::Table(table));
    if !edits.is_empty() {
        blocks.push(Block::Buttons(edits));
    }
    blocks.push(Block::Form(
        form.unwrap_or_else(|| category_form(&console.csrf)),
    ));
    console.render_status("表彰类别", blocks, status)
}

#[handler]
async fn categories(console: Console) -> Result<Response> {
    console.require(Action::ManageCategories)?;
    categories_page(&console, None, StatusCode::OK).await
}

#[handler]
async fn create_category(console: Console) -> Result<Response> {
    console.require(Action::ManageCategories)?;
    let body = json!({ "code": console.form.get("code"), "name": console.form.get("name") });
    match console
        .api
        .send(Method::POST, "/categories", &body, None)
        .await
    {
        Ok(_) => redirect("/admin/categories"),
        Err(p) if fixable(&p) => {
            let form =
                category_form(&console.csrf).refill(&console.form, &p.field_errors(|_| None));
            categories_page(&console, Some(form), p.status).await
        }
        Err(p) => Err(p.into()),
    }
}

#[handler]
async fn update_category(console: Console, Path(id): Path<i64>) -> Result<Response> {
    console.require(Action::ManageCategories)?;
    let body =
        json!({ "name": console.form.get("name"), "active": console.form.checked("active") });
    match console
        .api
        .send(Method::PUT, &format!("/categories/{id}"), &body, None)
        .await
    {
        Ok(_) => redirect("/admin/categories"),
        Err(p) if fixable(&p) => {
            let mut resp = categories_page(&console, None, p.status).await?;
            resp.set_status(p.status);
            Ok(resp)
        }
        Err(p) => Err(p.into()),
    }
}

// --- Audit log -------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct AuditQuery {
    entity_kind: Option<String>,
    entity_id: Option<String>,
    actor_user_id: Option<String>,
    action: Option<String>,
    cursor: Option<String>,
}

#[handler]
async fn audit(console: Console, query: Query<AuditQuery>) -> Result<Response> {
    console.require(Action::ReadAudit)?;
    let values = FormData {
        pairs: [
            ("entity_kind", &query.entity_kind),
            ("entity_id", &query.entity_id),
            ("actor_user_id", &query.actor_user_id),
            ("action", &query.action),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.trim().to_string())))
        .collect(),
        files: Vec::new(),
    };
    let filter = Form::get("/admin/audit", "筛选")
        .group(
            "筛选",
            vec![
                Field::text("entity_kind", "对象类型")
                    .hint("例如 resident、nomination、consent、story"),
                Field::new("entity_id", "对象编号", Kind::Number),
                Field::new("actor_user_id", "操作人编号", Kind::Number),
                Field::text("action", "操作").hint("例如 resident.update、nomination.approved"),
            ],
        )
        .refill(&values, &[]);
    let mut params: Vec<(String, String)> = values
        .pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .cloned()
        .collect();
    params.push(("limit".into(), "100".into()));
    if let Some(c) = &query.cursor {
        params.push(("cursor".into(), c.clone()));
    }
    let path = format!(
        "/audit?{}",
        serde_urlencoded::to_string(&params).unwrap_or_default()
    );
    let mut blocks = vec![Block::Form(filter)];
    match console.api.call(Method::GET, &path, None, None).await {
        Ok(reply) => {
            let mut table = Table::new(
                "",
                &["时间", "操作人", "操作", "对象"],
                "没有符合条件的记录。",
            );
            for item in reply.body["items"].as_array().cloned().unwrap_or_default() {
                let Ok(e) =
                    <AuditEvent as poem_openapi::types::ParseFromJSON>::parse_from_json(Some(item))
                else {
                    continue;
                };
                table.row(vec![
                    Cell::text(shanghai(e.at)),
                    Cell::text(e.actor_name.clone()),
                    Cell::text(e.action.clone()),
                    Cell::text(format!("{} #{}", e.entity_kind, e.entity_id)),
                ]);
            }
            blocks.push(Block::Table(table));
            if let Some(next) = reply.body["next_cursor"].as_str() {
                let mut more = values.pairs.clone();
                more.push(("cursor".into(), next.to_string()));
                blocks.push(Block::Links(vec![Link::new(
                    format!(
                        "/admin/audit?{}",
                        serde_urlencoded::to_string(&more).unwrap_or_default()
                    ),
                    "下一页",
                )]));
            }
        }
        Err(p) if fixable(&p) => blocks.push(Block::Notice("error", p.message.clone())),
        Err(p) => return Err(p.into()),
    }
    console.render("审计日志", blocks)
}
