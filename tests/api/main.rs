//! Integration tests: the real application, in process, over a fresh real database per test.

// Every file here is a module (`automod`, watched by `build.rs`): a new test module is a new file.
automod::dir!("tests/api");
