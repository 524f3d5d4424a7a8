//! A small Scheme-like interpreter on gc-core: the workload the collector is
//! for.
//!
//! - Environments are `Gc<Env>` frames; a closure (`Gc<Lambda>`) captures the
//!   frame it was made in. A recursive closure defined inside a function is
//!   bound in the very frame it captures, so every call to `make` below
//!   leaves a cycle `Env -> loop -> Env` that reference counting alone can
//!   never free.
//! - Builtins are plain `fn(&[Value]) -> Result<Value, String>` pointers,
//!   kept in a table inside the global environment: function pointers are
//!   untracked leaves, so the table needs no `#[gc(skip)]`.
//! - Native objects (a `Counter`) live behind `Gc<dyn NativeObject>`, made
//!   with `unsize!` and recovered in the builtins with `Gc::downcast`.
//!
//! The driver calls `(make i)` a million times with automatic collection
//! on, records the number of tracked objects at the start of every
//! collection (the peak stays near the first threshold, 700), prints
//! `get_stats()`, then drops the interpreter and shows the final `collect()`
//! freeing the global environment's own cycles, until nothing is tracked.
//!
//! Run with `cargo run --release --example interpreter`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

use gc_core::objgraph::{self, is_root};
use gc_core::{self as gc, Describe, Gc, Phase, Trace, unsize};

/// A builtin procedure. The table of them is an untracked leaf.
type Builtin = fn(&[Value]) -> Result<Value, String>;

/// A value of the language. Lists are immutable slices, as the reader
/// makes them.
#[derive(Trace, Clone)]
enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Sym(Gc<str>),
    List(Gc<[Value]>),
    Lambda(Gc<Lambda>),
    Builtin(Builtin),
    Native(Gc<dyn NativeObject>),
}

/// A closure: its code and the environment it captured. The leak-hunting
/// tools show it in the language's own syntax.
#[derive(Trace)]
#[gc(describe)]
struct Lambda {
    params: Vec<Gc<str>>,
    body: Vec<Value>,
    env: Gc<Env>,
}

/// One frame of variables. Only the global frame has builtins.
#[derive(Trace)]
#[gc(describe)]
struct Env {
    vars: RefCell<HashMap<Gc<str>, Value>>,
    builtins: HashMap<&'static str, Builtin>,
    parent: Option<Gc<Env>>,
}

impl Describe for Lambda {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<&str> = self.params.iter().map(|p| &**p).collect();
        let body: Vec<String> = self.body.iter().map(Value::to_string).collect();
        write!(f, "(lambda ({}) {})", params.join(" "), body.join(" "))
    }
}

impl Describe for Env {
    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parent {
            None => write!(f, "#<global frame>"),
            Some(_) => write!(f, "#<frame of {} variables>", self.vars.borrow().len()),
        }
    }
}

/// An object implemented in Rust that the language can hold.
trait NativeObject: Trace {
    fn describe(&self) -> String;
}

/// A native counter: `(make-counter)`, `(counter-inc c)`, `(counter-get c)`.
#[derive(Trace)]
struct Counter {
    count: Cell<i64>,
}

impl NativeObject for Counter {
    fn describe(&self) -> String {
        format!("#<counter {}>", self.count.get())
    }
}

impl Env {
    fn new(parent: Option<Gc<Env>>, builtins: HashMap<&'static str, Builtin>) -> Gc<Env> {
        let vars = RefCell::new(HashMap::new());
        Gc::new(Env {
            vars,
            builtins,
            parent,
        })
    }

