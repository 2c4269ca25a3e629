//! What a render read: the read functions below the pages name the rows and lists they return,
//! and the page cache tags the rendered page with them, so that a write invalidates exactly the
//! pages that read what it changed (`cache::changes` derives a write's tags from its audit
//! event). Outside a recording (API reads, the console) naming costs one task-local look-up.
//!
//! Tags: `resident:5` is a row and everything hanging off it (its records, honours, photos, the
//! stories naming it); `list:resident` is which rows an unscoped list holds;
//! `list:resident@community:3` is which rows a list scoped to one community holds.

use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    static READ: RefCell<Vec<String>>;
}

/// Run `f`, collecting the tags of everything it read.
pub async fn recording<F: Future>(f: F) -> (F::Output, Vec<String>) {
    READ.scope(RefCell::new(Vec::new()), async {
        let out = f.await;
        let tags = READ.with(|r| std::mem::take(&mut *r.borrow_mut()));
        (out, tags)
    })
    .await
}

fn touch(tag: impl FnOnce() -> String) {
    let _ = READ.try_with(|r| r.borrow_mut().push(tag()));
}

/// A row (and what hangs off it) was read, or looked for.
pub fn row(kind: &'static str, id: i64) {
    touch(|| format!("{kind}:{id}"));
}

/// Which list a read returned rows of.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// An unscoped list (the honour roll, the sitemap, the feeds).
    All,
    /// A list of what is in one community.
    Community(i64),
    /// What hangs off one owner row (a resident's records, a story's photos): a change to any of
    /// them names the owner, so the owner's tag covers the list.
    Owner(&'a str, i64),
}

/// Rows of a list were read: each row, and the list's membership.
pub fn rows(kind: &'static str, scope: Scope<'_>, ids: impl IntoIterator<Item = i64>) {
    match scope {
        Scope::All => touch(|| format!("list:{kind}")),
        Scope::Community(c) => touch(|| format!("list:{kind}@community:{c}")),
        Scope::Owner(owner, id) => touch(|| format!("{owner}:{id}")),
    }
    for id in ids {
        row(kind, id);
    }
}

/// What hangs off each of these owners was read, by one query for all of them (a page's
/// portraits, a community page's records).
pub fn owned_by(kind: &'static str, owner: &str, ids: &[i64]) {
    for id in ids {
        rows(kind, Scope::Owner(owner, *id), []);
    }
}
