//! Python's `weakref` module: weak collections and `finalize`.
//!
//! # How the collections stay exact
//!
//! Every member (or value, or key) is held by a [`Weak`] with a callback.
//! When the member dies, by reference counting or in a collection, the
//! callback decrements the collection's live count and queues the entry's
//! key for removal. So:
//!
//! - `len` is the live count: O(1), through `&self`, and exact the moment a
//!   member dies;
//! - `get`, `contains*` and `iter` check that the entry's `Weak` still
//!   upgrades, so a dead entry is never reported;
//! - the dead entries' storage (and a [`WeakKeyMap`] value) is reclaimed by
//!   the next call that takes `&mut self`, which drains the queue: never
//!   while a `&V` from `get` or `iter` may be alive, because the borrow
//!   checker forbids `&mut self` calls then. (CPython drops a dead key's
//!   value at once; Rust's borrows make the next mutation the earliest
//!   sound moment.)
//!
//! As in CPython, a collection whose callbacks would fire for members that
//! die in the same collection as the collection itself (the map is part of
//! the garbage) does not run them: the map dies too.

use std::cell::{Cell, RefCell, UnsafeCell};
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::rc::{self, Rc};

use crate::handles::{Gc, Weak};
use crate::heap::heap;
use crate::layout::WeakCell;
use crate::trace::{EntryView, EphemeronTable, Erased, Trace, TraceMeta, Tracer};

/// Shared between a collection and its entries' callbacks. Only the
/// collection holds it strongly; each callback holds an `rc::Weak` to it.
struct Deaths<P> {
    /// Entries whose member is alive.
    live: Cell<usize>,
    /// What names the entries whose member died (their key, or a weak
    /// handle to it), to reclaim at the next `&mut`.
    dead: RefCell<Vec<P>>,
}

impl<P> Deaths<P> {
    fn new() -> Rc<Self> {
        Rc::new(Deaths {
            live: Cell::new(0),
            dead: RefCell::new(Vec::new()),
        })
    }

    /// A `Weak` to `gc` whose death queues `key`.
    fn watch<T: 'static>(self: &Rc<Self>, gc: &Gc<T>, key: P) -> Weak<T>
    where
        P: 'static,
    {
        let deaths = Rc::downgrade(self);
        self.live.set(self.live.get() + 1);
        Gc::downgrade_with(gc, move || {
            if let Some(deaths) = deaths.upgrade() {
                deaths.live.set(deaths.live.get() - 1);
                deaths.dead.borrow_mut().push(key);
            }
        })
    }

    fn take_dead(&self) -> Vec<P> {
        std::mem::take(&mut *self.dead.borrow_mut())
    }

    /// An entry whose member is alive was removed or replaced.
    fn forget_live(&self) {
        self.live.set(self.live.get() - 1);
    }

    /// Every entry was removed.
    fn reset(&self) {
        self.take_dead();
        self.live.set(0);
    }

    /// Takes out the entries whose member died since the last purge, for
    /// the caller to drop (`WeakKeyMap` drops them only once it no longer
    /// holds its entries). `locate` turns what a callback queued into the
    /// entry's key (`None`: the entry is gone). A queued key may name an
    /// entry that was replaced by a live one meanwhile: `is_dead` checks the
    /// entry before it goes.
    fn purge<Q: Eq + Hash, E>(
        &self,
        entries: &mut HashMap<Q, E>,
        locate: impl Fn(P) -> Option<Q>,
        is_dead: impl Fn(&E) -> bool,
    ) -> Vec<E> {
        let mut dead = Vec::new();
        for queued in self.take_dead() {
            if let Some(key) = locate(queued)
                && entries.get(&key).is_some_and(&is_dead)
            {
                dead.extend(entries.remove(&key));
            }
        }
        dead
    }
}

/// An object's identity, for identity-keyed collections.
fn id<T: 'static>(gc: &Gc<T>) -> usize {
    Gc::id(gc)
}

