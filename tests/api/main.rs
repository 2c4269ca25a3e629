//! Integration tests: the real application, in process, over a fresh real database per test.

mod accounts;
mod activities;
mod backup;
mod communities;
mod console;
mod contract;
mod demo;
mod editorial;
mod health;
mod helpers;
mod housekeeping;
mod layers;
mod leaks;
mod operations;
mod nodes;
mod page_cache;
mod pages;
mod photos;
mod residents;
mod roles;
mod search;
mod search_conformance;
mod security;
mod service_records;
mod workflow;
