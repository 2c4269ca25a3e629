//! Certificates as the public checks them (验证), shared by `GET /api/v1/certificates/verify…`
//! and the page `/verify/{code}`, and the [`Desk`] the certificate routes work with.
//!
//! A look-up states only what the certificate itself states (name, honour, citation line, issuing
//! body, date, number; for a 志愿服务记录证明 the period, the hours and the masked ID number as
//! printed) and its standing; nothing private. An unknown code and a number that does
//! not go with the name get the same answer, and failed look-ups are throttled per client
//! address the way objections are: counted and recorded under the address's lock.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::DatabaseConnection;

use crate::domain::certificate::{self, HoursInPeriod, Settings, Standing};
use crate::media::storage::MediaStore;
use crate::store::entities::certificate::Model;
use crate::store::entities::service_record::Model as RecordModel;
use crate::store::{certificates, service_records, throttle, StoreResult};

/// Failed look-ups one address may make within [`MISS_WINDOW`]; then every look-up from it gets
/// 429 until the window has passed.
pub const MISSES_PER_ADDRESS_PER_HOUR: u64 = 20;
pub const MISS_WINDOW: Duration = Duration::hours(1);

/// What the certificate routes need of the application: the database, the issuing settings, the
/// public address (for verification links and QR codes) and the time.
#[derive(Clone)]
pub struct Desk {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// `YOUDE_PUBLIC_URL`, without a trailing slash.
    pub public_url: Arc<str>,
    pub clock: Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>,
    /// Where the seal's file is kept (the media store).
    pub media: MediaStore,
    /// The CJK font for PDFs, looked for on first use.
    pub pdf_font: Arc<std::sync::OnceLock<Result<super::pdf_font::PdfFont, String>>>,
}

impl Desk {
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// Today in Shanghai (UTC+8): the date a certificate is issued and checked on.
    pub fn today(&self) -> NaiveDate {
        shanghai_date(self.now())
    }

    pub fn verify_url(&self, code: &str) -> String {
        verify_url(&self.public_url, code)
    }

    /// The seal in use: its PNG. `None` when no seal was uploaded; when the file cannot be
    /// read, logged, and `None`: the certificate prints without it.
    pub async fn seal_png(&self) -> StoreResult<Option<Vec<u8>>> {
        let Some(seal) = certificates::current_seal(&self.db).await? else {
            return Ok(None);
        };
        match self.media.get(&seal.object_key).await {
            Ok(Some(png)) => Ok(Some(png.to_vec())),
            Ok(None) => {
                tracing::error!(key = %seal.object_key, "the seal's file is missing from the media store");
                Ok(None)
            }
            Err(err) => {
                tracing::error!(key = %seal.object_key, error = %err, "cannot read the seal's file");
                Ok(None)
            }
        }
    }

    /// The seal as a `data:image/png;base64,…` address, for a printed certificate to show
    /// inline (the file itself is never served).
    pub async fn seal_data_uri(&self) -> StoreResult<Option<String>> {
        use base64::Engine;
        Ok(self.seal_png().await?.map(|png| {
            format!(
                "data:image/png;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(png)
            )
        }))
    }

    /// The CJK font for PDFs (`YOUDE_CERT_FONT`, else one found on the system), read once; the
    /// reason when there is none.
    pub fn pdf_font(&self) -> Result<super::pdf_font::PdfFont, String> {
        self.pdf_font
            .get_or_init(|| {
                let found = super::pdf_font::find_font(self.settings.font.as_deref());
                match &found {
                    Ok(font) => tracing::info!(font = ?font, "certificate PDFs use this font"),
                    Err(reason) => tracing::warn!(%reason, "no font for certificate PDFs"),
                }
                found
            })
            .clone()
    }
}

/// The public verification address of a code, as the QR code carries it.
pub fn verify_url(public_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_url.trim_end_matches('/'))
}

pub fn shanghai_date(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(8)).date_naive()
}

/// `荣誉证书` for a recognition.
pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "recognition" => "荣誉证书",
        "hours" => "志愿服务记录证明",
        _ => "证书",
    }
}

/// A certificate as anyone may see it by its code or its number and name.
#[derive(Debug, Clone)]
pub struct Verified {
    pub number: String,
    pub kind: String,
    pub holder_name: String,
    pub title: String,
    pub category: String,
    pub citation: String,
    pub issuing_body: String,
    pub signatory: String,
    pub issued_on: NaiveDate,
    pub standing: Standing,
    /// The date (Shanghai) it was revoked, when it was.
    pub revoked_on: Option<NaiveDate>,
    /// The number of the certificate that replaced it, when it was reissued.
    pub superseded_by_number: Option<String>,
    /// The day the standing was checked (today, Shanghai).
    pub checked_on: NaiveDate,
    pub verify_url: String,
    /// 志愿服务记录证明 only: the period, the hours in it, the ID number as printed (masked).
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub hours: Option<f64>,
    pub masked_id_number: Option<String>,
}

