//! Demo data from the newsletter issue the registry grew out of: 《长寿社区晨报》2019年9月,
//! 小城大事 (see `shared/seed/changshou-morning-news-2019-09.txt`). Every fact carries its source.
//! Loading is idempotent: each item is looked up by its natural key first, so a second run
//! changes nothing.

use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::domain::activity::{ActivityDraft, ActivityInput};
use crate::domain::community::CommunityDraft;
use crate::domain::consent::{ConsentDraft, ConsentScope};
use crate::domain::nomination::{NominationDraft, NominationState, StatementInput};
use crate::domain::photo::{PhotoDraft, PhotoInput};
use crate::domain::resident::{ResidentDraft, ResidentInput};
use crate::domain::service_record::{MeasureInput, ServiceRecordDraft, ServiceRecordInput};
use crate::domain::story::{IssueDraft, StoryDraft, StoryInput};
use crate::domain::user::UserDraft;
use crate::media::processing::{self, IngestLimits, ProcessedPhoto, ProcessingError};
use crate::media::{Media, MediaError};
use crate::store::audit::Actor;
use crate::store::entities::community;
use crate::store::residents::Visibility;
use crate::store::{
    activities, categories, communities, consents, issues, nominations, photos, recognitions,
    residents, service_records, stories, users, StoreError, StoreResult,
};

const RECORDER: &str = "长寿路街道（演示数据）";
/// The newsletter issue's month: what is ongoing in it is known to hold until then.
const ARTICLE_MONTH: &str = "2019-09";
const SOURCE_SMART: &str =
    "《长寿社区晨报》2019年9月 小城大事 ·「“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻」，记者 周晶";

/// What a load did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub created: usize,
    pub existing: usize,
}

pub async fn load(db: &DatabaseConnection) -> StoreResult<DemoReport> {
    let txn = db.begin().await?;
    let mut report = DemoReport::default();
    let putuo = community(&txn, &mut report, "普陀区", "district", None).await?;
    let changshou = community(
        &txn,
        &mut report,
        "长寿路街道",
        "subdistrict",
        Some(putuo.id),
    )
    .await?;
    let music_square = community(
        &txn,
        &mut report,
        "音乐广场",
        "compound",
        Some(changshou.id),
    )
    .await?;
    let sun = sun_jianwei(&txn, &mut report, music_square.id).await?;
    secretaries_activities(&txn, &mut report).await?;
    recognition_workflow(&txn, &mut report, sun).await?;
    newsletter(&txn, &mut report, sun).await?;
    if report.created > 0 {
        // One event for the load, in its transaction: what the demo put into the registry.
        let event = crate::store::audit::Event {
            action: "demo.load",
            entity_kind: "demo",
            entity_id: 0,
            before: None,
            after: Some(serde_json::json!({
                "created": report.created,
                "existing": report.existing,
                "source": "长寿社区晨报 2019年9月（seed/changshou-morning-news-2019-09.txt）",
            })),
        };
        let actor = crate::store::audit::Actor::system("演示数据（youde demo）");
        crate::store::audit::record(&txn, &actor, event, crate::store::now()).await?;
    }
    txn.commit().await?;
    Ok(report)
}

fn invalid(what: &str, errors: crate::domain::ValidationErrors) -> StoreError {
    StoreError::Conflict(format!("demo data for {what} is invalid: {errors}"))
}

async fn community(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    name: &str,
    kind: &str,
    parent_id: Option<i64>,
) -> StoreResult<community::Model> {
    let draft = CommunityDraft::parse(name, kind, parent_id).map_err(|e| invalid(name, e))?;
    let page = communities::list(db, None, 1000, parent_id, None).await?;
    if let Some(existing) = page
        .items
        .into_iter()
        .find(|c| c.name == name && c.parent_id == parent_id)
    {
        report.existing += 1;
        return Ok(existing);
    }
    report.created += 1;
    communities::insert(db, &draft).await
}

