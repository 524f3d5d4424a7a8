//! Weak references against `std::rc::Weak`, and a `WeakValueMap` lookup
//! against a plain `HashMap` (issue 5's cost figures).
//!
//! Run with `cargo bench -p gc-benches --bench weak`.

use std::collections::HashMap;
use std::hint::black_box;
use std::rc::Rc;

use criterion::{Criterion, criterion_group, criterion_main};
use gc_core::Gc;
use gc_core::weakref::WeakValueMap;

/// Entries in the lookup benchmarks.
const ENTRIES: usize = 1_000;

/// `downgrade` + drop of the `Weak`, with other weak handles already alive
/// (the shared weak cell exists, as it does once an object has any `Weak`).
fn downgrade(c: &mut Criterion) {
    let mut group = c.benchmark_group("downgrade");
    let rc = Rc::new(5_u64);
    let _keep_rc = Rc::downgrade(&rc);
    group.bench_function("Rc", |b| {
        b.iter(|| black_box(Rc::downgrade(black_box(&rc))))
    });
    let gc = Gc::new(5_u64);
    let _keep_gc = Gc::downgrade(&gc);
    group.bench_function("Gc", |b| {
        b.iter(|| black_box(Gc::downgrade(black_box(&gc))))
    });
    // An object's first `Weak` allocates its cell, and dropping the last
    // one frees it.
    let lonely = Gc::new(6_u64);
    group.bench_function("Gc-first", |b| {
        b.iter(|| black_box(Gc::downgrade(black_box(&lonely))))
    });
    group.finish();
}

/// `upgrade` + drop of the strong handle it returns.
fn upgrade(c: &mut Criterion) {
    let mut group = c.benchmark_group("upgrade");
    let rc = Rc::new(5_u64);
    let rc_weak = Rc::downgrade(&rc);
    group.bench_function("Rc", |b| {
        b.iter(|| black_box(black_box(&rc_weak).upgrade()))
    });
    let gc = Gc::new(5_u64);
    let gc_weak = Gc::downgrade(&gc);
    group.bench_function("Gc", |b| {
        b.iter(|| black_box(black_box(&gc_weak).upgrade()))
    });
    group.finish();
}

/// A hit in a map of `ENTRIES` string keys: `WeakValueMap::get` (which
/// upgrades) against `HashMap<String, Rc<_>>::get` + clone.
fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("lookup");
    let keys: Vec<String> = (0..ENTRIES).map(|i| format!("key-{i}")).collect();
    let values: Vec<Gc<u64>> = (0..ENTRIES as u64).map(Gc::new).collect();
    let mut weak_map: WeakValueMap<String, u64> = WeakValueMap::new();
    let mut map = HashMap::new();
    for (key, value) in keys.iter().zip(&values) {
        weak_map.insert(key.clone(), value);
        map.insert(key.clone(), Rc::new(**value));
    }
    let probe = &keys[ENTRIES / 2];
    group.bench_function("HashMap<String, Rc>", |b| {
        b.iter(|| black_box(map.get(black_box(probe)).cloned()))
    });
    group.bench_function("WeakValueMap<String, _>", |b| {
        b.iter(|| black_box(weak_map.get(black_box(probe))))
    });
    group.finish();
}

criterion_group!(benches, downgrade, upgrade, lookup);
criterion_main!(benches);
