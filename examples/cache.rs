//! Weak references in practice: a memoisation cache that never keeps its
//! values alive, and a tree whose children point back at their parent
//! without creating cycles.
//!
//! Run with `cargo run --example cache`.

use std::cell::RefCell;

use gc_core::weakref::{self, WeakValueMap};
use gc_core::{self as gc, Gc, Trace, Weak};

/// An expensive-to-build value: a parsed document.
#[derive(Trace)]
struct Document {
    path: String,
    words: Vec<String>,
}

/// Builds documents at most once while anyone still uses them
/// (`functools.lru_cache` without the memory leak).
#[derive(Default)]
struct DocumentCache {
    loaded: WeakValueMap<String, Document>,
    loads: usize,
}

impl DocumentCache {
    fn open(&mut self, path: &str) -> Gc<Document> {
        if let Some(doc) = self.loaded.get(&path.to_owned()) {
            return doc;
        }
        self.loads += 1;
        let doc = Gc::new(Document {
            path: path.to_owned(),
            words: format!("contents of {path}")
                .split(' ')
                .map(str::to_owned)
                .collect(),
        });
        self.loaded.insert(path.to_owned(), &doc);
        doc
    }
}

/// A tree node: strong edges down, a weak edge up, so dropping the root
/// frees the whole tree by reference counting alone.
#[derive(Trace)]
struct TreeNode {
    name: String,
    parent: RefCell<Weak<TreeNode>>,
    children: RefCell<Vec<Gc<TreeNode>>>,
}

impl TreeNode {
    fn new(name: &str) -> Gc<TreeNode> {
        Gc::new(TreeNode {
            name: name.to_owned(),
            parent: RefCell::new(Weak::new()),
            children: RefCell::new(Vec::new()),
        })
    }

    fn add_child(parent: &Gc<TreeNode>, child: Gc<TreeNode>) {
        *child.parent.borrow_mut() = Gc::downgrade(parent);
        parent.children.borrow_mut().push(child);
    }

    fn path(node: &Gc<TreeNode>) -> String {
        match node.parent.borrow().upgrade() {
            Some(parent) => format!("{}/{}", TreeNode::path(&parent), node.name),
            None => node.name.clone(),
        }
    }
}

fn main() {
    println!("# A cache that does not keep documents alive");
    let mut cache = DocumentCache::default();
    let readme = cache.open("README.md");
    let again = cache.open("README.md");
    println!(
        "opened README.md twice: same object = {}, loads = {}, words = {}",
        Gc::ptr_eq(&readme, &again),
        cache.loads,
        readme.words.len()
    );
    let _closer = weakref::finalize(&readme, || println!("(README.md was unloaded)"));
    drop((readme, again));
    println!(
        "after dropping every handle: cached entries = {}",
        cache.loaded.len()
    );
    let reopened = cache.open("README.md");
    println!("reopened {}: loads = {}", reopened.path, cache.loads);

    println!();
    println!("# A tree with weak parent pointers");
    let root = TreeNode::new("root");
    let usr = TreeNode::new("usr");
    let bin = TreeNode::new("bin");
    TreeNode::add_child(&usr, bin.clone());
    TreeNode::add_child(&root, usr);
    println!("path of bin: {}", TreeNode::path(&bin));
    println!(
        "tracked objects: {}, weak refs to root: {}",
        gc::get_objects(None).len(),
        Gc::weak_count(&root)
    );
    let watch = Gc::downgrade(&root);
    drop(root);
    println!(
        "dropped root: root alive = {}, bin's parent alive = {}, collect() finds {}",
        watch.is_alive(),
        bin.parent.borrow().upgrade().is_some(),
        gc::collect()
    );
}