struct Record {
    kind: &'static str,
    title: &'static str,
    organisation: Option<&'static str>,
    start: &'static str,
    end: Option<&'static str>,
    unpaid: bool,
    measures: &'static [(f64, &'static str, &'static str)],
    note: Option<&'static str>,
}

const SUN_JIANWEI_RECORDS: &[Record] = &[
    Record {
        kind: "role",
        title: "音乐广场业主委员会委员（开发商代表）",
        organisation: Some("音乐广场业主委员会"),
        start: "2007",
        end: Some("2019"),
        unpaid: true,
        measures: &[],
        note: Some("“从 2007 年到 2019 年，12 年来……无偿服务至今”"),
    },
    Record {
        kind: "role",
        title: "长寿社区治理与促进中心智慧社区工作室主任",
        organisation: Some("长寿路街道长寿社区治理与促进中心"),
        start: "2019",
        end: None,
        unpaid: false,
        measures: &[],
        note: Some("2018 年底智慧社区建成后受街道聘用；起始时间按报道记为 2019 年"),
    },
    Record {
        kind: "project",
        title: "门栋大堂装潢改造：逐个门栋实地测量，节约工程金额",
        organisation: Some("音乐广场业主委员会"),
        start: "2019",
        end: Some("2019"),
        unpaid: true,
        measures: &[(300_000.0, "yuan_saved", "exact")],
        note: Some("报道称“近年来”，时间按报道日期记"),
    },
    Record {
        kind: "project",
        title: "音乐广场智慧社区改造（动用物业维修资金，业主投票通过）",
        organisation: Some("音乐广场业主委员会"),
        start: "2018",
        end: Some("2018-12"),
        unpaid: true,
        measures: &[
            (1_000_000.0, "yuan", "at_least"),
            (89.2, "percent", "exact"),
        ],
        note: Some(
            "“需动用物业维修资金100多万元”；方案获业主 89.2% 的高票通过率；2018 年底正式建成",
        ),
    },
    Record {
        kind: "publication",
        title: "整理制作“音乐广场智慧小区”宣传折页",
        organisation: Some("音乐广场业主委员会"),
        start: "2018",
        end: Some("2018"),
        unpaid: true,
        measures: &[],
        note: None,
    },
    Record {
        kind: "hosting",
        title: "接待市、区各部门领导参访智慧社区",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[(38.0, "visit_batches", "exact")],
        note: Some("“短短几个月时间内……接待了市、区各部门领导 38 批次”"),
    },
    Record {
        kind: "hosting",
        title: "接待外省市代表团参访智慧社区",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[(4.0, "visit_batches", "exact")],
        note: Some("“接待了外省市代表团 4 次”"),
    },
    Record {
        kind: "hosting",
        title: "接待街道各小区参观智慧社区",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[(10.0, "visit_batches", "exact")],
        note: Some("“接待街道各小区参观 10 次”"),
    },
    Record {
        kind: "survey",
        title: "排摸调查街道所属商品房小区现状",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[(60.0, "compounds", "at_least"), (3.0, "months", "exact")],
        note: Some("“用整整 3 个月时间，对街道所属商品房 60几个小区现状进行排摸调查”"),
    },
    Record {
        kind: "publication",
        title: "编制“智慧社区改造工作”操作手册",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[],
        note: None,
    },
    Record {
        kind: "publication",
        title: "撰写各项目改造工程的“预算模块”",
        organisation: Some("智慧社区工作室"),
        start: "2019",
        end: Some("2019"),
        unpaid: false,
        measures: &[],
        note: None,
    },
];