/// Whether `weak` still refers to `gc`'s object.
fn refers_to<T: 'static>(weak: &Weak<T>, gc: &Gc<T>) -> bool {
    weak.upgrade().is_some_and(|w| Gc::ptr_eq(&w, gc))
}

/// A set of objects held weakly, by identity (`weakref.WeakSet`). A member
/// disappears the moment it dies.
///
/// ```
/// use gc_core::Gc;
/// use gc_core::weakref::WeakSet;
///
/// let mut observers = WeakSet::new();
/// let a = Gc::new(String::from("a"));
/// let b = Gc::new(String::from("b"));
/// observers.insert(&a);
/// observers.insert(&b);
/// drop(b);
/// assert_eq!(observers.len(), 1);
/// assert!(observers.contains(&a));
/// ```
pub struct WeakSet<T: 'static> {
    entries: HashMap<usize, Weak<T>>,
    deaths: Rc<Deaths<usize>>,
}

impl<T: 'static> WeakSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        WeakSet {
            entries: HashMap::new(),
            deaths: Deaths::new(),
        }
    }

    /// Number of live members. O(1).
    pub fn len(&self) -> usize {
        self.deaths.live.get()
    }

    /// Whether no member is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reclaims the storage of dead members.
    pub fn purge(&mut self) {
        drop(
            self.deaths
                .purge(&mut self.entries, Some, |w| !w.is_alive()),
        );
    }

    /// Adds `member`; returns whether it was not a member yet.
    pub fn insert(&mut self, member: &Gc<T>) -> bool {
        self.purge();
        if self.contains(member) {
            return false;
        }
        let weak = self.deaths.watch(member, id(member));
        self.entries.insert(id(member), weak);
        true
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &Gc<T>) -> bool {
        self.entries
            .get(&id(member))
            .is_some_and(|w| refers_to(w, member))
    }

    /// Removes `member`; returns whether it was a member.
    pub fn remove(&mut self, member: &Gc<T>) -> bool {
        self.purge();
        if !self.contains(member) {
            return false;
        }
        self.entries.remove(&id(member));
        self.deaths.forget_live();
        true
    }

    /// Removes every member.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.deaths.reset();
    }

    /// The live members, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = Gc<T>> + '_ {
        self.entries.values().filter_map(Weak::upgrade)
    }
}

/// A map whose values are held weakly (`weakref.WeakValueDictionary`): an
/// entry disappears the moment its value dies. The usual base of a cache.
///
/// ```
/// use gc_core::Gc;
/// use gc_core::weakref::WeakValueMap;
///
/// let mut cache = WeakValueMap::new();
/// let page = Gc::new(String::from("<html>"));
/// cache.insert("index", &page);
/// assert_eq!(cache.get(&"index").as_deref().map(String::as_str), Some("<html>"));
/// drop(page);
/// assert!(cache.get(&"index").is_none());
/// assert!(cache.is_empty());
/// ```
pub struct WeakValueMap<K: Eq + Hash + 'static, T: 'static> {
    /// The map owns its keys: each `SharedKey`'s `Rc` has no other strong
    /// handle (see the `Trace` impl).
    entries: HashMap<SharedKey<K>, Weak<T>>,
    /// The death callbacks queue a weak handle to their entry's key.
    deaths: Rc<Deaths<rc::Weak<K>>>,
}

/// A key in an `Rc`, so that its entry's death callback can name it
/// through an `rc::Weak` without requiring `K: Clone`. The entry holds the
/// only strong handle, except inside [`WeakValueMap::purge`].
struct SharedKey<K>(Rc<K>);

