//! sea-orm entities, one per table. The schema itself comes from the migrations.

// Every file here is a module (`automod`, watched by `build.rs`): a new entity is a new file.
automod::dir!(pub "src/store/entities");
