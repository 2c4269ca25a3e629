//! The state every request shares: the database, the engines and stores, the settings the
//! handlers read. It is made in one place, `app::Application::build`, from the configuration.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::DatabaseConnection;

use crate::cache::PageCache;
use crate::media::Media;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// `YOUDE_ADMIN_TOKEN`, accepted as the first admin's bearer token when set.
    pub admin_token: Option<Arc<str>>,
    /// Largest JSON request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Every cookie gets `Secure` when the public URL is https.
    pub secure_cookies: bool,
    /// Default length of a public notice (公示期), in days.
    pub notice_days: u32,
    /// The key client addresses are HMAC'd with for the throttles (`store::secrets`).
    pub address_key: Arc<[u8]>,
    /// `YOUDE_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the real client.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    pub clock: Clock,
    /// `YOUDE_CERT_*`: who issues certificates and how they are numbered.
    pub certificates: Arc<crate::domain::certificate::Settings>,
    /// `YOUDE_PUBLIC_URL`: canonical links, sitemap, QR codes.
    pub public_url: Arc<str>,
    /// `YOUDE_SITES`: host names that serve a 街道's or a district's site at their root.
    pub sites: Arc<crate::domain::site::HostSites>,
    pub pages: Arc<PageCache>,
    /// Photo storage and upload limits.
    pub media: Media,
    /// The search engine and the outbox relay that feeds it.
    pub search: crate::search::Search,
    /// Request counts and latencies, served at `/metrics`.
    pub metrics: Arc<crate::observe::Metrics>,
    /// `YOUDE_METRICS_ALLOW`: the only peers that may read `/metrics`.
    pub metrics_allow: Arc<[std::net::IpAddr]>,
}

/// The time, for everything that compares against deadlines (公示 windows, sessions, throttles).
/// An adjustable offset lets tests move to "after the window closed" without waiting.
#[derive(Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Today in Shanghai's calendar (UTC+8, no daylight saving).
    pub fn today(&self) -> NaiveDate {
        (self.now() + Duration::hours(8)).date_naive()
    }

    pub fn advance(&self, by: Duration) {
        self.offset_seconds
            .fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}