impl<K: PartialEq> PartialEq for SharedKey<K> {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl<K: Eq> Eq for SharedKey<K> {}

impl<K: Hash> Hash for SharedKey<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K> std::borrow::Borrow<K> for SharedKey<K> {
    fn borrow(&self) -> &K {
        &self.0
    }
}

/// A key seen as a `Q` it borrows as: what lookups by a borrowed form
/// (`&str` for a `String` key) go through. `HashMap` looks a `SharedKey<K>`
/// up by `&Q` only through `Borrow`, and `SharedKey<K>: Borrow<Q>` for every
/// `Q` that `K` borrows as would overlap `Borrow<K>`; borrowing as this
/// trait object instead does not. Hashing and equality are `Q`'s, as
/// `Borrow`'s contract requires them to agree with `K`'s.
trait AsKey<Q: ?Sized> {
    fn as_key(&self) -> &Q;
}

impl<K: std::borrow::Borrow<Q>, Q: ?Sized> AsKey<Q> for SharedKey<K> {
    fn as_key(&self) -> &Q {
        (*self.0).borrow()
    }
}

/// The borrowed form itself, as the query of a lookup.
struct Query<'q, Q: ?Sized>(&'q Q);

impl<Q: ?Sized> AsKey<Q> for Query<'_, Q> {
    fn as_key(&self) -> &Q {
        self.0
    }
}

impl<'a, K: std::borrow::Borrow<Q> + 'a, Q: ?Sized + 'a> std::borrow::Borrow<dyn AsKey<Q> + 'a>
    for SharedKey<K>
{
    fn borrow(&self) -> &(dyn AsKey<Q> + 'a) {
        self
    }
}

impl<Q: ?Sized + Hash> Hash for dyn AsKey<Q> + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_key().hash(state);
    }
}

impl<Q: ?Sized + Eq> PartialEq for dyn AsKey<Q> + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.as_key() == other.as_key()
    }
}

impl<Q: ?Sized + Eq> Eq for dyn AsKey<Q> + '_ {}

impl<K: Eq + Hash + 'static, T: 'static> WeakValueMap<K, T> {
    /// An empty map.
    pub fn new() -> Self {
        WeakValueMap {
            entries: HashMap::new(),
            deaths: Deaths::new(),
        }
    }

    /// Number of entries whose value is alive. O(1).
    pub fn len(&self) -> usize {
        self.deaths.live.get()
    }

    /// Whether no entry's value is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reclaims the storage of entries whose value died.
    pub fn purge(&mut self) {
        // An upgraded key is a second strong handle only until its entry is
        // looked up (and removed): within this `&mut self` call.
        drop(self.deaths.purge(
            &mut self.entries,
            |key| key.upgrade().map(SharedKey),
            |w| !w.is_alive(),
        ));
    }

    /// Maps `key` to `value`; returns the previous live value, if any. An
    /// existing entry keeps its key, as with `HashMap::insert`.
    pub fn insert(&mut self, key: K, value: &Gc<T>) -> Option<Gc<T>> {
        self.purge();
        let existing = self
            .entries
            .get_key_value(&key)
            .map(|(shared, _)| Rc::downgrade(&shared.0));
        let Some(existing) = existing else {
            let key = Rc::new(key);
            let weak = self.deaths.watch(value, Rc::downgrade(&key));
            self.entries.insert(SharedKey(key), weak);
            return None;
        };
        let weak = self.deaths.watch(value, existing);
        let slot = self
            .entries
            .get_mut(&key)
            .expect("the entry was just found");
        let old = std::mem::replace(slot, weak).upgrade();
        if old.is_some() {
            self.deaths.forget_live();
        }
        old
    }

    /// The value for `key`, if it is alive. `key` may be any borrowed form
    /// of the key type, as with `HashMap::get`: a `WeakValueMap<String, _>`
    /// is looked up by `&str`, with no allocation.
    ///
    /// ```
    /// use gc_core::Gc;
    /// use gc_core::weakref::WeakValueMap;
    ///
    /// let mut symbols: WeakValueMap<String, u32> = WeakValueMap::new();
    /// let x = Gc::new(7);
    /// symbols.insert("x".to_string(), &x);
    /// assert_eq!(symbols.get("x").as_deref(), Some(&7));
    /// assert!(symbols.contains_key("x"));
    /// assert_eq!(symbols.remove("x").as_deref(), Some(&7));
    /// ```
    pub fn get<Q>(&self, key: &Q) -> Option<Gc<T>>
    where
        K: std::borrow::Borrow<Q>,
        Q: ?Sized + Eq + Hash,
    {
        self.entries.get(&Query(key) as &dyn AsKey<Q>)?.upgrade()
    }

