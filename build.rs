//! Build-time work, all of it cheap:
//!
//! - **Test switches.** The Meilisearch half of the search conformance suite runs when the build
//!   sees `YOUDE_TEST_MEILI_URL` (CI starts a real Meilisearch and sets it); the two-node tests
//!   also need `YOUDE_TEST_DATABASE_URL` (a PostgreSQL both nodes share). Without them those tests
//!   are compiled as `#[ignore]`d, so the test runner reports them as ignored, never as passed.
//! - **Registries read from the folders.** Every file of a layer's folder is a module
//!   (`automod::dir!` in its `mod.rs`), so a new resource adds files and edits no list. Two lists
//!   are written here from the same folders: the API's resources (each `#[OpenApi] impl` in
//!   `src/api/*.rs`) for the OpenAPI service, and the console's pages (each `pub fn routes` in
//!   `src/admin/*.rs`) for its router. `src/` and `tests/api/` are watched, because cargo notices
//!   a new file only when a build script asks it to.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(youde_test_meili)");
    println!("cargo::rerun-if-env-changed=YOUDE_TEST_MEILI_URL");
    println!("cargo::rustc-check-cfg=cfg(youde_test_postgres)");
    println!("cargo::rerun-if-env-changed=YOUDE_TEST_DATABASE_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("YOUDE_TEST_MEILI_URL").is_ok_and(|url| !url.is_empty()) {
        println!("cargo::rustc-cfg=youde_test_meili");
    }
    if std::env::var("YOUDE_TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        println!("cargo::rustc-cfg=youde_test_postgres");
    }
    // All of `src/` and `tests/api/`: a file added to a folder whose files are modules (those
    // `automod::dir!` reads) changes a list; and the Dockerfile touches `src/lib.rs` once the
    // source is in.
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=tests/api");
    if !Path::new("src/api").is_dir() {
        // The Dockerfile's dependency layer builds against stand-in crate roots (an empty
        // `src/lib.rs`) that include no lists.
        return;
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    write(&out.join("api_resources.rs"), &api_resources());
    write(&out.join("console_pages.rs"), &console_pages());
}

/// The modules of `dir` (its `.rs` files but `mod.rs`), sorted, with their text.
fn modules(dir: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {dir}: {e}"))
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .filter(|path| path.file_stem().is_some_and(|s| s != "mod"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            (name, text)
        })
        .collect();
    found.sort();
    found
}

/// `fn resources()`: every `#[OpenApi] impl` of `src/api`, as one (nested) tuple, for
/// `api::service`. poem-openapi implements its trait for tuples of up to 16, so the resources go
/// in groups of eight.
fn api_resources() -> String {
    let mut types = Vec::new();
    for (module, text) in modules("src/api") {
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !line.starts_with("#[OpenApi") {
                continue;
            }
            let imp = lines
                .find(|l| l.starts_with("impl "))
                .unwrap_or_else(|| panic!("src/api/{module}.rs: #[OpenApi] without an impl"));
            let ty: String = imp["impl ".len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            types.push(format!("{module}::{ty}"));
        }
    }
    assert!(!types.is_empty(), "src/api has no #[OpenApi] impl");
    let groups: Vec<String> = types
        .chunks(8)
        .map(|group| format!("({},)", group.join(", ")))
        .collect();
    format!(
        "/// Every resource of the API (written by `build.rs` from `src/api`).\n\
         fn resources() -> impl poem_openapi::OpenApi {{\n    ({},)\n}}\n",
        groups.join(", ")
    )
}

/// `fn pages(route)`: every console module of `src/admin` with a `pub fn routes` adds its routes
/// (one whose `routes` is not `fn(Route) -> Route` fails to compile, rather than going missing).
fn console_pages() -> String {
    let adders: Vec<String> = modules("src/admin")
        .into_iter()
        .filter(|(_, text)| text.lines().any(|l| l.starts_with("pub fn routes(")))
        .map(|(module, _)| format!("{module}::routes"))
        .collect();
    format!(
        "/// Every console page's routes (written by `build.rs` from `src/admin`).\n\
         fn pages(route: Route) -> Route {{\n    \
         let adders: [fn(Route) -> Route; {}] = [{}];\n    \
         adders.into_iter().fold(route, |route, add| add(route))\n}}\n",
        adders.len(),
        adders.join(", ")
    )
}

/// Writes `text` to `path` unless it already holds it (so an unchanged list rebuilds nothing).
fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return;
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}
