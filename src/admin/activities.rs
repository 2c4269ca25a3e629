//! Activities for many participants: one form, a service record for each participant.

use poem::http::{Method, StatusCode};
use poem::{get, handler, Response, Route};
use serde_json::json;

use super::form::{fixable, resident_options};
use super::records::{date_fields, partial_date};
use super::ui::{Block, Field, Form, Kind};
use super::{redirect, Console, Result};
use crate::domain::policy::Action;

pub fn routes(route: Route) -> Route {
    route.at(
        "/activities/new",
        get(new_activity_form).post(create_activity),
    )
}

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