    /// Removes the entry for `key` (any borrowed form of the key type);
    /// returns its value if it was alive.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<Gc<T>>
    where
        K: std::borrow::Borrow<Q>,
        Q: ?Sized + Eq + Hash,
    {
        self.purge();
        let old = self.entries.remove(&Query(key) as &dyn AsKey<Q>)?.upgrade();
        if old.is_some() {
            self.deaths.forget_live();
        }
        old
    }

    /// Whether `key` (any borrowed form of the key type) maps to a live
    /// value.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: ?Sized + Eq + Hash,
    {
        self.entries
            .get(&Query(key) as &dyn AsKey<Q>)
            .is_some_and(Weak::is_alive)
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.deaths.reset();
    }

    /// The entries whose value is alive, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, Gc<T>)> + '_ {
        self.entries
            .iter()
            .filter_map(|(k, w)| Some((&*k.0, w.upgrade()?)))
    }
}

/// A map whose keys are objects held weakly, by identity
/// (`weakref.WeakKeyDictionary`): an entry, and its value, disappear when
/// the key dies. Attaches data to objects without keeping them alive.
///
/// ```
/// use gc_core::Gc;
/// use gc_core::weakref::WeakKeyMap;
///
/// let mut notes = WeakKeyMap::new();
/// let widget = Gc::new(7_u32);
/// notes.insert(&widget, "the seventh widget");
/// assert_eq!(notes.get(&widget), Some(&"the seventh widget"));
/// drop(widget);
/// assert!(notes.is_empty());
/// ```
///
/// # Ephemerons: a value never keeps its own key alive
///
/// An entry's value is reachable only while the entry's key is reachable
/// from outside the maps, as in JavaScript's `WeakMap`. A value that refers
/// back to its key (a widget's metadata that names the widget) therefore
/// does not keep the key alive, where CPython's `WeakKeyDictionary` leaks
/// both forever. The collector finds such keys (iterating to a fixpoint:
/// a value may hold the key of another entry), counts their entries dead at
/// once, and the map drops the values at its next `&mut` call, when the
/// keys die by reference counting.
///
/// ```
/// use gc_core::weakref::WeakKeyMap;
/// use gc_core::{Gc, Trace};
/// use std::cell::RefCell;
///
/// #[derive(Trace)]
/// struct Widget {
///     children: RefCell<Vec<Gc<Widget>>>,
/// }
///
/// #[derive(Trace)]
/// struct Meta {
///     owner: Gc<Widget>, // refers to its own key
/// }
///
/// #[derive(Trace)]
/// struct Document {
///     meta: RefCell<WeakKeyMap<Widget, Meta>>,
/// }
///
/// let doc = Gc::new(Document { meta: RefCell::new(WeakKeyMap::new()) });
/// let button = Gc::new(Widget { children: RefCell::new(Vec::new()) });
/// let alive = Gc::downgrade(&button);
/// doc.meta.borrow_mut().insert(&button, Meta { owner: button.clone() });
/// drop(button); // only the map's own value refers to it now
///
/// gc_core::collect();
/// assert!(doc.meta.borrow().is_empty()); // the entry died in the collection
/// doc.meta.borrow_mut().purge(); // the value goes, and with it the key
/// assert!(alive.upgrade().is_none());
/// ```
///
/// The collector sees a map's values once the map is part of the heap (a
/// field of an object in a `Gc`, as above) or was made with
/// [`WeakKeyMap::traced`]. A map made with [`WeakKeyMap::new`] that lives
/// outside the heap (a local, a static) is a root like any local: its
/// values keep what they refer to alive, keys included, as in CPython. This
/// needs `V: Trace`, which `new` cannot ask for.
///
/// The key's type must be tracked (it holds a `Gc` somewhere, so the
/// collector examines its objects): an object of a type that cannot reach a
/// `Gc` (`Gc<u32>`, `Gc<String>`) is freed by reference counting alone, so
/// a value that refers to such a key keeps it alive, as in CPython.
///
/// Until the map's next `&mut` call, a key killed this way still exists (its
/// value refers to it), though no entry shows it: a `Weak` to it held
/// elsewhere can still upgrade, as with a CPython object resurrected by a
/// finalizer.
pub struct WeakKeyMap<T: 'static, V> {
    /// Boxed at a fixed address: the heap's registry of ephemeron tables
    /// points at it. Freed by `Drop`, after it leaves the registry.
    table: NonNull<KeyTable<T, V>>,
    _owns: PhantomData<Box<KeyTable<T, V>>>,
}

