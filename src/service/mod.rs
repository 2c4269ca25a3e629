//! Use cases every face calls (the JSON API, the public pages, the console), below them so that
//! none has to ask another face.

pub mod certificate_pdf;
pub mod certificates;
pub mod notices;

/// The client's address as the throttles count it (an HMAC, see `api::auth::address_hash`), put
/// on every request by the authentication middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);
