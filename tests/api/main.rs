//! Integration tests: the real application, in process, over a fresh real database per test.

mod accounts;
mod activities;
mod communities;
mod console;
mod demo;
mod editorial;
mod erasure;
mod guarantees;
mod health;
mod helpers;
mod known_until;
mod leaks;
mod limits;
mod notice_integrity;
mod pages;
mod photos;
mod residents;
mod roles;
mod search;
mod search_conformance;
mod service_records;
mod small_guarantees;
mod verification;
mod workflow;