/// A weak-key map's storage. `head` comes first: the registry's pointer to
/// the head is a pointer to the table.
#[repr(C)]
struct KeyTable<T: 'static, V> {
    head: EphemeronTable,
    /// Read by the collector through the registry while the map is borrowed
    /// shared; mutated only by `&mut self` methods, which never hold the
    /// `&mut` across code that could start a collection or run user code
    /// (values they remove are dropped after the borrow ends).
    entries: UnsafeCell<HashMap<usize, KeyEntry<T, V>>>,
    deaths: Rc<Deaths<usize>>,
}

struct KeyEntry<T: 'static, V> {
    key: Weak<T>,
    value: V,
    /// The collector's mark (`trace::EntryView::followed`).
    followed: Cell<u64>,
}

impl<T: 'static, V> WeakKeyMap<T, V> {
    /// An empty map.
    pub fn new() -> Self {
        let table = Box::new(KeyTable {
            head: EphemeronTable::new(),
            entries: UnsafeCell::new(HashMap::new()),
            deaths: Deaths::new(),
        });
        WeakKeyMap {
            table: NonNull::from(Box::leak(table)),
            _owns: PhantomData,
        }
    }

    fn table(&self) -> &KeyTable<T, V> {
        // SAFETY: allocated in `new`, freed only by `Drop`.
        unsafe { self.table.as_ref() }
    }

    fn entries(&self) -> &HashMap<usize, KeyEntry<T, V>> {
        // SAFETY: a `&mut` to the entries exists only inside a `&mut self`
        // method (`entries_mut`), so not while `self` is borrowed shared.
        unsafe { &*self.table().entries.get() }
    }

    /// The entries, mutably. The caller must not run user code (drop a
    /// value, a key's `Gc`) nor allocate a `Gc` while holding it.
    fn entries_mut(&mut self) -> &mut HashMap<usize, KeyEntry<T, V>> {
        // SAFETY: `&mut self`: no shared borrow of the map is alive, and the
        // collector reads the entries only during a collection, which cannot
        // start while this borrow is held (caller).
        unsafe { &mut *self.table().entries.get() }
    }

    /// Number of entries whose key is alive. O(1).
    pub fn len(&self) -> usize {
        self.table().deaths.live.get()
    }

    /// Whether no entry's key is alive.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes out the entries whose key died since the last purge, for the
    /// caller to drop once it no longer holds the entries.
    fn take_dead(&mut self) -> Vec<KeyEntry<T, V>> {
        let deaths = Rc::clone(&self.table().deaths);
        deaths.purge(self.entries_mut(), Some, |e| !e.key.is_alive())
    }

    /// Reclaims the entries, values included, whose key died.
    pub fn purge(&mut self) {
        drop(self.take_dead());
    }

    /// Maps `key` to `value`; returns the previous value for that object.
    pub fn insert(&mut self, key: &Gc<T>, value: V) -> Option<V> {
        let dead = self.take_dead();
        let id = id(key);
        let entries = self.entries_mut();
        if let Some(entry) = entries.get_mut(&id)
            && refers_to(&entry.key, key)
        {
            let old = std::mem::replace(&mut entry.value, value);
            drop(dead);
            return Some(old);
        }
        // A cell allocation: no collection, no user code.
        let weak = self.table().deaths.watch(key, id);
        let entry = KeyEntry {
            key: weak,
            value,
            followed: Cell::new(0),
        };
        // An entry left at this address belongs to a dead object that lived
        // there before: its value is not `key`'s previous value.
        let stale = self.entries_mut().insert(id, entry);
        drop((dead, stale));
        None
    }

    /// The value for `key`'s object.
    pub fn get(&self, key: &Gc<T>) -> Option<&V> {
        let entry = self.entries().get(&id(key))?;
        refers_to(&entry.key, key).then_some(&entry.value)
    }

    /// Removes the entry for `key`'s object, returning its value.
    pub fn remove(&mut self, key: &Gc<T>) -> Option<V> {
        let dead = self.take_dead();
        if !self.contains_key(key) {
            drop(dead);
            return None;
        }
        self.table().deaths.forget_live();
        let entry = self.entries_mut().remove(&id(key));
        drop(dead);
        entry.map(|e| e.value)
    }

    /// Whether `key`'s object has an entry.
    pub fn contains_key(&self, key: &Gc<T>) -> bool {
        self.get(key).is_some()
    }

    /// Removes every entry.
    pub fn clear(&mut self) {
        let all: Vec<KeyEntry<T, V>> = self.entries_mut().drain().map(|(_, e)| e).collect();
        // Dropping a value may kill a key whose entry is still in `all`, and
        // its callback counts it: reset the counts only afterwards.
        drop(all);
        self.table().deaths.reset();
    }

    /// The entries whose key is alive, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Gc<T>, &V)> + '_ {
        self.entries()
            .values()
            .filter_map(|e| Some((e.key.upgrade()?, &e.value)))
    }
}

