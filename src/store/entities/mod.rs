//! sea-orm entities, one per table. The schema itself comes from the migrations.

pub mod activity;
pub mod api_token;
pub mod community;
pub mod consent;
pub mod resident;
pub mod search_outbox;
pub mod service_record;
