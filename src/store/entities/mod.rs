//! sea-orm entities, one per table. The schema itself comes from the migrations.

pub mod activity;
pub mod api_token;
pub mod community;
pub mod consent;
pub mod photo;
pub mod photo_file;
pub mod photo_resident;
pub mod resident;
pub mod service_record;
