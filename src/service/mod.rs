//! Use cases every face calls (the JSON API, the public pages, the console), below them so that
//! none has to ask another face.

pub mod accounts;
pub mod auth;
pub mod certificate_pdf;
pub mod certificates;
mod codes;
pub mod issues;
pub mod notices;
pub mod photos;
pub mod registry;
pub mod search;
pub mod site;
pub mod stories;
pub mod workflow;

/// The client's address as the throttles count it (an HMAC, see `api::auth::address_hash`; [`auth::client_address`] reads it), put
/// on every request by the authentication middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);
