//! Integration tests: the real application, in process, over a fresh real database per test.

mod activities;
mod communities;
mod demo;
mod health;
mod helpers;
mod residents;
mod search;
mod search_conformance;
mod service_records;