const SUN_JIANWEI_CITATION: &str = "2007 年起作为开发商代表担任**音乐广场业委会委员**，12 年来工作踏实认真、一丝不苟，无偿服务至今。\n\n\
在门栋大堂装潢中，他同物业公司员工一个门栋接着一个门栋实地测量，用精准数据说话，为业主节约工程金额 30 万元。\
他整理制作宣传折页，讲清“智慧社区”改造的必要性，改造方案获业主 89.2% 的高票通过，2018 年底音乐广场智慧社区正式建成。\n\n\
此后他担任长寿社区治理与促进中心智慧社区工作室主任，几个月内接待参访 52 批次，用 3 个月排摸街道 60 余个商品房小区，\
编制操作手册和“预算模块”，为各小区改造提供从项目策划到竣工验收的指导。";

async fn sun_jianwei(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    community_id: i64,
) -> StoreResult<i64> {
    let resident = match residents::find_by_name_in_community(db, "孙建伟", community_id).await?
    {
        Some(existing) => {
            report.existing += 1;
            existing
        }
        None => {
            let draft = ResidentDraft::parse(ResidentInput {
                name: "孙建伟".into(),
                community_id,
                citation: Some(SUN_JIANWEI_CITATION.into()),
                ..Default::default()
            })
            .map_err(|e| invalid("孙建伟", e))?;
            report.created += 1;
            residents::insert(db, &draft).await?
        }
    };

    // The newsletter published him and his photo; the demo records the separate consents a real
    // deployment would have on paper, marked as demo data.
    for scope in [
        ConsentScope::Profile,
        ConsentScope::Story,
        ConsentScope::Photo,
    ] {
        demo_consent(db, report, resident.id, scope).await?;
    }

    for r in SUN_JIANWEI_RECORDS {
        if service_records::find_by_title(db, resident.id, r.title)
            .await?
            .is_some()
        {
            report.existing += 1;
            continue;
        }
        let evidence = match r.note {
            Some(note) => format!("{SOURCE_SMART}：{note}"),
            None => SOURCE_SMART.to_string(),
        };
        let draft = ServiceRecordDraft::parse(ServiceRecordInput {
            kind: r.kind.into(),
            title: r.title.into(),
            organisation: r.organisation.map(Into::into),
            start: r.start.into(),
            end: r.end.map(Into::into),
            unpaid: r.unpaid,
            measures: r
                .measures
                .iter()
                .map(|&(value, unit, qualifier)| MeasureInput {
                    value,
                    unit: unit.into(),
                    qualifier: qualifier.into(),
                })
                .collect(),
            evidence: Some(evidence),
            recorded_by: RECORDER.into(),
            verified_by: None,
            verified_on: None,
            // What is still going on is known only as of the article.
            confirmed_on: r.end.is_none().then(|| ARTICLE_MONTH.into()),
        })
        .map_err(|e| invalid(r.title, e))?;
        service_records::insert(db, resident.id, None, &draft).await?;
        report.created += 1;
    }
    Ok(resident.id)
}

const SOURCE_SECRETARIES: &str =
    "《长寿社区晨报》2019年9月 小城大事 · 长寿先锋「开学季 居民区书记忙着增强基层治理“经验值”」，记者 周晶";

/// The three dated activities of the residential-area secretaries. The article names no
/// secretary, so the demo records them without participants; recording participants writes
/// their service records.
async fn secretaries_activities(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
) -> StoreResult<()> {
    let items = [
        (
            "赴徐汇区枫林路街道谨斜居委会参访",
            "2019-08-28",
            "徐汇区枫林路街道谨斜居委会",
            "街道办事处副主任范晔带队居民区书记参访，就居委会标准化建设中制度建设、公用工位等内容进行专题式学习。",
        ),
        (
            "“社会组织参与社会治理”培训",
            "2019-08-29",
            "长寿路街道",
            "针对居民区书记、主任开展培训，专业机构讲师结合案例讲解社会组织参与社区治理的必要性和工作方式。",
        ),
        (
            "居民区书记 2019 年半年度工作交流活动",
            "2019-08-30",
            "长寿路街道",
            "圆桌分组交流：心理减压游戏、上半年工作回顾（最开心的一件事、最想吐槽的一件事、最想感谢的一个人）、议题探讨和下半年工作展望。",
        ),
    ];
    for (title, date, place, description) in items {
        if activities::find_by_title_and_date(db, title, date)
            .await?
            .is_some()
        {
            report.existing += 1;
            continue;
        }
        let draft = ActivityDraft::parse(ActivityInput {
            title: title.into(),
            date: date.into(),
            place: Some(place.into()),
            organiser: Some("长寿路街道".into()),
            description: Some(format!("{description}（来源：{SOURCE_SECRETARIES}）")),
            unpaid: false,
            participant_ids: vec![],
            recorded_by: RECORDER.into(),
            ..Default::default()
        })
        .map_err(|e| invalid(title, e))?;
        activities::insert(db, &draft).await?;
        report.created += 1;
    }
    Ok(())
}

