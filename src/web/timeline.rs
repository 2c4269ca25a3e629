//! The service timeline drawn as inline SVG: role periods as bars over the years, dated records and
//! activities as marks. Geometry is computed here; the template draws it (no HTML is built by hand).

use chrono::{Datelike, NaiveDate};

use crate::domain::partial_date::PartialDate;
use crate::domain::service_record::RecordFacts;
use crate::domain::service_record::RecordKind;

pub const WIDTH: f64 = 720.0;
const LEFT: f64 = 16.0;
const RIGHT: f64 = 16.0;
/// Each role gets a row: its name above a bar spanning its years.
const ROW_TOP: f64 = 6.0;
const LABEL_HEIGHT: f64 = 14.0;
const BAR_HEIGHT: f64 = 10.0;
const ROW_GAP: f64 = 8.0;

pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub label: String,
    pub label_x: String,
    pub label_y: String,
    pub unpaid: bool,
}

pub struct Mark {
    pub cx: String,
    pub cy: String,
    pub title: String,
}

pub struct Tick {
    pub x: String,
    pub label: String,
}

pub struct Timeline {
    pub height: String,
    pub axis_y: String,
    pub tick_label_y: String,
    pub bars: Vec<Bar>,
    pub marks: Vec<Mark>,
    pub ticks: Vec<Tick>,
    /// A text alternative for screen readers.
    pub description: String,
}

fn years(date: PartialDate) -> f64 {
    let day = date.first_day();
    day.year() as f64 + (day.ordinal0() as f64 / 365.25)
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Where a role's name starts: above its bar, moved left when the bar starts so far right that
/// the name would run out of the drawing (a CJK character at 11 px is about 11 px wide).
fn label_x(bar_x: f64, title: &str) -> f64 {
    let width = 11.0 * title.chars().count() as f64;
    bar_x.min(WIDTH - RIGHT - width).max(LEFT)
}

/// Lay out the records: `titles[i]` names `records[i]`. `None` when there is nothing to draw.
pub fn layout(records: &[RecordFacts], titles: &[String], as_of: NaiveDate) -> Option<Timeline> {
    if records.is_empty() {
        return None;
    }
    let first = records.iter().map(|r| r.period.start.year()).min()?;
    let last = records
        .iter()
        .map(|r| {
            r.period
                .end
                .unwrap_or(PartialDate::from_date(r.counted_to(as_of)))
                .year()
        })
        .max()?
        .max(first)
        + 1;
    let span = (last - first) as f64;
    let x_of = |y: f64| LEFT + (y - first as f64) / span * (WIDTH - LEFT - RIGHT);

    let mut bars = Vec::new();
    let mut dated = Vec::new();
    let mut described = Vec::new();
    for (r, title) in records.iter().zip(titles) {
        if r.kind == RecordKind::Role {
            let start = years(r.period.start);
            let end = r
                .period
                .end
                .map_or_else(|| years(PartialDate::from_date(r.counted_to(as_of))), years)
                .max(start + 0.08);
            let row = ROW_TOP + bars.len() as f64 * (LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP);
            let y = row + LABEL_HEIGHT;
            let until = match (r.period.end, r.known_until) {
                (Some(e), _) => e.to_chinese(),
                (None, Some(known)) => format!("{}（最后核实）", known.to_chinese()),
                (None, None) => "至今".to_string(),
            };
            described.push(format!(
                "{}：{}—{}",
                title,
                r.period.start.to_chinese(),
                until
            ));
            bars.push(Bar {
                x: fmt(x_of(start)),
                y: fmt(y),
                width: fmt(x_of(end) - x_of(start)),
                label: title.clone(),
                label_x: fmt(label_x(x_of(start), title)),
                label_y: fmt(row + 11.0),
                unpaid: r.unpaid,
            });
        } else {
            dated.push((
                years(r.period.start),
                format!("{} {}", r.period.start.to_chinese(), title),
            ));
        }
    }
    let marks_y = ROW_TOP + bars.len() as f64 * (LABEL_HEIGHT + BAR_HEIGHT + ROW_GAP) + 8.0;
    let marks = dated
        .into_iter()
        .map(|(at, title)| Mark {
            cx: fmt(x_of(at)),
            cy: fmt(marks_y),
            title,
        })
        .collect();
    let axis_y = marks_y + 14.0;
    let step = if span > 24.0 {
        5
    } else if span > 10.0 {
        2
    } else {
        1
    };
    let ticks = (first..=last)
        .filter(|y| (y - first) % step == 0)
        .map(|y| Tick {
            x: fmt(x_of(y as f64)),
            label: y.to_string(),
        })
        .collect();
    Some(Timeline {
        height: fmt(axis_y + 22.0),
        axis_y: fmt(axis_y),
        tick_label_y: fmt(axis_y + 16.0),
        bars,
        marks,
        ticks,
        description: described.join("；"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::partial_date::Period;

    fn record(kind: RecordKind, start: &str, end: Option<&str>) -> RecordFacts {
        let p = |s: &str| PartialDate::parse(s).unwrap();
        RecordFacts {
            kind,
            period: Period::new(p(start), end.map(p)).unwrap(),
            unpaid: true,
            measures: vec![],
            known_until: None,
        }
    }

    #[test]
    fn roles_become_bars_and_dated_records_marks() {
        let records = [
            record(RecordKind::Role, "2007", Some("2019")),
            record(RecordKind::Hosting, "2019-08-30", None),
        ];
        let titles = ["业委会委员".to_string(), "接待参访".to_string()];
        let t = layout(
            &records,
            &titles,
            NaiveDate::from_ymd_opt(2019, 9, 1).unwrap(),
        )
        .unwrap();
        assert_eq!(t.bars.len(), 1);
        assert_eq!(t.marks.len(), 1);
        assert_eq!(t.ticks.first().unwrap().label, "2007");
        assert_eq!(t.ticks.last().unwrap().label, "2019");
        assert!(t.description.contains("业委会委员：2007年—2019年"));
        // The bar spans the axis from 2007 to 2019 of 2007..2020.
        let width: f64 = t.bars[0].width.parse().unwrap();
        assert!((width - 12.0 / 13.0 * (WIDTH - 32.0)).abs() < 1.0);
    }

    #[test]
    fn nothing_to_draw_without_records() {
        assert!(layout(&[], &[], NaiveDate::from_ymd_opt(2019, 9, 1).unwrap()).is_none());
    }
}
