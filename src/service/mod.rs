//! Use cases every face calls (the JSON API, the public pages, the console), below them so that
//! none has to ask another face.

// Every file here is a module (`automod`, watched by `build.rs`): a new use case is a new file.
automod::dir!(pub "src/service");

/// The client's address as the throttles count it (an HMAC, see `api::auth::address_hash`; [`auth::client_address`] reads it), put
/// on every request by the authentication middleware.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);