pub async fn verified(
    desk: &Desk,
    db: &impl sea_orm::ConnectionTrait,
    m: Model,
) -> StoreResult<Verified> {
    let superseded_by_number = certificates::successor_number(db, &m).await?;
    Ok(Verified {
        standing: Standing::of(m.revoked_at.is_some(), m.superseded_by.is_some()),
        revoked_on: m.revoked_at.map(shanghai_date),
        superseded_by_number,
        checked_on: desk.today(),
        verify_url: desk.verify_url(&m.verification_code),
        number: m.number,
        kind: m.kind,
        holder_name: m.holder_name,
        title: m.title,
        category: m.category,
        citation: m.citation,
        issuing_body: m.issuing_body,
        signatory: m.signatory,
        issued_on: m.issued_on,
        period_start: m.period_start,
        period_end: m.period_end,
        hours: m.hours,
        masked_id_number: m.masked_id_number,
    })
}

/// What a 志愿服务记录证明 for a resident over `from..=to` would count: the records with hours
/// lying wholly in the period, those reaching over its bounds (left out), and the total.
#[derive(Debug, Clone)]
pub struct HoursStatement {
    pub counted: Vec<(RecordModel, f64)>,
    pub left_out: Vec<(RecordModel, f64)>,
    pub total: f64,
}

impl HoursStatement {
    /// The service line a certificate prints: the distinct titles of the counted records, the
    /// first five, `等 N 项` when there are more.
    pub fn service_line(&self) -> String {
        let mut titles: Vec<&str> = Vec::new();
        for (r, _) in &self.counted {
            if !titles.contains(&r.title.as_str()) {
                titles.push(&r.title);
            }
        }
        let shown = titles
            .iter()
            .take(5)
            .copied()
            .collect::<Vec<_>>()
            .join("、");
        if titles.len() > 5 {
            format!("{shown}等 {} 项", titles.len())
        } else {
            shown
        }
    }
}

/// Count a resident's hours over `from..=to` from their service records (all of them, as the
/// summary and the star level count them).
pub async fn hours_statement(
    db: &impl sea_orm::ConnectionTrait,
    resident_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<HoursStatement> {
    let rows = service_records::list_for_resident(db, resident_id).await?;
    let facts = rows
        .iter()
        .map(service_records::facts)
        .collect::<Result<Vec<_>, _>>()?;
    let counted = HoursInPeriod::count(&facts, from, to);
    let pick = |indexes: &[usize]| {
        indexes
            .iter()
            .map(|&i| {
                let hours = certificate::record_hours(&facts[i]).unwrap_or_default();
                (rows[i].clone(), hours)
            })
            .collect::<Vec<_>>()
    };
    Ok(HoursStatement {
        counted: pick(&counted.counted),
        left_out: pick(&counted.left_out),
        total: counted.total,
    })
}

/// The outcome of a public look-up.
#[derive(Debug)]
pub enum Lookup {
    Found(Box<Verified>),
    /// 未找到该证书: the same answer whether the number exists or not.
    NotFound,
    /// Too many failed look-ups from this address lately.
    Throttled,
}

/// What the public typed: the code from the QR code, or a number with the holder's name.
pub enum Query<'a> {
    Code(&'a str),
    NumberAndName { number: &'a str, name: &'a str },
}

/// Look a certificate up for the public, counting failures of `address` under its throttle lock.
pub async fn look_up(desk: &Desk, address: &str, query: Query<'_>) -> StoreResult<Lookup> {
    let now = desk.now();
    let lock = throttle::lock(&desk.db, &[format!("certificates:{address}")]).await?;
    if certificates::misses_since(&lock, address, now - MISS_WINDOW).await?
        >= MISSES_PER_ADDRESS_PER_HOUR
    {
        lock.release().await?;
        return Ok(Lookup::Throttled);
    }
    let found = match query {
        Query::Code(typed) => match certificate::parse_verification_code(typed) {
            Some(code) => certificates::by_code(&lock, &code).await?,
            None => None,
        },
        Query::NumberAndName { number, name } => {
            let number = certificate::normalise_number(number);
            certificates::by_number_and_name(&lock, &number, name.trim()).await?
        }
    };
    let answer = match found {
        Some(m) => Lookup::Found(Box::new(verified(desk, &lock, m).await?)),
        None => {
            certificates::record_miss(&lock, address, now, now - MISS_WINDOW).await?;
            Lookup::NotFound
        }
    };
    lock.release().await?;
    Ok(answer)
}
