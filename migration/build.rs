//! The migrator's list, read from `src/`: every `m<date>_<time>_<name>.rs` is a migration, applied
//! in the order of its file name (the name is also what the database records as applied). A new
//! migration is a new file, with no line to add to `lib.rs`.

use std::fmt::Write as _;

fn main() {
    println!("cargo::rerun-if-changed=src");
    let mut names: Vec<String> = std::fs::read_dir("src")
        .expect("read migration/src")
        .map(|entry| entry.expect("a folder entry").file_name())
        .filter_map(|name| name.to_str()?.strip_suffix(".rs").map(str::to_owned))
        .filter(|name| name.starts_with('m') && name[1..].starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    names.sort();
    let here = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut code = String::new();
    for name in &names {
        writeln!(
            code,
            "#[path = {:?}]\nmod {name};",
            format!("{here}/src/{name}.rs")
        )
        .unwrap();
    }
    code.push_str("\n/// Every migration, oldest first (written by `build.rs`).\n");
    code.push_str("fn listed() -> Vec<Box<dyn MigrationTrait>> {\n    vec![\n");
    for name in &names {
        writeln!(code, "        Box::new({name}::Migration),").unwrap();
    }
    code.push_str("    ]\n}\n");
    let out = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("migrations.rs");
    if std::fs::read_to_string(&out).is_ok_and(|old| old == code) {
        return;
    }
    std::fs::write(&out, code).expect("write migrations.rs");
}