impl<T: 'static, V: Trace> WeakKeyMap<T, V> {
    /// An empty map whose values the collector sees wherever the map lives,
    /// so that a value never keeps its own key alive even when the map is a
    /// local or a static (see [the type's docs](WeakKeyMap#ephemerons-a-value-never-keeps-its-own-key-alive)).
    /// A map inside the heap needs no such constructor.
    ///
    /// ```
    /// use gc_core::weakref::WeakKeyMap;
    /// use gc_core::{Gc, Trace};
    ///
    /// #[derive(Trace)]
    /// struct Node {
    ///     next: Option<Gc<Node>>,
    /// }
    ///
    /// let mut parents: WeakKeyMap<Node, Gc<Node>> = WeakKeyMap::traced();
    /// let node = Gc::new(Node { next: None });
    /// parents.insert(&node, node.clone()); // the value is the key itself
    /// let weak = Gc::downgrade(&node);
    /// drop(node);
    /// gc_core::collect();
    /// assert!(parents.is_empty());
    /// parents.purge();
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn traced() -> Self {
        let map = Self::new();
        map.register();
        map
    }

    /// Lists the table with the heap, so that collections trace its values
    /// themselves (`collector::ephemerons`).
    fn register(&self) {
        let head = &self.table().head;
        if head.is_registered() {
            return;
        }
        let Some(heap) = heap() else {
            return; // the thread is exiting: no more collections
        };
        head.entries.set(Some(entries_of::<T, V>));
        heap.register_table(self.table.cast());
    }
}