    /// The global frame and its builtins. Closures that capture nothing
    /// coerce to `fn` pointers.
    fn global() -> Gc<Env> {
        let builtins: [(&'static str, Builtin); 8] = [
            ("+", |args| Ok(Value::Int(sum(args)?))),
            ("*", |args| {
                Ok(Value::Int(args.iter().map(int).product::<Result<_, _>>()?))
            }),
            ("-", sub),
            ("<", |args| compare(args, i64::lt)),
            ("=", |args| compare(args, i64::eq)),
            ("make-counter", make_counter),
            ("counter-inc", counter_inc),
            ("counter-get", |args| {
                Ok(Value::Int(counter(args)?.count.get()))
            }),
        ];
        Env::new(None, builtins.into_iter().collect())
    }

    fn define(&self, name: Gc<str>, value: Value) {
        self.vars.borrow_mut().insert(name, value);
    }

    fn lookup(&self, name: &str) -> Result<Value, String> {
        if let Some(value) = self.vars.borrow().get(name) {
            return Ok(value.clone());
        }
        match &self.parent {
            Some(parent) => parent.lookup(name),
            None => match self.builtins.get(name) {
                Some(&builtin) => Ok(Value::Builtin(builtin)),
                None => Err(format!("unbound variable: {name}")),
            },
        }
    }
}

// ---- builtins ---------------------------------------------------------------

fn int(value: &Value) -> Result<i64, String> {
    match value {
        Value::Int(n) => Ok(*n),
        other => Err(format!("expected an integer, got {other}")),
    }
}

fn sum(args: &[Value]) -> Result<i64, String> {
    args.iter().map(int).sum()
}

fn sub(args: &[Value]) -> Result<Value, String> {
    match args {
        [] => Err("-: expected at least one argument".into()),
        [n] => Ok(Value::Int(-int(n)?)),
        [first, rest @ ..] => Ok(Value::Int(int(first)? - sum(rest)?)),
    }
}

fn compare(args: &[Value], holds: fn(&i64, &i64) -> bool) -> Result<Value, String> {
    let mut all = true;
    for pair in args.windows(2) {
        all &= holds(&int(&pair[0])?, &int(&pair[1])?);
    }
    Ok(Value::Bool(all))
}

fn make_counter(_args: &[Value]) -> Result<Value, String> {
    let counter = Gc::new(Counter {
        count: Cell::new(0),
    });
    Ok(Value::Native(unsize!(counter => dyn NativeObject)))
}

/// The counter behind a `Value::Native`, downcast to its concrete type.
fn counter(args: &[Value]) -> Result<Gc<Counter>, String> {
    match args {
        [Value::Native(object)] => Gc::downcast::<Counter>(object.clone())
            .map_err(|other| format!("expected a counter, got {}", other.describe())),
        _ => Err("expected one counter argument".into()),
    }
}

fn counter_inc(args: &[Value]) -> Result<Value, String> {
    let counter = counter(args)?;
    counter.count.set(counter.count.get() + 1);
    Ok(Value::Int(counter.count.get()))
}

// ---- reader -----------------------------------------------------------------

/// Reads every form in `source`: integers, `#t`/`#f`, symbols and lists.
fn read(source: &str) -> Result<Vec<Value>, String> {
    let mut tokens = Vec::new();
    for line in source.lines() {
        let code = line.split(';').next().unwrap_or("");
        let spaced = code.replace('(', " ( ").replace(')', " ) ");
        tokens.extend(spaced.split_whitespace().map(str::to_owned));
    }
    let mut tokens = tokens.into_iter().peekable();
    let mut forms = Vec::new();
    while tokens.peek().is_some() {
        forms.push(read_form(&mut tokens)?);
    }
    Ok(forms)
}

type Tokens = std::iter::Peekable<std::vec::IntoIter<String>>;

fn read_form(tokens: &mut Tokens) -> Result<Value, String> {
    let token = tokens.next().ok_or("unexpected end of input")?;
    match token.as_str() {
        "(" => {
            let mut items = Vec::new();
            while tokens.next_if(|t| t == ")").is_none() {
                items.push(read_form(tokens)?);
            }
            Ok(Value::List(Gc::from(items)))
        }
        ")" => Err("unexpected )".into()),
        "#t" => Ok(Value::Bool(true)),
        "#f" => Ok(Value::Bool(false)),
        _ => Ok(token
            .parse()
            .map_or_else(|_| Value::Sym(Gc::from(token.as_str())), Value::Int)),
    }
}

// ---- evaluator --------------------------------------------------------------

fn symbol(value: &Value) -> Result<Gc<str>, String> {
    match value {
        Value::Sym(name) => Ok(name.clone()),
        other => Err(format!("expected a symbol, got {other}")),
    }
}

/// `(lambda (params..) body..)`, or a `define` of `(name params..)`.
fn make_lambda(params: &[Value], body: &[Value], env: &Gc<Env>) -> Result<Value, String> {
    if body.is_empty() {
        return Err("lambda: empty body".into());
    }
    let params = params.iter().map(symbol).collect::<Result<_, _>>()?;
    let (body, env) = (body.to_vec(), env.clone());
    Ok(Value::Lambda(Gc::new(Lambda { params, body, env })))
}

/// Starts a call: binds `args` in a new frame whose parent is the captured
/// environment, runs all but the last form of the body, and returns the last
/// form with the frame, for the caller to evaluate (in tail position).
fn enter(lambda: &Lambda, args: Vec<Value>) -> Result<(Value, Gc<Env>), String> {
    if args.len() != lambda.params.len() {
        return Err(format!("expected {} arguments", lambda.params.len()));
    }
    let frame = Env::new(Some(lambda.env.clone()), HashMap::new());
    frame
        .vars
        .borrow_mut()
        .extend(lambda.params.iter().cloned().zip(args));
    let (last, init) = lambda.body.split_last().expect("bodies are not empty");
    for form in init {
        eval(form, &frame)?;
    }
    Ok((last.clone(), frame))
}

/// Calls a procedure from Rust.
fn apply(procedure: &Value, args: Vec<Value>) -> Result<Value, String> {
    match procedure {
        Value::Builtin(builtin) => builtin(&args),
        Value::Lambda(lambda) => {
            let (last, frame) = enter(lambda, args)?;
            eval(&last, &frame)
        }
        other => Err(format!("not a procedure: {other}")),
    }
}

/// Evaluates `expr` in `env`. Tail positions (`if` branches, the last form
/// of a body, a call of a closure) loop instead of recursing, so the
/// language's loops run in constant Rust stack.
fn eval(expr: &Value, env: &Gc<Env>) -> Result<Value, String> {
    let (mut expr, mut env) = (expr.clone(), env.clone());
    loop {
        let items = match &expr {
            Value::Sym(name) => return env.lookup(name),
            Value::List(items) => items.clone(),
            other => return Ok(other.clone()),
        };
        let Some(head) = items.first() else {
            return Ok(Value::Nil);
        };
        let keyword = match head {
            Value::Sym(name) => &**name,
            _ => "",
        };
        match (keyword, &items[1..]) {
            ("define", [Value::List(signature), body @ ..]) => {
                let (name, params) = signature.split_first().ok_or("define: no name")?;
                env.define(symbol(name)?, make_lambda(params, body, &env)?);
                return Ok(Value::Nil);
            }
            ("define", [name, value]) => {
                let value = eval(value, &env)?;
                env.define(symbol(name)?, value);
                return Ok(Value::Nil);
            }
            ("lambda", [Value::List(params), body @ ..]) => {
                return make_lambda(params, body, &env);
            }
            ("if", [test, then, otherwise @ ..]) => {
                let truthy = !matches!(eval(test, &env)?, Value::Bool(false));
                expr = match (truthy, otherwise) {
                    (true, _) => then.clone(),
                    (false, [otherwise]) => otherwise.clone(),
                    (false, _) => return Ok(Value::Nil),
                };
            }
            ("let", [Value::List(bindings), body @ .., last]) => {
                let frame = Env::new(Some(env.clone()), HashMap::new());
                for binding in bindings.iter() {
                    let Value::List(pair) = binding else {
                        return Err(format!("let: bad binding {binding}"));
                    };
                    let [name, value] = &pair[..] else {
                        return Err(format!("let: bad binding {binding}"));
                    };
                    frame.define(symbol(name)?, eval(value, &env)?);
                }
                for form in body {
                    eval(form, &frame)?;
                }
                (expr, env) = (last.clone(), frame);
            }
            ("define" | "lambda" | "if" | "let", _) => return Err(format!("bad syntax: {expr}")),
            (_, arg_forms) => {
                let procedure = eval(head, &env)?;
                let args = arg_forms
                    .iter()
                    .map(|form| eval(form, &env))
                    .collect::<Result<Vec<_>, _>>()?;
                let Value::Lambda(lambda) = procedure else {
                    return apply(&procedure, args);
                };
                (expr, env) = enter(&lambda, args)?;
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => write!(f, "()"),
            Value::Bool(b) => write!(f, "{}", if *b { "#t" } else { "#f" }),
            Value::Int(n) => write!(f, "{n}"),
            Value::Sym(name) => write!(f, "{name}"),
            Value::List(items) => {
                let items: Vec<String> = items.iter().map(Value::to_string).collect();
                write!(f, "({})", items.join(" "))
            }
            Value::Lambda(_) => write!(f, "#<procedure>"),
            Value::Builtin(_) => write!(f, "#<builtin>"),
            Value::Native(object) => write!(f, "{}", object.describe()),
        }
    }
}

// ---- the program ------------------------------------------------------------

const PRELUDE: &str = "
; A native object: every call of a `loop` below counts itself here.
(define calls (make-counter))

; Each call returns a fresh recursive closure. `loop` is bound in make's
; frame, which it captures: the frame and the closure form a cycle.
(define (make n)
  (define (loop k acc)
    (counter-inc calls)
    (if (= k 0)
        acc
        (loop (- k 1) (+ acc n))))
  loop)

(define (fact n) (if (< n 2) 1 (* n (fact (- n 1)))))
";

const ITERATIONS: i64 = 1_000_000;

fn run(global: &Gc<Env>, source: &str) -> Value {
    let mut result = Value::Nil;
    for form in read(source).expect("read") {
        result = eval(&form, global).unwrap_or_else(|e| panic!("{form}: {e}"));
    }
    result
}

fn main() {
    let global = Env::global();
    run(&global, PRELUDE);
    for source in [
        "(fact 20)",
        "((make 7) 3 0)",
        "(let ((x 6) (y 7)) (* x y))",
        "calls",
    ] {
        println!("{source} => {}", run(&global, source));
    }

    // Reference counting alone cannot free a closure made by `make`.
    let Value::Lambda(closure) = run(&global, "(make 1)") else {
        panic!("make returned a non-closure");
    };
    let probe = Gc::downgrade(&closure);
    drop(closure);
    assert!(probe.upgrade().is_some(), "kept alive by its cycle");
    gc::collect();
    assert!(probe.upgrade().is_none(), "collect() frees the cycle");
    println!("a dropped closure outlives its last handle until collect() frees its cycle");

    // Who keeps a procedure alive? The chain speaks the language: frames
    // and lambdas describe themselves, and map entries are labelled by the
    // variable's name.
    let Value::Lambda(fact) = run(&global, "fact") else {
        panic!("fact is a procedure");
    };
    let target = Gc::to_object(&fact); // an introspection handle is never a root
    drop(fact);
    let chain = objgraph::find_backref_chain(&target, is_root, 10);
    let text = objgraph::format_chain(&chain);
    println!("why `fact` is alive:\n{text}");
    assert!(
        text.starts_with("Env #<global frame>\n  --vars[\"fact\"].Lambda.0--> Lambda (lambda (n)"),
        "{text}"
    );
    drop((chain, target));

    // The peak heap: the number of tracked objects when each collection starts.
    let peak = Rc::new(Cell::new(0));
    let seen = peak.clone();
    let callback = gc::add_callback(move |phase, _| {
        if phase == Phase::Start {
            seen.set(seen.get().max(gc::get_objects(None).len()));
        }
    });

    let make = global.lookup("make").expect("make is defined");
    let (three, zero) = (Value::Int(3), Value::Int(0));
    for i in 0..ITERATIONS {
        let closure = apply(&make, vec![Value::Int(i)]).expect("(make i)");
        let result = apply(&closure, vec![three.clone(), zero.clone()]).expect("(loop 3 0)");
        assert!(matches!(result, Value::Int(n) if n == 3 * i), "{result}");
        if (i + 1) % 200_000 == 0 {
            println!(
                "{:>9} closures: {:>4} tracked objects, get_count() = {:?}",
                i + 1,
                gc::get_objects(None).len(),
                gc::get_count()
            );
        }
    }
    gc::remove_callback(callback);
    println!("calls => {}", run(&global, "calls"));
    println!(
        "peak tracked objects over {ITERATIONS} recursive closures: {}",
        peak.get()
    );
    assert!(peak.get() < 10_000, "the heap stayed bounded");

    for (generation, stats) in gc::get_stats().iter().enumerate() {
        println!("generation {generation}: {stats:?}");
    }

    let leftover = gc::collect();
    println!("collect() with the interpreter alive: {leftover} closures and frames left over");
    assert_eq!(leftover % 2, 0, "frame and closure pairs");

    // The global frame is a cycle too: `make` and `fact` captured it.
    drop((global, make));
    let found = gc::collect();
    println!("dropped the interpreter; the final collect() found {found} unreachable objects");
    assert!(found > 0);
    assert!(gc::get_objects(None).is_empty(), "everything was freed");
    let collected: usize = gc::get_stats().iter().map(|s| s.collected).sum();
    assert!(
        collected as i64 >= 2 * ITERATIONS,
        "every frame and closure"
    );
}

#[test]
fn runs() {
    main();
}
