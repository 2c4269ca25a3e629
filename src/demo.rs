//! Demo data from the newsletter issue the registry grew out of: 《长寿社区晨报》2019年9月,
//! 小城大事 (see `shared/seed/changshou-morning-news-2019-09.txt`). Every fact carries its source.
//! Loading is idempotent: each item is looked up by its natural key first, so a second run
//! changes nothing.

use chrono::NaiveDate;
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::domain::activity::{ActivityDraft, ActivityInput};
use crate::domain::community::CommunityDraft;
use crate::domain::consent::{ConsentDraft, ConsentScope};
use crate::domain::resident::{ResidentDraft, ResidentInput};
use crate::domain::service_record::{MeasureInput, ServiceRecordDraft, ServiceRecordInput};
use crate::store::entities::community;
use crate::store::{activities, communities, consents, residents, service_records, StoreError, StoreResult};

const RECORDER: &str = "长寿路街道（演示数据）";
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
    let changshou = community(&txn, &mut report, "长寿路街道", "subdistrict", Some(putuo.id)).await?;
    let music_square = community(&txn, &mut report, "音乐广场", "compound", Some(changshou.id)).await?;
    sun_jianwei(&txn, &mut report, music_square.id).await?;
    secretaries_activities(&txn, &mut report).await?;
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
    let page = communities::list(db, None, 1000, parent_id).await?;
    if let Some(existing) = page.items.into_iter().find(|c| c.name == name && c.parent_id == parent_id) {
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
        measures: &[(1_000_000.0, "yuan", "at_least"), (89.2, "percent", "exact")],
        note: Some("“需动用物业维修资金100多万元”；方案获业主 89.2% 的高票通过率；2018 年底正式建成"),
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

async fn sun_jianwei(db: &impl ConnectionTrait, report: &mut DemoReport, community_id: i64) -> StoreResult<()> {
    let resident = match residents::find_by_name_in_community(db, "孙建伟", community_id).await? {
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

    // The newsletter published him; the demo records the separate consent a real deployment
    // would have on paper, marked as demo data.
    let has_profile_consent = consents::list_for_resident(db, resident.id)
        .await?
        .iter()
        .any(|c| c.scope == ConsentScope::Profile.code() && c.withdrawn_on.is_none());
    if has_profile_consent {
        report.existing += 1;
    } else {
        let draft = ConsentDraft::parse(
            "profile",
            "demo-2019",
            "2019-09-01",
            RECORDER,
            Some("演示数据：正式使用前请核实并由本人重新签署"),
            NaiveDate::from_ymd_opt(2019, 9, 1).expect("valid date"),
        )
        .map_err(|e| invalid("consent", e))?;
        consents::insert(db, resident.id, &draft).await?;
        report.created += 1;
    }

    for r in SUN_JIANWEI_RECORDS {
        if service_records::find_by_title(db, resident.id, r.title).await?.is_some() {
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
                .map(|&(value, unit, qualifier)| MeasureInput { value, unit: unit.into(), qualifier: qualifier.into() })
                .collect(),
            evidence: Some(evidence),
            recorded_by: RECORDER.into(),
            verified_by: None,
            verified_on: None,
        })
        .map_err(|e| invalid(r.title, e))?;
        service_records::insert(db, resident.id, None, &draft).await?;
        report.created += 1;
    }
    Ok(())
}

const SOURCE_SECRETARIES: &str =
    "《长寿社区晨报》2019年9月 小城大事 · 长寿先锋「开学季 居民区书记忙着增强基层治理“经验值”」，记者 周晶";

/// The three dated activities of the residential-area secretaries. The article names no
/// secretary, so the demo records them without participants; recording participants writes
/// their service records.
async fn secretaries_activities(db: &impl ConnectionTrait, report: &mut DemoReport) -> StoreResult<()> {
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
        if activities::find_by_title_and_date(db, title, date).await?.is_some() {
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
        })
        .map_err(|e| invalid(title, e))?;
        activities::insert(db, &draft).await?;
        report.created += 1;
    }
    Ok(())
}
