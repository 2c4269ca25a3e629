//! Measures: approximate quantities as the newsletter states them — "38 批次", "60几个小区"
//! (at least 60), "100多万元" (more than 1,000,000) — and their Chinese rendering.

use std::fmt;
use std::str::FromStr;

/// How exact a quantity is. "60几个" and "100多万" are `AtLeast`; "约 200 人" is `About`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Qualifier {
    Exact,
    AtLeast,
    About,
}

impl Qualifier {
    pub const ALL: [Qualifier; 3] = [Qualifier::Exact, Qualifier::AtLeast, Qualifier::About];

    pub fn code(self) -> &'static str {
        match self {
            Qualifier::Exact => "exact",
            Qualifier::AtLeast => "at_least",
            Qualifier::About => "about",
        }
    }

    /// The qualifier of a sum: one approximate part makes the total approximate, and "about"
    /// is weaker than "at least" (an estimate may be below the true value).
    pub fn combine(self, other: Qualifier) -> Qualifier {
        self.max(other)
    }
}

impl FromStr for Qualifier {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Qualifier::ALL.into_iter().find(|q| q.code() == s).ok_or(())
    }
}

/// What a quantity counts. A closed list, so that totals add like with like
/// (38 + 4 + 10 hosted visits → 52 批次) and every unit has its Chinese wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// 接待参访 批次: hosted visits and delegations.
    VisitBatches,
    /// 节约资金 元: money saved.
    YuanSaved,
    /// 元: money handled or raised (not saved).
    Yuan,
    /// 个小区: compounds (surveyed, served).
    Compounds,
    /// 户: households.
    Households,
    /// 人 / 人次: people served or taking part.
    People,
    /// 小时: volunteer hours.
    Hours,
    /// 天.
    Days,
    /// 个月.
    Months,
    /// %: shares such as the 89.2% owners' vote.
    Percent,
    /// 份 / 项: documents, items written or produced.
    Items,
}

impl Unit {
    pub const ALL: [Unit; 11] = [
        Unit::VisitBatches,
        Unit::YuanSaved,
        Unit::Yuan,
        Unit::Compounds,
        Unit::Households,
        Unit::People,
        Unit::Hours,
        Unit::Days,
        Unit::Months,
        Unit::Percent,
        Unit::Items,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Unit::VisitBatches => "visit_batches",
            Unit::YuanSaved => "yuan_saved",
            Unit::Yuan => "yuan",
            Unit::Compounds => "compounds",
            Unit::Households => "households",
            Unit::People => "people",
            Unit::Hours => "hours",
            Unit::Days => "days",
            Unit::Months => "months",
            Unit::Percent => "percent",
            Unit::Items => "items",
        }
    }

    /// The counter word that follows the number.
    fn counter(self) -> &'static str {
        match self {
            Unit::VisitBatches => "批次",
            Unit::YuanSaved | Unit::Yuan => "元",
            Unit::Compounds => "个小区",
            Unit::Households => "户",
            Unit::People => "人",
            Unit::Hours => "小时",
            Unit::Days => "天",
            Unit::Months => "个月",
            Unit::Percent => "%",
            Unit::Items => "项",
        }
    }

    /// Whether totals of this unit across records mean something (a sum of percentages does not).
    pub fn is_additive(self) -> bool {
        !matches!(self, Unit::Percent)
    }

    fn is_money(self) -> bool {
        matches!(self, Unit::Yuan | Unit::YuanSaved)
    }
}

impl FromStr for Unit {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Unit::ALL.into_iter().find(|u| u.code() == s).ok_or(())
    }
}

/// A validated quantity: finite, not negative, not absurdly large.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measure {
    value: f64,
    unit: Unit,
    qualifier: Qualifier,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeasureError {
    #[error("数值必须是不小于 0 的有限数")]
    InvalidValue,
    #[error("未知的单位“{0}”")]
    UnknownUnit(String),
    #[error("未知的限定词“{0}”：应为 exact、at_least 或 about")]
    UnknownQualifier(String),
    #[error("百分比不能超过 100")]
    PercentOver100,
}

impl Measure {
    pub const MAX_VALUE: f64 = 1e15;

    pub fn new(value: f64, unit: Unit, qualifier: Qualifier) -> Result<Self, MeasureError> {
        if !value.is_finite() || !(0.0..=Self::MAX_VALUE).contains(&value) {
            return Err(MeasureError::InvalidValue);
        }
        if unit == Unit::Percent && value > 100.0 {
            return Err(MeasureError::PercentOver100);
        }
        Ok(Self {
            value,
            unit,
            qualifier,
        })
    }

    /// Parse the wire form (`unit` and `qualifier` codes).
    pub fn parse(value: f64, unit: &str, qualifier: &str) -> Result<Self, MeasureError> {
        let unit = unit
            .parse()
            .map_err(|_| MeasureError::UnknownUnit(unit.to_string()))?;
        let qualifier = qualifier
            .parse()
            .map_err(|_| MeasureError::UnknownQualifier(qualifier.to_string()))?;
        Self::new(value, unit, qualifier)
    }