/// A demo account that acts in the workflow. Disabled, and its password "hash" is not a hash at
/// all, so no password matches: nobody signs in as it.
async fn demo_user(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    username: &str,
    name: &str,
    role: &str,
) -> StoreResult<i64> {
    if let Some(existing) = users::find_by_username(db, username).await? {
        report.existing += 1;
        return Ok(existing.id);
    }
    let draft =
        UserDraft::parse(username, name, &[role.to_string()]).map_err(|e| invalid(username, e))?;
    let user = users::insert(
        db,
        &draft,
        "!demo-account-no-password".into(),
        crate::store::now(),
    )
    .await?;
    users::set_disabled(db, user.id, true, crate::store::now()).await?;
    report.created += 1;
    Ok(user.id)
}

const SUN_NOMINATION_CITATION: &str = "孙建伟同志 2007 年起担任音乐广场业委会委员，12 年无偿服务业主；\
在大堂装潢中逐个门栋实地测量，节约工程金额 30 万元；推动音乐广场智慧社区改造，方案获业主 89.2% 高票通过；\
担任智慧社区工作室主任后接待参访 52 批次，排摸街道 60 余个商品房小区，为全街道小区改造提供专业指导。";

struct DemoNomination {
    category: &'static str,
    title: &'static str,
    citation: &'static str,
    statement: (&'static str, &'static str, &'static str),
}

/// 孙建伟 nominated 敬业奉献 as "2019年度长寿路街道有德之士", taken through a 公示 that closed
/// clean to a recognition; and a second nomination left in an open 公示 so the board shows one.
async fn recognition_workflow(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    resident_id: i64,
) -> StoreResult<()> {
    let nominator = demo_user(
        db,
        report,
        "demo-nominator",
        "演示提名人（长寿路街道）",
        "nominator",
    )
    .await?;
    let reviewer = demo_user(
        db,
        report,
        "demo-reviewer",
        "演示评审人（长寿路街道）",
        "reviewer",
    )
    .await?;

    let recognised = DemoNomination {
        category: "dedication",
        title: "2019年度长寿路街道有德之士",
        citation: SUN_NOMINATION_CITATION,
        statement: (
            "周晶",
            "《长寿社区晨报》记者",
            "“在他的努力下，只要小区有改造需求，可以随时随地至工作室商谈、指导、提供从项目策划、方案确定、宣传造势、业主投票、施工指导、竣工验收等服务。”（《长寿社区晨报》2019年9月）",
        ),
    };
    if let Some(n) = nominate(db, report, resident_id, nominator, &recognised, 2019).await? {
        let opens = Utc
            .with_ymd_and_hms(2019, 9, 2, 1, 0, 0)
            .single()
            .expect("valid time");
        let closes = opens + Duration::days(7);
        nominations::open_notice(db, n.id, opens, closes, reviewer).await?;
        for (from, to) in [
            (NominationState::Draft, NominationState::Submitted),
            (NominationState::Submitted, NominationState::InReview),
            (NominationState::InReview, NominationState::PublicNotice),
            (NominationState::PublicNotice, NominationState::Approved),
            (NominationState::Approved, NominationState::Recognised),
        ] {
            nominations::set_state(db, n.id, from, to, closes).await?;
        }
        let n = nominations::get(db, n.id).await?;
        let on = NaiveDate::from_ymd_opt(2019, 9, 20).expect("valid date");
        recognitions::insert(db, &n, on, reviewer, closes).await?;
    }

    let in_notice = DemoNomination {
        category: "community_governance",
        title: "长寿路街道智慧社区建设带头人",
        citation: "孙建伟同志以专业的工程管理经验推动音乐广场智慧社区建成，并把经验推广到全街道，为各小区改造提供从策划到验收的全程指导。",
        statement: ("长寿路街道（演示数据）", "推荐单位", "智慧社区工作室接待参访 52 批次，排摸 60 余个小区，编制操作手册和预算模块。"),
    };
    let year = (crate::store::now() + Duration::hours(8)).year();
    if let Some(n) = nominate(db, report, resident_id, nominator, &in_notice, year).await? {
        let now = crate::store::now();
        for (from, to) in [
            (NominationState::Draft, NominationState::Submitted),
            (NominationState::Submitted, NominationState::InReview),
        ] {
            nominations::set_state(db, n.id, from, to, now).await?;
        }
        nominations::open_notice(db, n.id, now, now + Duration::days(7), reviewer).await?;
        nominations::set_state(
            db,
            n.id,
            NominationState::InReview,
            NominationState::PublicNotice,
            now,
        )
        .await?;
    }
    Ok(())
}

/// Create the nomination unless one with the same title exists for the resident.
async fn nominate(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    resident_id: i64,
    nominator: i64,
    n: &DemoNomination,
    year: i32,
) -> StoreResult<Option<crate::store::entities::nomination::Model>> {
    let existing = nominations::list(
        db,
        nominations::ListFilter {
            after: None,
            limit: 1000,
            state: None,
            resident_id: Some(resident_id),
            nominator_id: None,
            hide_drafts_of_others: None,
            reach: crate::store::residents::Visibility::Staff,
        },
    )
    .await?;
    if existing.items.iter().any(|m| m.honour_title == n.title) {
        report.existing += 1;
        return Ok(None);
    }
    let category = categories::find_by_code(db, n.category)
        .await?
        .ok_or_else(|| StoreError::Conflict(format!("category {} missing", n.category)))?;
    let (author, relation, body) = n.statement;
    let draft = NominationDraft::parse(
        resident_id,
        category.id,
        n.title,
        year,
        n.citation,
        vec![StatementInput {
            author: author.into(),
            relation: relation.into(),
            body: body.into(),
        }],
    )
    .map_err(|e| invalid(n.title, e))?;
    report.created += 1;
    Ok(Some(
        nominations::insert(db, &draft, nominator, crate::store::now()).await?,
    ))
}

/// The separate consent a real deployment would hold on paper, marked as demo data.
async fn demo_consent(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    resident_id: i64,
    scope: ConsentScope,
) -> StoreResult<()> {
    let active = consents::list_for_resident(db, resident_id)
        .await?
        .iter()
        .any(|c| c.scope == scope.code() && c.withdrawn_on.is_none());
    if active {
        report.existing += 1;
        return Ok(());
    }
    let draft = ConsentDraft::parse(
        scope.code(),
        "demo-2019",
        "2019-09-01",
        RECORDER,
        Some("演示数据：正式使用前请核实并由本人重新签署"),
        NaiveDate::from_ymd_opt(2019, 9, 1).expect("valid date"),
    )
    .map_err(|e| invalid("consent", e))?;
    consents::insert(db, resident_id, &draft).await?;
    report.created += 1;
    Ok(())
}

const EDITORS_NOTE: &str = "时代进步离不开道德的引领，社会发展亦离不开道德的凝聚。悉心观察周遭世事，就会发现诸多有德之士的存在，\
平日里他们大多默默无闻，但经由了解，便不难观察到他们独特的人格魅力与闪光点。这些有德之士是如何助力我们生活的城市愈加善美及精彩的？\
本期长寿社区晨报小城大事为您进行关注。";

/// The newsletter issue the registry grew out of: its two stories (the second featured) and its
/// editor's note (编者按).
async fn newsletter(
    db: &impl ConnectionTrait,
    report: &mut DemoReport,
    sun: i64,
) -> StoreResult<()> {
    let published = Utc
        .with_ymd_and_hms(2019, 9, 2, 0, 0, 0)
        .single()
        .expect("valid time");
    let items = [
        (
            "开学季 居民区书记忙着增强基层治理“经验值”",
            include_str!("../demo/story-secretaries.md"),
            false,
            vec![],
        ),
        (
            "“智慧社区”建成的背后 有着这位专业“老法师”的强势助攻",
            include_str!("../demo/story-smart-community.md"),
            true,
            vec![sun],
        ),
    ];
    let mut ids = Vec::new();
    for (title, body, featured, residents) in items {
        if let Some(existing) = stories::find_by_title(db, title).await? {
            report.existing += 1;
            ids.push(existing.id);
            continue;
        }
        let draft = StoryDraft::parse(StoryInput {
            title: title.into(),
            subtitle: None,
            section: Some(
                if featured {
                    "小城大事"
                } else {
                    "长寿先锋"
                }
                .into(),
            ),
            themes: vec!["有德之士".into()],
            byline: Some("记者 周晶".into()),
            body: body.into(),
            recognition_story: featured,
            featured,
            resident_ids: residents,
        })
        .map_err(|e| invalid(title, e))?;
        let story = stories::insert(db, &draft, Visibility::Staff, published).await?;
        stories::set_published(db, story.id, true, published).await?;
        ids.push(story.id);
        report.created += 1;
    }
    let name = "长寿社区晨报 · 小城大事 2019年9月";
    if issues::find_by_name(db, name).await?.is_some() {
        report.existing += 1;
        return Ok(());
    }
    let draft = IssueDraft::parse(
        name,
        "2019-09-02",
        Some("有德之士"),
        Some(EDITORS_NOTE),
        ids,
    )
    .map_err(|e| invalid(name, e))?;
    let issue = issues::insert(db, &draft, published).await?;
    issues::set_published(db, issue.id, true, published).await?;
    report.created += 1;
    Ok(())
}

/// Whose photo a demo photo is.
enum DemoOwner {
    /// By URL slug.
    Resident(&'static str),
    /// By title and date.
    Activity(&'static str, &'static str),
}

struct DemoPhoto {
    owner: DemoOwner,
    /// The newsletter's caption.
    caption: &'static str,
    taken_on: Option<&'static str>,
    /// The placeholder's colour.
    rgb: [u8; 3],
}

const DEMO_PHOTOS: &[DemoPhoto] = &[
    DemoPhoto {
        owner: DemoOwner::Resident("sun-jianwei"),
        caption: "孙建伟与小区居民一同出席音乐广场“智慧社区”竣工仪式",
        taken_on: None,
        rgb: [196, 72, 58],
    },
    DemoPhoto {
        owner: DemoOwner::Activity("居民区书记 2019 年半年度工作交流活动", "2019-08-30"),
        caption: "心理减压游戏",
        taken_on: Some("2019-08-30"),
        rgb: [74, 144, 120],
    },
    DemoPhoto {
        owner: DemoOwner::Activity("赴徐汇区枫林路街道谨斜居委会参访", "2019-08-28"),
        caption: "赴徐汇区枫林路街道谨斜居委会参访",
        taken_on: Some("2019-08-28"),
        rgb: [70, 110, 176],
    },
    DemoPhoto {
        owner: DemoOwner::Activity("“社会组织参与社会治理”培训", "2019-08-29"),
        caption: "“社会组织参与社会治理”培训",
        taken_on: Some("2019-08-29"),
        rgb: [212, 160, 64],
    },
    DemoPhoto {
        owner: DemoOwner::Activity("居民区书记 2019 年半年度工作交流活动", "2019-08-30"),
        caption: "长寿路街道居民区书记 2019 年半年度工作交流活动",
        taken_on: Some("2019-08-30"),
        rgb: [128, 92, 160],
    },
];

/// A plain picture in one colour, lighter towards the bottom, with nothing on it: it stands in
/// for the newsletter's photo, which the demo does not have. The same bytes every time, so a
/// second load recognises it.
fn placeholder(rgb: [u8; 3]) -> Vec<u8> {
    // Small: below the page size, the print and page renditions are the same file.
    const W: u16 = 960;
    const H: u16 = 720;
    let mut pixels = Vec::with_capacity(usize::from(W) * usize::from(H) * 3);
    for y in 0..u32::from(H) {
        let lift = y * 48 / u32::from(H);
        let colour: [u8; 3] = rgb.map(|c| (u32::from(c) + lift).min(255) as u8);
        pixels.extend_from_slice(&colour.repeat(usize::from(W)));
    }
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 90)
        .encode(&pixels, W, H, jpeg_encoder::ColorType::Rgb)
        .expect("encoding a placeholder in memory cannot fail");
    out
}

/// The newsletter's photos as placeholders, through the same pipeline as an upload. Load after
/// [`load`]; like it, a second run changes nothing.
/// The placeholders, rendered once per process: they come out the same every time, and the test
/// suite loads the demo into dozens of fresh databases.
fn rendered_placeholders() -> &'static [Result<ProcessedPhoto, ProcessingError>] {
    static RENDERED: OnceLock<Vec<Result<ProcessedPhoto, ProcessingError>>> = OnceLock::new();
    RENDERED.get_or_init(|| {
        DEMO_PHOTOS
            .iter()
            .map(|photo| processing::process(&placeholder(photo.rgb), &IngestLimits::default()))
            .collect()
    })
}

