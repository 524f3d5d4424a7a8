//! The layering rule of `ARCHITECTURE.md`, checked on the source: a module
//! never names a module of a layer above its own, except for the
//! type-level edges listed in [`TYPE_LEVEL`] (a type naming another, never
//! a lower layer calling a function of an upper one).

use std::fs;
use std::path::Path;

/// Each top-level module and its layer, bottom-up.
const LAYERS: &[(&str, u32)] = &[
    ("layout", 1),
    ("trace", 2),
    ("heap", 3),
    ("lifecycle", 4),
    ("collector", 5),
    ("handles", 6),
    ("gcmodule", 7),
    ("closure", 7),
    ("objgraph", 7),
    ("testing", 7),
    ("weakref", 7),
];

/// The upward references that stay, each with why: `(file, path, reason)`.
const TYPE_LEVEL: &[(&str, &str, &str)] = &[
    (
        "layout/header.rs",
        "crate::trace::DynTracer",
        "the signature of `VTable::trace_dyn` names the introspection tracer",
    ),
    (
        "trace/mod.rs",
        "crate::handles::{Gc, Weak}",
        "`Tracer::edge`/`weak_edge` take the handles and read their pointer fields",
    ),
    (
        "heap/mod.rs",
        "crate::lifecycle::StrongRef",
        "`gc.garbage` owns strong references, released by their `Drop` at thread exit",
    ),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, l)| l)
}

/// Every `crate::<module>` path in `source` outside comments, with the rest
/// of its line.
fn crate_paths(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().next_back();
            let after = &rest[i + "crate::".len()..];
            let module: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                out.push((module, rest[i..].to_string()));
            }
            rest = after;
        }
    }
    out
}

fn visit(dir: &Path, root: &Path, found: &mut Vec<String>) {
    for entry in fs::read_dir(dir).expect("read src") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            visit(&path, root, found);
            continue;
        }
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs");
        let Some(own) = layer(top) else { continue };
        let source = fs::read_to_string(&path).expect("read source");
        for (module, text) in crate_paths(&source) {
            let Some(target) = layer(&module) else {
                continue;
            };
            let allowed = TYPE_LEVEL
                .iter()
                .any(|(file, p, _)| *file == rel && text.starts_with(p));
            if target > own && !allowed {
                found.push(format!(
                    "{rel} (layer {own}) -> {module} (layer {target}): {text}"
                ));
            }
        }
    }
}

#[test]
#[cfg_attr(miri, ignore = "reads the source tree")]
fn no_module_names_a_layer_above_its_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    visit(&root, &root, &mut found);
    assert!(
        found.is_empty(),
        "upward references (move the code down, or list a type-level edge in TYPE_LEVEL):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_sees_paths_and_skips_comments() {
    let src = "use crate::heap::Heap;\n// crate::collector::x\n let a = $crate::layout::X; foocrate::handles";
    let paths: Vec<_> = crate_paths(src).into_iter().map(|(m, _)| m).collect();
    assert_eq!(paths, ["heap", "layout"]);
}
