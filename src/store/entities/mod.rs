//! sea-orm entities, one per table. The schema itself comes from the migrations.

pub mod activity;
pub mod api_token;
pub mod audit_event;
pub mod category;
pub mod community;
pub mod consent;
pub mod import;
pub mod issue_story;
pub mod login_attempt;
pub mod newsletter_issue;
pub mod nomination;
pub mod nomination_statement;
pub mod objection;
pub mod photo;
pub mod photo_file;
pub mod photo_resident;
pub mod public_notice;
pub mod recognition;
pub mod resident;
pub mod search_outbox;
pub mod service_record;
pub mod session;
pub mod story;
pub mod story_resident;
pub mod user;
