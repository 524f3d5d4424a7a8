//! The book (`book/`): every chapter is compiled as doctests, and the built
//! book has no broken link, anchor or image.
//!
//! - [`every_chapter_is_a_doctest`]: each chapter `SUMMARY.md` names is
//!   listed in `examples/src/lib.rs`'s `book` module, whose doctests compile
//!   and run every Rust code block of the book.
//! - [`every_image_a_chapter_names_exists`]: a quick check without a
//!   browser, run everywhere.
//! - [`the_built_book_has_no_broken_link_or_image`]: builds the book with
//!   `mdbook build` into a temporary directory and loads every page in
//!   headless Chromium (`book/check/check.js`, through playwright-core),
//!   which fails on a link to a missing page or anchor, an image that does
//!   not load, or a page resource that fails. Needs `mdbook`, Node.js,
//!   Chromium and `book/check/node_modules` (`npm ci --prefix book/check`).
//!   Without them it prints what is missing and passes, unless
//!   `GC_REQUIRE_BOOK=1` (set by `.ci/run`), which makes it fail.

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The chapter files `SUMMARY.md` links to, relative to `book/src`.
fn chapters() -> Vec<String> {
    let summary = std::fs::read_to_string(workspace().join("book/src/SUMMARY.md"))
        .expect("book/src/SUMMARY.md");
    summary
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| target.ends_with(".md"))
        .map(str::to_owned)
        .collect()
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the book's files: nothing unsafe to check, and slow under Miri"
)]
fn every_chapter_is_a_doctest() {
    let lib = std::fs::read_to_string(workspace().join("examples/src/lib.rs"))
        .expect("examples/src/lib.rs");
    let chapters = chapters();
    assert!(chapters.len() >= 20, "SUMMARY.md lists {chapters:?}");
    for chapter in &chapters {
        assert!(
            workspace().join("book/src").join(chapter).is_file(),
            "SUMMARY.md names {chapter}, which does not exist"
        );
        assert!(
            lib.contains(&format!("=> \"{chapter}\"")),
            "{chapter} is in SUMMARY.md but not among the doctests of \
             examples/src/lib.rs (`book` module): add it to `chapters!`"
        );
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "reads the book's files: nothing unsafe to check, and slow under Miri"
)]
fn every_image_a_chapter_names_exists() {
    let src = workspace().join("book/src");
    let mut checked = 0;
    for chapter in chapters() {
        let path = src.join(&chapter);
        let text = std::fs::read_to_string(&path).expect("chapter");
        for rest in text.split("](").skip(1) {
            let Some(target) = rest.split(')').next() else {
                continue;
            };
            let target = target.split('#').next().unwrap_or_default();
            let is_image = [".svg", ".png"].iter().any(|ext| target.ends_with(ext));
            if !is_image || target.contains("://") {
                continue;
            }
            let image = path.parent().unwrap().join(target);
            assert!(
                image.is_file(),
                "{chapter} shows {target}, which does not exist ({})",
                image.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no chapter shows an image");
}

/// What is missing to build and check the book, if anything.
fn missing_tools(node_modules: &Path, chromium: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    let runs = |cmd: &str, arg: &str| Command::new(cmd).arg(arg).output().is_ok();
    if !runs("mdbook", "--version") {
        missing.push(
            "mdbook (cargo install mdbook --locked --no-default-features --features search)".into(),
        );
    }
    if !runs("node", "--version") {
        missing.push("Node.js".into());
    }
    if !node_modules.join("playwright-core").is_dir() {
        missing.push("book/check/node_modules (npm ci --prefix book/check)".into());
    }
    if !chromium.is_file() {
        missing.push(format!("Chromium at {}", chromium.display()));
    }
    missing
}

#[test]
#[cfg_attr(miri, ignore = "runs mdbook and a browser")]
fn the_built_book_has_no_broken_link_or_image() {
    let root = workspace();
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()));
    let missing = missing_tools(&root.join("book/check/node_modules"), &chromium);
    if !missing.is_empty() {
        let message = format!("cannot check the book: missing {}", missing.join(", "));
        assert!(std::env::var_os("GC_REQUIRE_BOOK").is_none(), "{message}");
        eprintln!("{message}; skipped");
        return;
    }
    let out = std::env::temp_dir().join(format!("gc-core-book-{}", std::process::id()));
    let build = Command::new("mdbook")
        .arg("build")
        .arg(root.join("book"))
        .arg("--dest-dir")
        .arg(&out)
        .output()
        .expect("mdbook runs");
    assert!(
        build.status.success(),
        "mdbook build failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let check = Command::new("node")
        .arg(root.join("book/check/check.js"))
        .arg(&out)
        .arg(&chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&check.stdout);
    let stderr = String::from_utf8_lossy(&check.stderr);
    eprintln!("{stdout}{stderr}");
    let _ = std::fs::remove_dir_all(&out);
    assert!(check.status.success(), "the book has problems:\n{stderr}");
    assert!(stdout.contains("check.js: OK"), "{stdout}");
}
