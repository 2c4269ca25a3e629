//! 有德 Youde: the recognition registry of 长寿路街道.
//!
//! Layers, each in its own module: [`domain`] (types and rules; no HTTP, no SQL) · [`store`]
//! (sea-orm queries) · [`search`] (the search engines and the outbox relay that feeds them) ·
//! [`api`] (the JSON API) · [`web`] (pages). [`app`] wires them together, [`listener`] guards the TCP front door and
//! [`config`] reads the settings.

pub mod admin;
pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod domain;
pub mod listener;
pub mod media;
pub mod pack;
pub mod search;
pub mod setup;
pub mod store;
pub mod web;
