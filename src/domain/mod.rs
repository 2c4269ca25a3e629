//! The domain: types and rules of the registry, with no HTTP and no SQL. Everything here parses
//! once into types that cannot hold a bad value; the layers around it trust those types.

// Every file here is a module (`automod`, watched by `build.rs`): a new type is a new file.
automod::dir!(pub "src/domain");

pub use validation::{FieldError, ValidationErrors};

/// The mark every draft carries (`ResidentDraft`, `StoryDraft`, …): only the domain makes one,
/// in the draft's `parse`, so a draft cannot be built around its rules by filling in its fields.
/// Values read back from the database were parsed on their way in; the code that turns such a row
/// into a draft again (to compare an import's row with what is stored) says so with
/// [`Parsed::trusting_stored`] — `grep trusting_stored` lists every place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed(());

impl Parsed {
    /// For a draft rebuilt from a stored row, which passed `parse` when it was written.
    pub fn trusting_stored() -> Self {
        Parsed(())
    }
}
