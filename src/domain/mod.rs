//! The domain: types and rules of the registry, with no HTTP and no SQL. Everything here parses
//! once into types that cannot hold a bad value; the layers around it trust those types.

pub mod activity;
pub mod certificate;
pub mod community;
pub mod consent;
pub mod hours;
pub mod measure;
pub mod naming;
pub mod nomination;
pub mod partial_date;
pub mod photo;
pub mod policy;
pub mod resident;
pub mod roster;
pub mod service_record;
pub mod story;
pub mod summary;
pub mod user;
pub mod validation;

pub use validation::{FieldError, ValidationErrors};
