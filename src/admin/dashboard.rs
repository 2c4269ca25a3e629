//! `/admin`: what needs doing today, each item a link to the list behind it.

use chrono::Duration;

use crate::domain::consent::ConsentScope;
use crate::domain::nomination::{NominationState, ObjectionState};
use poem::{handler, Response};

use super::ui::{Block, Cell, Link, Table};
use super::{Console, Result};
use crate::domain::policy::Action;
use crate::service::notices::{Notice, Objection};
use crate::service::photos::Photo;
use crate::service::registry::Consent;
use crate::service::workflow::Nomination;
use crate::store::outbox;

/// Notices closing within this many days are flagged.
const CLOSING_SOON_DAYS: i64 = 3;

pub fn has_active(consents: &[Consent], scope: ConsentScope) -> bool {
    consents
        .iter()
        .any(|c| c.scope == scope && c.withdrawn_on.is_none())
}

#[handler]
pub async fn dashboard(console: Console) -> Result<Response> {
    let mut blocks = Vec::new();
    let workflow = console.may(Action::Nominate) || console.may(Action::Review);
    let mut counts: Vec<(String, usize, String)> = Vec::new();
    if workflow {
        let nominations: Vec<Nomination> = console.api.get_all("/nominations").await?;
        let waiting = nominations
            .iter()
            .filter(|n| {
                matches!(
                    n.state,
                    NominationState::Submitted | NominationState::InReview
                )
            })
            .count();
        counts.push((
            "等待评审的提名".into(),
            waiting,
            "/admin/nominations?state=review".into(),
        ));
        let drafts = nominations
            .iter()
            .filter(|n| {
                n.state == NominationState::Draft && n.nominator_id == console.staff.user_id
            })
            .count();
        if console.may(Action::Nominate) {
            counts.push((
                "我的提名草稿".into(),
                drafts,
                "/admin/nominations?state=draft".into(),
            ));
        }
        // Consent that will be needed: a nomination on its way to a 公示 whose resident has no
        // active profile consent cannot open it.
        if console.may(Action::ReadPrivate) {
            let mut table = Table::new(
                "",
                &["居民", "提名", "状态", "缺少的同意"],
                "没有需要补录同意的提名。",
            );
            for n in nominations.iter().filter(|n| {
                use NominationState::*;
                matches!(n.state, Submitted | InReview | Draft)
            }) {
                let consents: Vec<Consent> = console
                    .api
                    .get(&format!("/residents/{}/consents", n.resident_id))
                    .await?;
                if !has_active(&consents, ConsentScope::Profile) {
                    table.row(vec![
                        Cell::link(
                            n.resident_name.clone(),
                            format!("/admin/residents/{}", n.resident_id),
                        ),
                        Cell::link(
                            n.honour_title.clone(),
                            format!("/admin/nominations/{}", n.id),
                        ),
                        Cell::text(n.state_label.clone()),
                        Cell::text("公开资料同意（开启公示前需要）"),
                    ]);
                }
            }
            counts.push((
                "即将需要的同意".into(),
                table.rows.len(),
                "/admin/nominations?state=review".into(),
            ));
            blocks.push(Block::Heading("即将需要的同意".into()));
            blocks.push(Block::Table(table));
        }
    }
    if console.may(Action::EditRegistry) {
        // Photos waiting for someone's photo consent: uploaded, not public.
        let photos: Vec<Photo> = console.api.get_all("/photos").await?;
        let mut hidden = Table::new("", &["照片", "说明"], "所有照片都已公开。");
        // A story's photos wait for the story's publication, which is the editors' business.
        for p in photos
            .iter()
            .filter(|p| p.public == Some(false) && p.owner_kind != "story")
        {
            hidden.row(vec![
                Cell::link(format!("照片 #{}", p.id), format!("/admin/photos/{}", p.id)),
                Cell::text(p.caption.clone().unwrap_or_default()),
            ]);
        }
        counts.push((
            "暂不公开的照片（缺少同意）".into(),
            hidden.rows.len(),
            "/admin/photos".into(),
        ));
        blocks.push(Block::Heading("暂不公开的照片".into()));
        blocks.push(Block::Table(hidden));
    }
    if console.may(Action::Review) {
        let notices: Vec<Notice> = console.api.get_all("/notices?all=true").await?;
        let now = console.state.clock.now();
        let mut closing = Table::new(
            "",
            &["居民", "荣誉", "截止", "剩余天数"],
            "没有即将结束的公示。",
        );
        let mut objections = Table::new(
            "",
            &["回执号", "公示", "状态", "提交时间"],
            "没有待处理的异议。",
        );
        for n in notices.iter().filter(|n| n.open) {
            if n.closes_at - now <= Duration::days(CLOSING_SOON_DAYS) {
                closing.row(vec![
                    Cell::text(n.resident_name.clone()),
                    Cell::link(
                        n.honour_title.clone(),
                        format!("/admin/nominations/{}", n.nomination_id),
                    ),
                    Cell::text(super::shanghai(n.closes_at)),
                    Cell::text(n.days_left.to_string()),
                ]);
            }
        }
        for n in &notices {
            let list: Vec<Objection> = console
                .api
                .get(&format!("/notices/{}/objections", n.id))
                .await?;
            for o in list.iter().filter(|o| {
                matches!(
                    o.state,
                    ObjectionState::Open | ObjectionState::Investigating
                )
            }) {
                objections.row(vec![
                    Cell::link(
                        o.receipt_code.clone(),
                        format!("/admin/nominations/{}#objections", n.nomination_id),
                    ),
                    Cell::text(format!("{} · {}", n.resident_name, n.honour_title)),
                    Cell::text(o.state.label()),
                    Cell::text(super::shanghai(o.created_at)),
                ]);
            }
        }
        counts.insert(
            1,
            (
                format!("{CLOSING_SOON_DAYS} 天内结束的公示"),
                closing.rows.len(),
                "/admin/nominations?state=public_notice".into(),
            ),
        );
        counts.insert(
            2,
            (
                "待处理的异议".into(),
                objections.rows.len(),
                "/admin/nominations?state=public_notice".into(),
            ),
        );
        blocks.insert(0, Block::Table(objections));
        blocks.insert(0, Block::Heading("待处理的异议".into()));
        blocks.insert(0, Block::Table(closing));
        blocks.insert(0, Block::Heading("即将结束的公示".into()));
    }
    let backlog = outbox::backlog(&console.state.db)
        .await
        .map_err(|e| super::client::Problem::internal(&e.to_string()))?;
    counts.push((
        "搜索同步积压".into(),
        backlog.pending as usize,
        "/readyz".into(),
    ));
    let mut summary = Table::new("待办", &["事项", "数量"], "");
    for (label, n, href) in counts {
        summary.row(vec![Cell::link(label, href), Cell::text(n.to_string())]);
    }
    blocks.insert(0, Block::Table(summary));
    let mut quick = Vec::new();
    if console.may(Action::EditRegistry) {
        quick.push(Link::new("/admin/residents/new", "登记新居民"));
        quick.push(Link::new("/admin/activities/new", "登记一次活动"));
    }
    if console.may(Action::Nominate) {
        quick.push(Link::new("/admin/nominations/new", "新建提名"));
    }
    if console.may(Action::Review) {
        quick.push(Link::new("/admin/nominations?state=review", "评审队列"));
    }
    if console.may(Action::EditStories) {
        quick.push(Link::new("/admin/stories/new", "写一篇报道"));
    }
    if !quick.is_empty() {
        blocks.insert(0, Block::Links(quick));
    }
    blocks.insert(
        0,
        Block::Text(format!(
            "{}，您好。角色：{}。",
            console.staff.name,
            console
                .staff
                .roles
                .iter()
                .map(|r| r.label())
                .collect::<Vec<_>>()
                .join("、")
        )),
    );
    console.render("工作台", blocks)
}
