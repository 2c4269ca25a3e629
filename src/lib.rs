//! 有德 Youde: the recognition registry of 长寿路街道.
//!
//! Layers, lowest first; a module uses only modules of lower layers, never a sibling of its own
//! layer (checked by `tests/api/layers.rs`):
//!
//! 0. [`domain`]: types and rules; no HTTP, no SQL.
//! 1. [`store`]: sea-orm entities and queries, each taking a connection or transaction.
//! 2. [`search`] (the engines and the outbox relay), [`media`] (photo files), [`markdown`]
//!    (rendering and sanitising).
//! 3. [`config`]: the settings, turned into each part's own (`media_settings`, `search_settings`).
//! 4. [`service`]: the read models and use cases every face calls (stories, photos, notices and
//!    objections, who is asking, certificates…), so that no face asks another; beside it
//!    [`backup`], [`housekeeping`], [`demo`], [`setup`], [`roster`] (rosters in and out),
//!    [`observe`] (request ids, panics, metrics), [`middleware`] (body limits, security headers),
//!    [`listener`] (the TCP front door: header timeouts, connections per address) and [`cache`]
//!    (the page cache and what a write invalidates).
//! 5. [`state`]: what every request shares ([`state::AppState`]); [`pack`] (issue export packs).
//! 6. the faces: [`api`] (JSON API), [`web`] (public pages, feeds), [`admin`] (staff console).
//! 7. [`app`]: [`app::Application::build`] makes the state from the configuration for `serve`, the
//!    CLI and the tests alike; [`router`]: every route and the middleware around them.

pub mod admin;
pub mod api;
pub mod app;
pub mod backup;
pub mod cache;
pub mod config;
pub mod demo;
pub mod domain;
pub mod housekeeping;
pub mod listener;
pub mod markdown;
pub mod media;
pub mod middleware;
pub mod observe;
pub mod pack;
pub mod roster;
pub mod router;
pub mod search;
pub mod service;
pub mod setup;
pub mod state;
pub mod store;
pub mod web;
