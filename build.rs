//! Build-time switches: the Meilisearch half of the search conformance suite runs when the build
//! sees `YOUDE_TEST_MEILI_URL` (CI starts a real Meilisearch and sets it); the two-node tests also
//! need `YOUDE_TEST_DATABASE_URL` (a PostgreSQL both nodes share). Without them those tests are
//! compiled as `#[ignore]`d, so the test runner reports them as ignored, never as passed.

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
}
