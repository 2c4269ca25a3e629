//! Partial dates (`2007`, `2018-12`, `2019-08-30`): what the newsletter actually knows about when
//! something happened, no more precise than the source.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// A calendar date known to year, month or day precision. Constructed only by [`PartialDate::parse`]
/// (or [`FromStr`]), so every value is a real date: month 1–12, day valid for its month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartialDate {
    year: i32,
    month: Option<u32>,
    day: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{input}” 不是有效的日期：应写作 2007、2018-12 或 2019-08-30")]
pub struct PartialDateError {
    pub input: String,
}

impl PartialDate {
    pub const MIN_YEAR: i32 = 1900;
    pub const MAX_YEAR: i32 = 2200;

    pub fn parse(input: &str) -> Result<Self, PartialDateError> {
        let err = || PartialDateError {
            input: input.to_string(),
        };
        let parts: Vec<&str> = input.split('-').collect();
        let number = |s: &str, len: usize| -> Result<u32, PartialDateError> {
            if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            s.parse().map_err(|_| err())
        };
        let (year, month, day) = match parts.as_slice() {
            [y] => (number(y, 4)?, None, None),
            [y, m] => (number(y, 4)?, Some(number(m, 2)?), None),
            [y, m, d] => (number(y, 4)?, Some(number(m, 2)?), Some(number(d, 2)?)),
            _ => return Err(err()),
        };
        let year = year as i32;
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(err());
        }
        if let Some(m) = month {
            if !(1..=12).contains(&m) {
                return Err(err());
            }
        }
        if let (Some(m), Some(d)) = (month, day) {
            NaiveDate::from_ymd_opt(year, m, d).ok_or_else(err)?;
        }
        Ok(Self { year, month, day })
    }

    pub fn from_date(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: Some(date.month()),
            day: Some(date.day()),
        }
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> Option<u32> {
        self.month
    }

    pub fn day(&self) -> Option<u32> {
        self.day
    }

    /// The first day the partial date covers: `2018-12` → 2018-12-01.
    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), self.day.unwrap_or(1))
            .expect("validated at construction")
    }

    /// The last day the partial date covers: `2019` → 2019-12-31, `2018-02` → 2018-02-28.
    pub fn last_day(&self) -> NaiveDate {
        match (self.month, self.day) {
            (_, Some(_)) => self.first_day(),
            (Some(m), None) => {
                let (y, m) = if m == 12 {
                    (self.year + 1, 1)
                } else {
                    (self.year, m + 1)
                };
                NaiveDate::from_ymd_opt(y, m, 1).expect("valid month") - chrono::Duration::days(1)
            }
            (None, None) => NaiveDate::from_ymd_opt(self.year, 12, 31).expect("valid year"),
        }
    }

    /// Months since year 0, at the partial date's start; the unit in which service periods are
    /// counted (day precision does not change whole years of service).
    pub fn month_index(&self) -> i64 {
        self.year as i64 * 12 + (self.month.unwrap_or(1) as i64 - 1)
    }

    /// Chinese rendering as a page shows it: `2007年`, `2018年12月`, `2019年8月30日`.
    pub fn to_chinese(&self) -> String {
        match (self.month, self.day) {
            (Some(m), Some(d)) => format!("{}年{}月{}日", self.year, m, d),
            (Some(m), None) => format!("{}年{}月", self.year, m),
            _ => format!("{}年", self.year),
        }
    }
}

impl fmt::Display for PartialDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.year)?;
        if let Some(m) = self.month {
            write!(f, "-{m:02}")?;
        }
        if let Some(d) = self.day {
            write!(f, "-{d:02}")?;
        }
        Ok(())
    }
}

impl FromStr for PartialDate {
    type Err = PartialDateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A period between two partial dates; `end == None` means ongoing (至今).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: PartialDate,
    pub end: Option<PartialDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("结束时间（{end}）早于开始时间（{start}）")]
pub struct PeriodError {
    pub start: PartialDate,
    pub end: PartialDate,
}

impl Period {
    pub fn new(start: PartialDate, end: Option<PartialDate>) -> Result<Self, PeriodError> {
        if let Some(end) = end {
            // Compared as spans: "2019-03 → 2019" ends within the year it started in.
            if end.last_day() < start.first_day() {
                return Err(PeriodError { start, end });
            }
        }
        Ok(Self { start, end })
    }

    /// Half-open month interval `[start, end)`; an ongoing period runs to `as_of`.
    /// "2007 to 2019" is 2007-01 .. 2019-01: the 12 years the newsletter counts.
    pub fn month_range(&self, as_of: NaiveDate) -> (i64, i64) {
        let start = self.start.month_index();
        let end = match self.end {
            Some(end) => end.month_index(),
            None => PartialDate::from_date(as_of).month_index(),
        };
        (start, end.max(start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_of_coarser_precision_in_the_start_year_is_accepted() {
        let p = |s: &str| PartialDate::parse(s).unwrap();
        assert!(Period::new(p("2019-03"), Some(p("2019"))).is_ok());
        assert!(Period::new(p("2019-03-15"), Some(p("2019-03"))).is_ok());
        assert!(Period::new(p("2019-03"), Some(p("2018"))).is_err());
        assert!(Period::new(p("2019-03-15"), Some(p("2019-03-14"))).is_err());
    }

    #[test]
    fn parses_the_three_precisions_and_prints_them_back() {
        for s in ["2007", "2018-12", "2019-08-30"] {
            assert_eq!(PartialDate::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(
            PartialDate::parse("2019-08-30").unwrap().to_chinese(),
            "2019年8月30日"
        );
        assert_eq!(
            PartialDate::parse("2018-12").unwrap().to_chinese(),
            "2018年12月"
        );
    }

    #[test]
    fn rejects_malformed_and_impossible_dates() {
        for s in [
            "",
            "07",
            "2019-8",
            "2019-13",
            "2019-02-30",
            "2019/08/30",
            "2019-08-30-1",
            "abcd",
            "1800",
        ] {
            assert!(PartialDate::parse(s).is_err(), "{s} should be rejected");
        }
        assert!(PartialDate::parse("2020-02-29").is_ok());
    }

    #[test]
    fn a_period_cannot_end_before_it_starts() {
        let start = PartialDate::parse("2019").unwrap();
        assert!(Period::new(start, Some(PartialDate::parse("2018-12").unwrap())).is_err());
        // Same year at different precisions is fine: "2019" to "2019-06".
        assert!(Period::new(start, Some(PartialDate::parse("2019-06").unwrap())).is_ok());
    }
}