/// The `entries` entry of a `KeyTable<T, V>`'s head.
///
/// # Safety
///
/// `table` is the head of a live `KeyTable<T, V>` (the registry's pointer,
/// derived from the whole box), and no `&mut` to its entries is alive.
unsafe fn entries_of<T: 'static, V: Trace>(
    table: NonNull<EphemeronTable>,
    visit: &mut dyn FnMut(EntryView<'_>),
) {
    // SAFETY: `head` is the first field of the `repr(C)` table (caller).
    let table = unsafe { table.cast::<KeyTable<T, V>>().as_ref() };
    // SAFETY: no `&mut` to the entries is alive (caller).
    let entries = unsafe { &*table.entries.get() };
    for entry in entries.values() {
        visit(EntryView {
            // SAFETY: the entry's `Weak` keeps its cell allocated while the
            // view is used.
            key: unsafe { WeakCell::of_handle(entry.key.cell) },
            followed: &entry.followed,
            trace_value: &|tracer| entry.value.trace(&mut Erased(tracer)),
        });
    }
}

impl<T: 'static, V> Drop for WeakKeyMap<T, V> {
    fn drop(&mut self) {
        if self.table().head.is_registered()
            && let Some(heap) = heap()
        {
            heap.deregister_table(&self.table().head);
        }
        // SAFETY: allocated by `Box` in `new` and freed only here; it left
        // the registry, so the collector no longer reads it.
        let table = unsafe { Box::from_raw(self.table.as_ptr()) };
        // The values go last, from a `Vec`: dropping one may run user code
        // that panics, and a slice's drop goes on past a panic where a
        // `HashMap`'s stops and leaks the rest.
        let KeyTable { entries, .. } = *table;
        let entries: Vec<KeyEntry<T, V>> = entries.into_inner().into_values().collect();
        drop(entries);
    }
}

/// `Default` for the three collections.
macro_rules! common_impls {
    ($name:ident < $($p:ident),* > where $($bounds:tt)*) => {
        impl<$($p),*> Default for $name<$($p),*> where $($bounds)* {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

common_impls!(WeakSet<T> where T: 'static);
common_impls!(WeakValueMap<K, T> where K: Eq + Hash + 'static, T: 'static);
common_impls!(WeakKeyMap<T, V> where T: 'static);

impl<T: 'static> fmt::Debug for WeakSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(self.iter().map(|g| Gc::to_object(&g)))
            .finish()
    }
}

impl<K: Eq + Hash + fmt::Debug + 'static, T: 'static> fmt::Debug for WeakValueMap<K, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, g)| (k, Gc::to_object(&g))))
            .finish()
    }
}

impl<T: 'static, V: fmt::Debug> fmt::Debug for WeakKeyMap<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(g, v)| (Gc::to_object(&g), v)))
            .finish()
    }
}

// SAFETY: members are weak edges only.
unsafe impl<T: 'static> Trace for WeakSet<T> {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, weak) in self.entries.values().enumerate() {
            tracer.index(i, |t| weak.trace(t));
        }
    }
}

// SAFETY: the map owns its keys, so it reports each key's edges, once
// (rules 1 and 2); values are weak edges. Each key lives in an `Rc` whose
// only strong handle is its entry's `SharedKey`: the entry's death callback
// and the dead queue hold `rc::Weak`s, which own nothing, and no method hands
// out an `Rc` (`iter` lends `&K`). The one other strong handle is the
// temporary that `purge` upgrades a queued key to, dropped before `purge`
// returns; `purge` runs with `&mut self`, and tracing needs `&self`, so no
// trace sees it (a map inside an object is reached mutably only through a
// `RefCell`, whose `Trace` skips it while it is mutably borrowed). So the
// `Gc`s inside a key are owned by the map alone, and its object's count of
// references to them is exact.
unsafe impl<K: Eq + Hash + Trace + 'static, T: 'static> Trace for WeakValueMap<K, T> {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        for (i, (key, weak)) in self.entries.iter().enumerate() {
            tracer.index(i, |t| {
                // The key itself: `Rc`'s own `Trace` reports nothing.
                t.field("key", |t| K::trace(&key.0, t));
                t.field("value", |t| weak.trace(t));
            });
        }
    }
}

