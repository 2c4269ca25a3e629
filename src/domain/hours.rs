//! Volunteer hours (志愿服务时长) and the star levels (星级志愿者) they earn. Hours are measures in
//! 小时 on service records: a participant's record of an activity carries the hours of that
//! person, a `volunteer_hours` record the hours it states. Totals and stars are derived, never
//! stored.

use std::collections::BTreeMap;

use super::measure::Unit;
use super::service_record::RecordFacts;

/// The star levels of the national volunteer record rules (《志愿服务记录与证明出具办法》 and the
/// 星级志愿者 rules built on it): cumulative hours of 100, 300, 600, 1,000 and 1,500 make one to
/// five stars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StarLevel {
    One = 1,
    Two,
    Three,
    Four,
    Five,
}

impl StarLevel {
    /// Thresholds in hours, lowest first.
    pub const THRESHOLDS: [(f64, StarLevel); 5] = [
        (100.0, StarLevel::One),
        (300.0, StarLevel::Two),
        (600.0, StarLevel::Three),
        (1000.0, StarLevel::Four),
        (1500.0, StarLevel::Five),
    ];

    /// The level a cumulative total earns; none below 100 hours (99.5 hours are not 100).
    pub fn for_hours(hours: f64) -> Option<StarLevel> {
        StarLevel::THRESHOLDS
            .iter()
            .rev()
            .find(|(threshold, _)| hours >= *threshold)
            .map(|(_, level)| *level)
    }

    /// 1 to 5.
    pub fn stars(self) -> u8 {
        self as u8
    }

    /// 一星志愿者 … 五星志愿者: how pages and the search facet name it.
    pub fn label(self) -> &'static str {
        match self {
            StarLevel::One => "一星志愿者",
            StarLevel::Two => "二星志愿者",
            StarLevel::Three => "三星志愿者",
            StarLevel::Four => "四星志愿者",
            StarLevel::Five => "五星志愿者",
        }
    }
}

/// A resident's volunteer hours: overall, per year (the year a record starts in), and the star
/// level the total earns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolunteerHours {
    pub total: f64,
    /// Ascending by year; only years with hours.
    pub by_year: Vec<(i32, f64)>,
    pub star_level: Option<StarLevel>,
}

impl VolunteerHours {
    pub fn derive(records: &[RecordFacts]) -> Self {
        let mut by_year: BTreeMap<i32, f64> = BTreeMap::new();
        for record in records {
            for m in record.measures.iter().filter(|m| m.unit() == Unit::Hours) {
                *by_year.entry(record.period.start.year()).or_default() += m.value();
            }
        }
        let total: f64 = by_year.values().sum();
        VolunteerHours {
            total,
            by_year: by_year.into_iter().collect(),
            star_level: StarLevel::for_hours(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::measure::{Measure, Qualifier};
    use crate::domain::partial_date::{PartialDate, Period};
    use crate::domain::service_record::RecordKind;

    #[test]
    fn star_levels_start_exactly_at_their_thresholds() {
        let cases = [
            (0.0, None),
            (99.5, None),
            (100.0, Some(StarLevel::One)),
            (299.0, Some(StarLevel::One)),
            (300.0, Some(StarLevel::Two)),
            (599.9, Some(StarLevel::Two)),
            (600.0, Some(StarLevel::Three)),
            (999.0, Some(StarLevel::Three)),
            (1000.0, Some(StarLevel::Four)),
            (1499.5, Some(StarLevel::Four)),
            (1500.0, Some(StarLevel::Five)),
            (20000.0, Some(StarLevel::Five)),
        ];
        for (hours, level) in cases {
            assert_eq!(StarLevel::for_hours(hours), level, "{hours} hours");
        }
        assert_eq!(StarLevel::Three.label(), "三星志愿者");
        assert_eq!(StarLevel::Five.stars(), 5);
    }

    fn record(start: &str, hours: &[f64]) -> RecordFacts {
        RecordFacts {
            kind: RecordKind::Activity,
            period: Period::new(PartialDate::parse(start).unwrap(), None).unwrap(),
            unpaid: true,
            measures: hours
                .iter()
                .map(|h| Measure::new(*h, Unit::Hours, Qualifier::Exact).unwrap())
                .collect(),
            known_until: None,
        }
    }

    #[test]
    fn hours_add_up_per_year_and_overall() {
        let hours = VolunteerHours::derive(&[
            record("2018-05-01", &[60.0]),
            record("2019-08-28", &[2.5]),
            record("2019-08-29", &[40.0]),
            record("2019", &[]),
        ]);
        assert_eq!(hours.by_year, [(2018, 60.0), (2019, 42.5)]);
        assert_eq!(hours.total, 102.5);
        assert_eq!(hours.star_level, Some(StarLevel::One));
        assert_eq!(VolunteerHours::derive(&[]).star_level, None);
    }
}