pub async fn load_photos(db: &DatabaseConnection, media: &Media) -> Result<DemoReport, MediaError> {
    let mut report = DemoReport::default();
    let rendered = tokio::task::spawn_blocking(rendered_placeholders)
        .await
        .map_err(|e| MediaError::Worker(e.to_string()))?;
    for (photo, processed) in DEMO_PHOTOS.iter().zip(rendered) {
        let processed = processed.clone()?;
        let (owner_kind, owner_id) = match photo.owner {
            DemoOwner::Resident(slug) => {
                match residents::find_by_slug(db, slug, Visibility::Staff).await {
                    Ok(r) => ("resident", r.id),
                    Err(StoreError::NotFound(_)) => continue,
                    Err(err) => return Err(err.into()),
                }
            }
            DemoOwner::Activity(title, date) => {
                match activities::find_by_title_and_date(db, title, date).await? {
                    Some(a) => ("activity", a.id),
                    None => continue,
                }
            }
        };
        let draft = PhotoDraft::parse(PhotoInput {
            owner_kind: owner_kind.into(),
            owner_id,
            caption: Some(format!("{}（演示占位图）", photo.caption)),
            credit: Some("记者 周晶".into()),
            alt: Some(format!(
                "演示占位图：一张没有画面内容的纯色图片。原报道配图为“{}”",
                photo.caption
            )),
            taken_on: photo.taken_on.map(Into::into),
            residents: vec![],
        })
        .map_err(|e| invalid(photo.caption, e))?;
        if photos::find_by_source(db, draft.owner, &processed.source_sha256)
            .await?
            .is_some()
        {
            report.existing += 1;
            continue;
        }
        let actor = Actor::system(RECORDER);
        media
            .save(db, &draft, &processed, &actor, crate::store::now())
            .await?;
        report.created += 1;
    }
    Ok(report)
}
