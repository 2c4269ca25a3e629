//! The house's layers, checked against the code: a module may use modules of lower layers only,
//! never one of its own layer (siblings such as `web` and `api` stay apart) or above.
//!
//! ```text
//! 7  app, router                      wiring: building the state, routes
//! 6  api · web · admin                the three faces (JSON API, public pages, staff console)
//! 5  state · pack                     what every request shares (`AppState`); issue export packs
//! 4  service · demo · setup · …       read models and use cases every face calls; the page cache,
//!                                     body limits and security headers
//! 3  config                           settings, turned into each part's own settings
//! 2  search · media · markdown        engines, photo files, rendering
//! 1  store                            sea-orm queries
//! 0  domain                           types and rules, no HTTP, no SQL
//! ```
//!
//! The imports are read from `src/` as text (`crate::x` paths, including `use crate::{x, y}`
//! groups). `KNOWN` lists upward imports that are allowed for now; it is empty — the faces share
//! read models and use cases through `service`, never through each other — and it should stay so:
//! the test fails for any upward import not listed there, and for a listed one that no longer
//! exists.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("store", 1),
    ("search", 2),
    ("media", 2),
    ("markdown", 2),
    ("config", 3),
    ("service", 4),
    ("backup", 4),
    ("housekeeping", 4),
    ("observe", 4),
    ("listener", 4),
    ("middleware", 4),
    ("demo", 4),
    ("setup", 4),
    ("roster", 4),
    ("cache", 4),
    ("state", 5),
    ("pack", 5),
    ("api", 6),
    ("web", 6),
    ("admin", 6),
    ("app", 7),
    ("router", 7),
];

/// Upward or sideways imports that exist today and are on their way out (file, module it uses).
const KNOWN: &[(&str, &str)] = &[];

fn layer(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, layer)| *layer)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The top-level modules a file names through `crate::`.
fn used_modules(source: &str) -> BTreeSet<String> {
    let mut used = BTreeSet::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // `crate::{a, b::c, d::{e, f}}`: the names at depth 0.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        used.insert(ident(&group[i..]).to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            used.insert(ident(rest).to_string());
        }
    }
    used.retain(|m| !m.is_empty());
    used
}

/// Every import that points up or sideways: `(file relative to src/, module)`.
fn upward_imports() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let own = relative.split('/').next().unwrap().trim_end_matches(".rs");
        if own == "lib" || own == "main" || own == "bin" {
            continue; // the crate root and the binaries sit above everything
        }
        let own_layer = layer(own).unwrap_or_else(|| {
            panic!("src/{relative}: module `{own}` has no layer: add it to LAYERS in tests/api/layers.rs")
        });
        let source = std::fs::read_to_string(&file).expect("read source");
        for module in used_modules(&source) {
            if module == own {
                continue;
            }
            let Some(their_layer) = layer(&module) else {
                panic!("src/{relative} uses crate::{module}, which has no layer in tests/api/layers.rs");
            };
            if their_layer >= own_layer {
                found.insert((relative.clone(), module));
            }
        }
    }
    found
}

#[test]
fn the_import_reader_sees_single_paths_and_groups() {
    let source = "use crate::domain::x;\nuse crate::{store::a, search::{b, c}, media};\nfn f() { crate::api::g() }";
    let used: Vec<_> = used_modules(source).into_iter().collect();
    assert_eq!(used, ["api", "domain", "media", "search", "store"]);
}

#[test]
fn no_module_imports_its_own_layer_or_one_above() {
    let found = upward_imports();
    let known: BTreeSet<(String, String)> = KNOWN
        .iter()
        .map(|(f, m)| (f.to_string(), m.to_string()))
        .collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        new.is_empty(),
        "imports that run up or sideways across the layers (move the shared code down instead): {new:?}"
    );
    assert!(
        gone.is_empty(),
        "these upward imports are gone: remove them from KNOWN in tests/api/layers.rs: {gone:?}"
    );
}