// SAFETY: keys are weak edges; values are owned and traced once each, as
// strong edges by every tracer but the collector's, which traces them itself
// through the registry (`collector::ephemerons`), once per pass. Registering
// the table allocates, but runs no user code and touches no `Gc`.
unsafe impl<T: 'static, W: Trace> Trace for WeakKeyMap<T, W> {
    fn trace<V: Tracer>(&self, tracer: &mut V) {
        self.register();
        let entries = self.entries();
        for (i, entry) in entries.values().enumerate() {
            tracer.index(i, |t| t.field("key", |t| entry.key.trace(t)));
        }
        tracer.__ephemeron_table(&self.table().head, |t| {
            for (i, entry) in entries.values().enumerate() {
                t.index(i, |t| t.field("value", |t| entry.value.trace(t)));
            }
        });
    }
}

/// A cleanup function that runs once when an object dies
/// (`weakref.finalize`), without making the object's cycles uncollectable
/// the way `#[gc(finalize)]` does under the default policy.
///
/// Dropping the handle does not cancel it: the registration keeps itself
/// alive until it runs or is [`detach`](Finalizer::detach)ed.
///
/// ```
/// use gc_core::Gc;
/// use gc_core::weakref;
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let closed = Rc::new(Cell::new(false));
/// let flag = closed.clone();
/// let file = Gc::new(String::from("handle"));
/// let f = weakref::finalize(&file, move || flag.set(true));
/// assert!(f.alive());
/// drop(file);
/// assert!(closed.get() && !f.alive());
/// ```
pub fn finalize<T: 'static>(obj: &Gc<T>, func: impl FnOnce() + 'static) -> Finalizer {
    let state = Rc::new(FinalizerState {
        func: Cell::new(Some(Box::new(func))),
        registration: RefCell::new(None),
    });
    let fire = state.clone();
    // The callback owns the state and the state owns the `Weak`: the pair
    // keeps itself alive until the callback runs or `detach` breaks it.
    let weak = Gc::downgrade_with(obj, move || {
        fire.registration.borrow_mut().take();
        if let Some(func) = fire.func.take() {
            func();
        }
    });
    *state.registration.borrow_mut() = Some(Box::new(weak));
    Finalizer { state }
}

/// The handle returned by [`finalize`].
pub struct Finalizer {
    state: Rc<FinalizerState>,
}

struct FinalizerState {
    func: Cell<Option<Box<dyn FnOnce()>>>,
    /// The `Weak` whose callback runs `func`, type-erased.
    registration: RefCell<Option<Box<dyn std::any::Any>>>,
}

impl Finalizer {
    /// Whether the function has not run and is not detached.
    pub fn alive(&self) -> bool {
        let func = self.state.func.take();
        let alive = func.is_some();
        self.state.func.set(func);
        alive
    }

    /// Cancels the finalizer; returns whether it was alive.
    pub fn detach(&self) -> bool {
        let func = self.state.func.take();
        let registration = self.state.registration.borrow_mut().take();
        drop(registration);
        func.is_some()
    }

    /// Runs the function now, if it is alive; returns whether it ran. It will
    /// not run again when the object dies.
    pub fn call(&self) -> bool {
        let func = self.state.func.take();
        let registration = self.state.registration.borrow_mut().take();
        drop(registration);
        match func {
            Some(func) => {
                func();
                true
            }
            None => false,
        }
    }
}

impl fmt::Debug for Finalizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finalizer")
            .field("alive", &self.alive())
            .finish()
    }
}

impl<T: 'static> TraceMeta for WeakSet<T> {
    const TRACKED: bool = false;
}

impl<K: Eq + Hash + TraceMeta + 'static, T: 'static> TraceMeta for WeakValueMap<K, T> {
    const TRACKED: bool = K::TRACKED;
}

impl<T: 'static, W: TraceMeta> TraceMeta for WeakKeyMap<T, W> {
    const TRACKED: bool = W::TRACKED;
}
