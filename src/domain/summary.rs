//! The service summary (服务概要): always derived from the records, never typed in by hand.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::hours::VolunteerHours;
use super::measure::{format_number, Measure, Qualifier, Unit};
use super::partial_date::PartialDate;
use super::service_record::{RecordFacts, RecordKind};

#[derive(Debug, Clone, PartialEq)]
pub struct Total {
    pub unit: Unit,
    pub value: f64,
    pub qualifier: Qualifier,
}

impl Total {
    pub fn as_measure(&self) -> Measure {
        Measure::new(self.value, self.unit, self.qualifier)
            .expect("sums of valid measures are valid")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSummary {
    pub as_of: NaiveDate,
    /// Months covered by the union of all role periods (overlaps counted once).
    pub service_months: i64,
    /// Months covered by the union of unpaid role periods.
    pub unpaid_months: i64,
    /// Per-unit totals over every record, for additive units.
    pub totals: Vec<Total>,
    /// Hosted visits (接待参访), money saved and compounds surveyed: the figures pages lead with.
    pub visits_hosted: Option<Total>,
    pub money_saved: Option<Total>,
    pub compounds_surveyed: Option<Total>,
    pub activities: usize,
    pub records: usize,
    /// Volunteer hours per year and overall, and the star level they earn.
    pub hours: VolunteerHours,
    /// The latest confirmation of an ongoing role, when every ongoing role has one: the service
    /// years are known to run only to here ("至 2019年9月，最后核实").
    pub known_until: Option<PartialDate>,
    /// The Chinese lines a page shows, most telling first: "无偿服务 12 年", "接待参访 52 批次".
    pub headlines: Vec<String>,
}

impl ServiceSummary {
    /// "至 2019年9月，最后核实": said beside the years of service when they rest on a confirmation.
    pub fn known_until_text(&self) -> Option<String> {
        self.known_until
            .filter(|_| self.service_months > 0)
            .map(|known| format!("至 {}，最后核实", known.to_chinese()))
    }

    /// The headlines as one line, with the known-until note at the end when there is one.
    pub fn headline_line(&self) -> String {
        let line = self.headlines.join(" · ");
        match self.known_until_text() {
            Some(known) => format!("{line}（{known}）"),
            None => line,
        }
    }

    pub fn service_years(&self) -> i64 {
        self.service_months / 12
    }

    pub fn unpaid_years(&self) -> i64 {
        self.unpaid_months / 12
    }

    pub fn derive(records: &[RecordFacts], as_of: NaiveDate) -> Self {
        let roles = |unpaid_only: bool| {
            let ranges: Vec<(i64, i64)> = records
                .iter()
                .filter(|r| r.kind == RecordKind::Role && (r.unpaid || !unpaid_only))
                .map(|r| r.period.month_range(r.counted_to(as_of)))
                .collect();
            union_length(ranges)
        };
        let service_months = roles(false);
        let unpaid_months = roles(true);

        let totals = sum_by_unit(records.iter());
        let find = |unit: Unit, totals: &[Total]| totals.iter().find(|t| t.unit == unit).cloned();
        let visits_hosted = find(Unit::VisitBatches, &totals);
        let money_saved = find(Unit::YuanSaved, &totals);
        let survey_totals = sum_by_unit(records.iter().filter(|r| r.kind == RecordKind::Survey));
        let compounds_surveyed = find(Unit::Compounds, &survey_totals);
        let activities = records
            .iter()
            .filter(|r| r.kind == RecordKind::Activity)
            .count();

        let ongoing: Vec<&RecordFacts> = records
            .iter()
            .filter(|r| r.kind == RecordKind::Role && r.period.end.is_none())
            .collect();
        let known_until = if ongoing.iter().all(|r| r.known_until.is_some()) {
            ongoing
                .iter()
                .filter_map(|r| r.known_until)
                .max_by_key(|d| d.first_day())
                .filter(|d| d.first_day() <= as_of)
        } else {
            None
        };
        let mut headlines = Vec::new();
        if unpaid_months >= 12 {
            headlines.push(format!("无偿服务 {} 年", unpaid_months / 12));
        } else if service_months >= 12 {
            headlines.push(format!("服务 {} 年", service_months / 12));
        } else if service_months > 0 {
            headlines.push(format!("服务 {} 个月", service_months));
        }
        if let Some(t) = &visits_hosted {
            headlines.push(format!("接待参访 {}", t.as_measure().headline_amount()));
        }
        if let Some(t) = &money_saved {
            headlines.push(format!("节约资金 {}", t.as_measure().headline_amount()));
        }
        if let Some(t) = &compounds_surveyed {
            headlines.push(format!("调研小区 {}", t.as_measure().headline_amount()));
        }
        if let Some(t) = find(Unit::Hours, &totals) {
            headlines.push(format!("志愿服务 {}", t.as_measure().headline_amount()));
        }
        let hours = VolunteerHours::derive(records);
        if let Some(level) = hours.star_level {
            headlines.push(level.label().to_string());
        }
        if activities > 0 {
            headlines.push(format!("参加活动 {} 次", format_number(activities as f64)));
        }

        ServiceSummary {
            as_of,
            service_months,
            unpaid_months,
            totals,
            visits_hosted,
            money_saved,
            compounds_surveyed,
            activities,
            records: records.len(),
            hours,
            known_until,
            headlines,
        }
    }
}

fn sum_by_unit<'a>(records: impl Iterator<Item = &'a RecordFacts>) -> Vec<Total> {
    let mut sums: BTreeMap<Unit, (f64, Qualifier)> = BTreeMap::new();
    for m in records
        .flat_map(|r| r.measures.iter())
        .filter(|m| m.unit().is_additive())
    {
        let entry = sums.entry(m.unit()).or_insert((0.0, Qualifier::Exact));
        entry.0 += m.value();
        entry.1 = entry.1.combine(m.qualifier());
    }
    sums.into_iter()
        .map(|(unit, (value, qualifier))| Total {
            unit,
            value: value.min(Measure::MAX_VALUE),
            qualifier,
        })
        .collect()
}

/// Length of the union of half-open ranges.
fn union_length(mut ranges: Vec<(i64, i64)>) -> i64 {
    ranges.sort_unstable();
    let mut total = 0;
    let mut current: Option<(i64, i64)> = None;
    for (start, end) in ranges {
        match current {
            Some((s, e)) if start <= e => current = Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                current = Some((start, end));
            }
            None => current = Some((start, end)),
        }
    }
    total + current.map_or(0, |(s, e)| e - s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::partial_date::{PartialDate, Period};

    fn period(start: &str, end: Option<&str>) -> Period {
        Period::new(
            PartialDate::parse(start).unwrap(),
            end.map(|e| PartialDate::parse(e).unwrap()),
        )
        .unwrap()
    }

    fn role(start: &str, end: Option<&str>, unpaid: bool) -> RecordFacts {
        RecordFacts {
            kind: RecordKind::Role,
            period: period(start, end),
            unpaid,
            measures: vec![],
            known_until: None,
        }
    }

    fn with_measures(kind: RecordKind, measures: &[(f64, Unit, Qualifier)]) -> RecordFacts {
        RecordFacts {
            kind,
            period: period("2019", None),
            unpaid: true,
            measures: measures
                .iter()
                .map(|&(v, u, q)| Measure::new(v, u, q).unwrap())
                .collect(),
            known_until: None,
        }
    }

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2019, 9, 1).unwrap()
    }

    #[test]
    fn an_ongoing_role_counts_to_its_last_confirmation_not_today() {
        let mut ongoing = role("2007", None, true);
        ongoing.known_until = Some(PartialDate::parse("2019-09").unwrap());
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let s = ServiceSummary::derive(&[ongoing.clone()], today);
        assert_eq!(s.unpaid_years(), 12);
        assert_eq!(s.headlines, ["无偿服务 12 年"]);
        assert_eq!(s.known_until_text().unwrap(), "至 2019年9月，最后核实");
        // Without a confirmation it runs to the day asked about.
        ongoing.known_until = None;
        assert_eq!(ServiceSummary::derive(&[ongoing], today).unpaid_years(), 19);
    }

    #[test]
    fn owners_committee_2007_to_2019_is_twelve_unpaid_years() {
        let s = ServiceSummary::derive(&[role("2007", Some("2019"), true)], as_of());
        assert_eq!(s.unpaid_years(), 12);
        assert_eq!(s.headlines[0], "无偿服务 12 年");
    }

    #[test]
    fn overlapping_roles_are_not_double_counted() {
        let s = ServiceSummary::derive(
            &[
                role("2007", Some("2019"), true),
                role("2015", Some("2017"), true),
                role("2018-06", Some("2019-06"), false),
            ],
            as_of(),
        );
        // 2007-01 .. 2019-06: 12.5 years of service, of which 12 unpaid.
        assert_eq!(s.service_months, 12 * 12 + 5);
        assert_eq!(s.unpaid_years(), 12);
    }

    #[test]
    fn an_ongoing_role_counts_up_to_the_day_of_the_summary() {
        let s = ServiceSummary::derive(&[role("2017-09", None, false)], as_of());
        assert_eq!(s.service_months, 24);
        assert_eq!(s.headlines[0], "服务 2 年");
    }

    #[test]
    fn hosted_visits_add_up_to_52_batches() {
        let e = Qualifier::Exact;
        let s = ServiceSummary::derive(
            &[with_measures(
                RecordKind::Hosting,
                &[
                    (38.0, Unit::VisitBatches, e),
                    (4.0, Unit::VisitBatches, e),
                    (10.0, Unit::VisitBatches, e),
                ],
            )],
            as_of(),
        );
        assert_eq!(s.visits_hosted.as_ref().unwrap().value, 52.0);
        assert!(s.headlines.contains(&"接待参访 52 批次".to_string()));
    }

    #[test]
    fn approximate_figures_stay_approximate_in_totals() {
        let s = ServiceSummary::derive(
            &[
                with_measures(
                    RecordKind::Survey,
                    &[(60.0, Unit::Compounds, Qualifier::AtLeast)],
                ),
                with_measures(
                    RecordKind::Project,
                    &[
                        (1_000_000.0, Unit::Yuan, Qualifier::AtLeast),
                        (89.2, Unit::Percent, Qualifier::Exact),
                    ],
                ),
                with_measures(
                    RecordKind::Project,
                    &[(300_000.0, Unit::YuanSaved, Qualifier::Exact)],
                ),
            ],
            as_of(),
        );
        let surveyed = s.compounds_surveyed.clone().unwrap();
        assert_eq!(
            (surveyed.value, surveyed.qualifier),
            (60.0, Qualifier::AtLeast)
        );
        assert!(s.headlines.contains(&"调研小区 60余个".to_string()));
        assert!(s.headlines.contains(&"节约资金 30 万元".to_string()));
        let yuan = s.totals.iter().find(|t| t.unit == Unit::Yuan).unwrap();
        assert_eq!(yuan.as_measure().to_chinese(), "100余万元");
        // Percentages are facts of one record, never summed.
        assert!(s.totals.iter().all(|t| t.unit != Unit::Percent));
    }

    #[test]
    fn union_of_disjoint_and_touching_ranges() {
        assert_eq!(union_length(vec![(0, 12), (12, 24), (30, 36)]), 30);
        assert_eq!(union_length(vec![]), 0);
    }
}