    pub fn value(&self) -> f64 {
        self.value
    }

    pub fn unit(&self) -> Unit {
        self.unit
    }

    pub fn qualifier(&self) -> Qualifier {
        self.qualifier
    }

    /// Compact Chinese: "38批次", "60余个小区", "100余万元", "30万元", "约200人", "89.2%".
    pub fn to_chinese(&self) -> String {
        let (number, counter) = amount_parts(self.value, self.unit);
        match self.qualifier {
            Qualifier::Exact => format!("{number}{counter}"),
            Qualifier::AtLeast => format!("{number}余{counter}"),
            Qualifier::About => format!("约{number}{counter}"),
        }
    }

    /// Spaced rendering for headline lines: "52 批次", "30 万元", "60余个", "100余万元".
    /// An at-least amount keeps 余 bound to its number, as Chinese writes it.
    pub fn headline_amount(&self) -> String {
        let (number, counter) = amount_parts(self.value, self.unit);
        // Headlines name the thing counted in their label ("排摸小区"), so 个小区 becomes 个.
        let counter = if self.unit == Unit::Compounds {
            "个"
        } else {
            counter
        };
        match self.qualifier {
            Qualifier::Exact => format!("{number} {counter}"),
            Qualifier::AtLeast => format!("{number}余{counter}"),
            Qualifier::About => format!("约 {number} {counter}"),
        }
    }
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_chinese())
    }
}

/// Number and counter, with money of 10,000 yuan or more written in 万 as Chinese readers expect.
fn amount_parts(value: f64, unit: Unit) -> (String, &'static str) {
    if unit.is_money() && value >= 10_000.0 {
        (format_number(value / 10_000.0), "万元")
    } else {
        (format_number(value), unit.counter())
    }
}

/// At most two decimals, no trailing zeros: 30 → "30", 89.2 → "89.2", 1.255 → "1.26".
pub fn format_number(value: f64) -> String {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.fract() == 0.0 {
        format!("{}", rounded as i64)
    } else {
        let s = format!("{rounded:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(value: f64, unit: Unit, q: Qualifier) -> Measure {
        Measure::new(value, unit, q).unwrap()
    }

    #[test]
    fn renders_the_newsletters_quantities() {
        assert_eq!(
            m(60.0, Unit::Compounds, Qualifier::AtLeast).to_chinese(),
            "60余个小区"
        );
        assert_eq!(
            m(60.0, Unit::Compounds, Qualifier::AtLeast).headline_amount(),
            "60余个"
        );
        assert_eq!(
            m(1_000_000.0, Unit::Yuan, Qualifier::AtLeast).to_chinese(),
            "100余万元"
        );
        assert_eq!(
            m(300_000.0, Unit::YuanSaved, Qualifier::Exact).headline_amount(),
            "30 万元"
        );
        assert_eq!(
            m(38.0, Unit::VisitBatches, Qualifier::Exact).to_chinese(),
            "38批次"
        );
        assert_eq!(
            m(89.2, Unit::Percent, Qualifier::Exact).to_chinese(),
            "89.2%"
        );
        assert_eq!(
            m(200.0, Unit::People, Qualifier::About).to_chinese(),
            "约200人"
        );
        assert_eq!(
            m(5_000.0, Unit::Yuan, Qualifier::Exact).to_chinese(),
            "5000元"
        );
    }

    #[test]
    fn refuses_negative_infinite_and_unknown_values() {
        assert_eq!(
            Measure::new(-1.0, Unit::Hours, Qualifier::Exact),
            Err(MeasureError::InvalidValue)
        );
        assert_eq!(
            Measure::new(f64::NAN, Unit::Hours, Qualifier::Exact),
            Err(MeasureError::InvalidValue)
        );
        assert_eq!(
            Measure::new(101.0, Unit::Percent, Qualifier::Exact),
            Err(MeasureError::PercentOver100)
        );
        assert!(matches!(
            Measure::parse(1.0, "furlongs", "exact"),
            Err(MeasureError::UnknownUnit(_))
        ));
        assert!(matches!(
            Measure::parse(1.0, "hours", "roughly"),
            Err(MeasureError::UnknownQualifier(_))
        ));
    }

    #[test]
    fn a_sum_is_as_weak_as_its_weakest_part() {
        assert_eq!(Qualifier::Exact.combine(Qualifier::Exact), Qualifier::Exact);
        assert_eq!(
            Qualifier::Exact.combine(Qualifier::AtLeast),
            Qualifier::AtLeast
        );
        assert_eq!(
            Qualifier::AtLeast.combine(Qualifier::About),
            Qualifier::About
        );
    }
}
