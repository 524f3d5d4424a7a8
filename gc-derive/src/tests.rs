//! Unit tests: run the expansion on sample inputs and check the printed tokens.
//!
//! Token streams print with spaces between tokens (`Vec < T >`), so both sides of each
//! comparison are squashed (all whitespace removed) first. That the output also compiles and
//! behaves, against the real gc-core and next to hostile names, is checked by the integration
//! tests in `tests/tests/derive/` and by `gc-derive/tests/expand.rs` (whose header says which
//! file covers what).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;
use crate::errors::Errors;
use crate::{expand, valid};

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The expansion of `input`, squashed, after checking that it parses as Rust items.
fn expand(input: TokenStream) -> String {
    let node = syn::parse2(input).expect("test input is not a derive input");
    let output = expand::derive(&node);
    if let Err(error) = syn::parse2::<syn::File>(output.clone()) {
        panic!("expansion is not valid Rust: {error}\n{output}");
    }
    squash(&output.to_string())
}

#[track_caller]
fn assert_contains(output: &str, expected: &str) {
    let expected = squash(expected);
    assert!(
        output.contains(&expected),
        "expected to find\n  {expected}\nin\n  {output}"
    );
}

#[track_caller]
fn assert_lacks(output: &str, unexpected: &str) {
    let unexpected = squash(unexpected);
    assert!(
        !output.contains(&unexpected),
        "expected not to find\n  {unexpected}\nin\n  {output}"
    );
}

/// The error messages for `input`, in report order.
fn messages(input: TokenStream) -> Vec<String> {
    let node = syn::parse2(input).expect("test input is not a derive input");
    let errors = Errors::new();
    let input = Input::from_syn(&errors, &node);
    valid::check(&errors, &input);
    match errors.finish() {
        Ok(()) => Vec::new(),
        Err(error) => error.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The `TRACKED` expression of an expansion: the `||` of its terms, after the block's
/// `ProbeFallback` import and, when the type mentions itself, the placeholder's items.
fn tracked(output: &str) -> &str {
    let start = output.find("constTRACKED:bool=").expect("no TRACKED") + 18;
    let rest = &output[start..];
    let Some(block) = rest.strip_prefix('{') else {
        let end = rest.find(';').expect("unterminated TRACKED");
        return &rest[..end];
    };
    let import = "#[allow(unused_imports)]use::gc_core::__private::ProbeFallbackas_;";
    let mut after = block.find(import).expect("no ProbeFallback import") + import.len();
    if block[after..].starts_with("#[doc") {
        let marker = "constTRACKED:bool=false;}";
        after += block[after..].find(marker).expect("no placeholder") + marker.len();
    }
    let end = after + block[after..].find('}').expect("unterminated block");
    &block[after..end]
}

// ---------------------------------------------------------------------------------------------
// Structs

#[test]
fn named_struct() {
    let output = expand(quote! {
        struct Node {
            next: Option<Gc<Node>>,
            name: String,
        }
    });
    assert_contains(&output, "const _: () = {");
    assert_contains(
        &output,
        "#[automatically_derived] unsafe impl ::gc_core::Trace for Node {",
    );
    // The self-mention inside `Gc` is kept as written (no placeholder), and counted: `next` is
    // what makes a `Node` tracked.
    assert_eq!(
        tracked(&output),
        squash(
            "::gc_core::__private::Probe::<Option<Gc<Node>>>::TRACKED \
             || ::gc_core::__private::Probe::<String>::TRACKED"
        )
    );
    assert_contains(
        &output,
        "#[inline] fn trace<__V: ::gc_core::Tracer>(&self, __tracer: &mut __V) {",
    );
    assert_contains(
        &output,
        r#"::gc_core::Tracer::field(__tracer, "next",
            |__t| <Option<Gc<Node>> as ::gc_core::TraceMeta>::__trace(&self.next, __t));"#,
    );
    assert_contains(
        &output,
        r#"::gc_core::Tracer::field(__tracer, "name",
            |__t| <String as ::gc_core::TraceMeta>::__trace(&self.name, __t));"#,
    );
    assert_lacks(&output, "__HAS_FINALIZER");
    assert_lacks(&output, "struct Node;");
}

#[test]
fn describe_and_newtype_key_labels() {
    let output = expand(quote! {
        #[gc(describe)]
        struct Symbol(Rc<str>);
    });
    assert_contains(&output, "const __DESCRIBES: bool = true;");
    assert_contains(
        &output,
        "fn __describe(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {",
    );
    assert_contains(
        &output,
        "<Self as ::gc_core::Describe>::describe(self, __f)",
    );
    // A newtype forwards its key label to its one field.
    assert_contains(
        &output,
        "fn __key_label(&self, __out: &mut ::std::string::String) -> bool { \
         <Rc<str> as ::gc_core::TraceMeta>::__key_label(&self.0, __out) }",
    );
    // Not with two fields, nor with the one field skipped; no description without the
    // attribute.
    let two = expand(quote!(
        struct Pair(u8, u8);
    ));
    assert_lacks(&two, "__key_label");
    assert_lacks(&two, "__describe");
    let skipped = expand(quote!(
        struct Opaque(#[gc(skip)] u8);
    ));
    assert_lacks(&skipped, "__key_label");
}

#[test]
fn tuple_struct_labels_are_indices() {
    let output = expand(quote!(
        struct Pair(Gc<A>, u32);
    ));
    assert_contains(&output, r#"field(__tracer, "0", |__t| <Gc<A> as"#);
    assert_contains(&output, "::__trace(&self.0, __t)");
    assert_contains(&output, r#"field(__tracer, "1", |__t| <u32 as"#);
    assert_contains(&output, "::__trace(&self.1, __t)");
}

#[test]
fn unit_struct_traces_nothing() {
    let output = expand(quote!(
        struct Unit;
    ));
    assert_eq!(tracked(&output), "false");
    assert_contains(
        &output,
        "fn trace<__V: ::gc_core::Tracer>(&self, _: &mut __V) {}",
    );
    assert_lacks(&output, "Tracer::field");
}

#[test]
fn raw_identifiers_are_labelled_without_prefix() {
    let output = expand(quote!(
        struct S {
            r#type: Gc<u8>,
        }
    ));
    assert_contains(&output, r#""type""#);
    assert_contains(&output, "&self.r#type");
}

#[test]
fn skipped_fields_are_neither_traced_nor_counted() {
    let output = expand(quote! {
        struct S {
            a: Gc<A>,
            #[gc(skip)]
            b: Gc<B>,
        }
    });
    assert_eq!(
        tracked(&output),
        squash("::gc_core::__private::Probe::<Gc<A>>::TRACKED")
    );
    assert_lacks(&output, "self.b");
}

#[test]
fn tracked_lists_each_type_once() {
    let output = expand(quote!(
        struct S {
            a: Gc<A>,
            b: Gc<A>,
            c: u32,
        }
    ));
    assert_eq!(
        tracked(&output),
        squash(
            "::gc_core::__private::Probe::<Gc<A>>::TRACKED || ::gc_core::__private::Probe::<u32>::TRACKED"
        )
    );
}

#[test]
fn self_mentions_are_replaced_in_tracked_only() {
    let output = expand(quote! {
        struct List {
            next: Option<Box<Self>>,
            kids: Vec<(List, Gc<u8>)>,
            other: other::List,
            boxed: Box<List>,
        }
    });
    assert_eq!(
        tracked(&output),
        squash(
            "::gc_core::__private::Probe::<Option<Box<List>>>::TRACKED \
             || ::gc_core::__private::Probe::<Vec<(List, Gc<u8>)>>::TRACKED \
             || ::gc_core::__private::Probe::<other::List>::TRACKED \
             || ::gc_core::__private::Probe::<Box<List>>::TRACKED"
        )
    );
    // The placeholder is a unit struct named like the type, declared in the block.
    assert_contains(&output, "struct List;");
    // `trace` uses the real types.
    assert_contains(
        &output,
        "<Option<Box<Self>> as ::gc_core::TraceMeta>::__trace(&self.next",
    );
    assert_contains(
        &output,
        "<Box<List> as ::gc_core::TraceMeta>::__trace(&self.boxed",
    );
}

// ---------------------------------------------------------------------------------------------
// Enums

#[test]
fn enum_labels_and_arms() {
    let output = expand(quote! {
        enum E {
            Named { a: Gc<A>, #[gc(skip)] b: u32, c: Gc<C> },
            Tuple(Gc<A>, u8),
            #[gc(skip)]
            Skipped(Gc<B>),
            AllSkipped(#[gc(skip)] Gc<B>),
            Unit,
        }
    });
    assert_contains(
        &output,
        r#"match self {
            Self::Named { a: __field0, c: __field2, .. } => {
                ::gc_core::Tracer::field(__tracer, "Named.a",
                    |__t| <Gc<A> as ::gc_core::TraceMeta>::__trace(__field0, __t));
                ::gc_core::Tracer::field(__tracer, "Named.c",
                    |__t| <Gc<C> as ::gc_core::TraceMeta>::__trace(__field2, __t));
            }
            Self::Tuple { 0: __field0, 1: __field1, } => {
                ::gc_core::Tracer::field(__tracer, "Tuple.0",
                    |__t| <Gc<A> as ::gc_core::TraceMeta>::__trace(__field0, __t));
                ::gc_core::Tracer::field(__tracer, "Tuple.1",
                    |__t| <u8 as ::gc_core::TraceMeta>::__trace(__field1, __t));
            }
            Self::Skipped { .. } => {}
            Self::AllSkipped { .. } => {}
            Self::Unit { .. } => {}
        }"#,
    );
    assert_eq!(
        tracked(&output),
        squash(
            "::gc_core::__private::Probe::<Gc<A>>::TRACKED || ::gc_core::__private::Probe::<Gc<C>>::TRACKED \
             || ::gc_core::__private::Probe::<u8>::TRACKED"
        )
    );
}

#[test]
fn enum_without_traced_fields_has_no_match() {
    for input in [
        quote!(
            enum Never {}
        ),
        quote!(
            enum Flag {
                On,
                Off,
            }
        ),
        quote!(
            enum S {
                #[gc(skip)]
                A(Gc<u8>),
            }
        ),
    ] {
        let output = expand(input);
        assert_eq!(tracked(&output), "false");
        assert_contains(&output, "(&self, _: &mut __V) {}");
        assert_lacks(&output, "match");
    }
}

#[test]
fn recursive_enum() {
    let output = expand(quote! {
        enum Expr {
            Num(u32),
            Neg(Box<Expr>),
            Add { lhs: Box<Self>, rhs: Box<Expr> },
        }
    });
    assert_eq!(
        tracked(&output),
        squash(
            "::gc_core::__private::Probe::<u32>::TRACKED || ::gc_core::__private::Probe::<Box<Expr>>::TRACKED"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Generics and bounds

#[test]
fn bounds_are_inferred_per_field_type() {
    let output = expand(quote! {
        struct S<'a, T, U: Clone, const N: usize>
        where
            T: Copy,
        {
            items: Vec<T>,
            again: Vec<T>,
            count: u32,
            array: [Gc<u8>; N],
            marker: PhantomData<&'a U>,
            #[gc(skip)]
            skipped: Vec<U>,
        }
    });
    assert_contains(
        &output,
        "unsafe impl<'a, T, U: Clone, const N: usize> ::gc_core::Trace for S<'a, T, U, N> \
         where T: Copy, Vec<T>: ::gc_core::TraceMeta, PhantomData<&'a U>: ::gc_core::TraceMeta {",
    );
}

#[test]
fn defaults_and_unsized_params() {
    let output = expand(quote!(
        struct S<T: ?Sized = str, U = u8> {
            b: Box<T>,
            u: U,
        }
    ));
    assert_contains(
        &output,
        "unsafe impl<T: ?Sized, U> ::gc_core::Trace for S<T, U> \
         where Box<T>: ::gc_core::TraceMeta, U: ::gc_core::TraceMeta {",
    );
    assert_contains(&output, "for S<T, U> {}");
}

#[test]
fn params_in_paths_and_projections_count() {
    let output = expand(quote!(
        struct S<T: Iterator> {
            a: Option<T::Item>,
            b: <T as X>::Y,
        }
    ));
    assert_contains(
        &output,
        "where Option<T::Item>: ::gc_core::TraceMeta, <T as X>::Y: ::gc_core::TraceMeta {",
    );
}

#[test]
fn self_mentioning_fields_bound_their_params() {
    // `where Vec<Tree<T>>: Trace` would make `Tree<T>: Trace` depend on itself (E0275).
    let output = expand(quote! {
        enum Tree<T, U> {
            Leaf(T),
            Node(Vec<Tree<T, U>>, Option<Box<Self>>),
        }
    });
    assert_contains(
        &output,
        "unsafe impl<T, U> ::gc_core::Trace for Tree<T, U> where T: ::gc_core::TraceMeta, \
         U: ::gc_core::TraceMeta {",
    );
    assert_lacks(&output, "Vec<Tree<T,U>>:");
}

#[test]
fn bound_attribute_replaces_inferred_bounds() {
    let output = expand(quote! {
        #[gc(bound = "T: ::gc_core::TraceMeta + 'static, U: Foo")]
        struct S<T, U>(Vec<T>, U) where T: Clone;
    });
    assert_contains(
        &output,
        "::gc_core::Trace for S<T, U> where T: Clone, T: ::gc_core::TraceMeta + 'static, U: Foo {",
    );
    assert_lacks(&output, "Vec<T>:");

    let output = expand(quote! {
        #[gc(bound = "")]
        struct S<T>(Vec<T>);
    });
    assert_contains(&output, "::gc_core::Trace for S<T> {");
}

#[test]
fn drop_check_uses_the_original_generics() {
    let output = expand(quote!(
        struct S<T: Clone>(Vec<T>)
        where
            T: Copy;
    ));
    let name = expand::no_drop_trait();
    assert_contains(&output, &format!("trait {name} {{}}"));
    assert_contains(
        &output,
        &format!(
            "#[allow(drop_bounds)] impl<__T: ::core::ops::Drop + ?::core::marker::Sized> {name} \
             for __T {{}}"
        ),
    );
    assert_contains(
        &output,
        &format!("impl<T: Clone> {name} for S<T> where T: Copy {{}}"),
    );
}

#[test]
fn tracer_parameter_avoids_the_types_own() {
    let output = expand(quote! {
        struct S<__V, const __V_: usize>([__V; __V_]);
    });
    assert_contains(
        &output,
        "fn trace<__V__: ::gc_core::Tracer>(&self, __tracer: &mut __V__) {",
    );
    // The fallback's stub too.
    let node = syn::parse_quote! {
        #[gc(bogus)]
        struct S<__V>(__V);
    };
    let output = squash(&expand::derive(&node).to_string());
    assert_contains(
        &output,
        "fn trace<__V_: ::gc_core::Tracer>(&self, _: &mut __V_) {}",
    );
}

// ---------------------------------------------------------------------------------------------
// Type-level attributes

#[test]
fn crate_attribute_changes_every_path() {
    let output = expand(quote! {
        #[gc(crate = "my::gc")]
        #[gc(finalize)]
        struct S<T>(T);
    });
    assert_lacks(&output, "gc_core");
    assert_contains(
        &output,
        "unsafe impl<T> my::gc::Trace for S<T> where T: my::gc::TraceMeta {",
    );
    assert_contains(&output, "fn trace<__V: my::gc::Tracer>");
    assert_contains(&output, "<Self as my::gc::Finalize>::finalize(self);");
}

#[test]
fn finalize_sets_the_hooks() {
    let output = expand(quote! {
        #[gc(finalize)]
        struct S;
    });
    assert_contains(
        &output,
        "const __HAS_FINALIZER: bool = true; \
         #[inline] fn __finalize(&self) { <Self as ::gc_core::Finalize>::finalize(self); }",
    );
}

#[test]
fn unsafe_no_drop_requires_drop_ok_instead_of_the_drop_check() {
    let name = expand::no_drop_trait().to_string();
    let output = expand(quote!(
        struct S;
    ));
    assert!(output.contains(&name));
    assert_lacks(&output, "DropOk");

    let output = expand(quote!(
        #[gc(unsafe_no_drop)]
        struct S;
    ));
    assert!(!output.contains(&name));
    assert_contains(
        &output,
        "fn unsafe_no_drop<__T: ?::core::marker::Sized + ::gc_core::DropOk>() {} \
         trait __CheckDropOk { fn __check(); } \
         impl __CheckDropOk for S { fn __check() { unsafe_no_drop::<Self>(); } }",
    );
}

#[test]
fn drop_ok_check_uses_the_original_generics_and_crate_path() {
    let output = expand(quote! {
        #[gc(unsafe_no_drop, crate = "my::gc")]
        struct S<'a, T: Clone + ?Sized = str, const N: usize = 1>(&'a T)
        where
            T: Copy;
    });
    assert_lacks(&output, "gc_core");
    assert_contains(
        &output,
        "fn unsafe_no_drop<__T: ?::core::marker::Sized + my::gc::DropOk>() {}",
    );
    assert_contains(
        &output,
        "impl<'a, T: Clone + ?Sized, const N: usize> __CheckDropOk for S<'a, T, N> where T: Copy {",
    );
}

#[test]
fn empty_and_repeated_lists_are_fine() {
    let output = expand(quote! {
        #[gc()]
        #[gc(finalize)]
        #[gc(unsafe_no_drop,)]
        #[derive(Debug)]
        #[doc = "not ours"]
        struct S(#[gc()] #[gc(skip)] u8);
    });
    assert_contains(&output, "__HAS_FINALIZER");
    assert_eq!(tracked(&output), "false");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn valid_inputs_have_no_errors() {
    assert!(
        messages(quote!(
            struct S<T>(#[gc(skip)] T);
        ))
        .is_empty()
    );
}

#[test]
fn hidden_gc_edges_are_rejected_with_what_to_write_instead() {
    let rc = messages(quote! {
        struct Env {
            parent: Option<Rc<RefCell<Gc<Env>>>>,
            shared: std::sync::Arc<Vec<(u8, Gc<u8>)>>,
            weak: rc::Weak<Gc<u8>>,
        }
    });
    assert_eq!(
        rc,
        [
            "a `Gc` inside an `Rc` is an edge the collector cannot see, so a cycle through it \
             would never be freed: hold the contents in a `Gc` instead (`Gc<RefCell<Gc<Env>>>`); \
             mark the field `#[gc(skip)]` only if it never holds a `Gc`",
            "a `Gc` inside an `Arc` is an edge the collector cannot see, so a cycle through it \
             would never be freed: hold the contents in a `Gc` instead (`Gc<Vec<(u8, Gc<u8>)>>`); \
             mark the field `#[gc(skip)]` only if it never holds a `Gc`",
            "a `Gc` inside an `rc::Weak` is an edge the collector cannot see, so a cycle through \
             it would never be freed: hold the contents in a `Gc` instead (`Gc<Gc<u8>>`); mark \
             the field `#[gc(skip)]` only if it never holds a `Gc`",
        ]
    );
    assert_eq!(
        messages(quote! {
            enum Node { Link(Vec<Cell<Option<Gc<Node>>>>) }
        }),
        [
            "a `Gc` cannot be held in a `Cell`: a `Cell` hands out only copies of its value, so \
             the collector cannot look inside it, and a `Gc` is not `Copy`; use a `RefCell` \
             instead (`RefCell<Option<Gc<Node>>>`)"
        ]
    );
    let closure = "a boxed closure cannot be traced: the collector cannot see what it captures; \
                   if it captures a `Gc`, make it a `gc_core::Closure` with `gc_closure!`, and if \
                   it captures none, mark the field `#[gc(skip)]`";
    assert_eq!(
        messages(quote! {
            struct Button {
                on_click: Box<dyn Fn() + 'static>,
                builtins: HashMap<String, Rc<dyn FnMut(&[Value]) -> Value>>,
            }
        }),
        [closure, closure]
    );
}

#[test]
fn gc_free_shared_contents_are_accepted() {
    // Rc/Arc/Cell around contents that name no `Gc`, a function type or `PhantomData` that
    // mentions one (neither owns it), a skipped field and a skipped variant. (Gc-holding user
    // types inside an `Rc` are still rejected by the trait impls.)
    assert!(
        messages(quote! {
            enum Value {
                Str(Rc<str>),
                Bytes(Arc<[u8]>),
                Count(Cell<u64>),
                Builtin(Rc<fn(Gc<Value>) -> Gc<Value>>),
                Marker(Rc<PhantomData<Gc<Value>>>),
                Weak(Rc<RefCell<gc_core::Weak<Value>>>),
                Skipped(#[gc(skip)] Rc<Gc<Value>>),
                // The user's own types decide for themselves (a typed id over a
                // `PhantomData`), and so does another crate's `Gc`.
                Id(Cell<Id<Gc<Value>>>),
                Ids(Rc<Vec<Id<Gc<Value>>>>),
                Foreign(Rc<bio::Gc>, Cell<bio::Gc>),
                #[gc(skip)]
                Native(Box<dyn Fn(Gc<Value>)>),
            }
        })
        .is_empty()
    );
}

#[test]
fn union_is_rejected() {
    assert_eq!(
        messages(quote!(union U { a: u32 })),
        [
            "`#[derive(Trace)]` does not support unions: the collector cannot know which field is \
             active; implement `Trace` manually and trace only the active field"
        ]
    );
}

#[test]
fn packed_is_rejected() {
    let message = "`#[derive(Trace)]` does not support `#[repr(packed)]`: `trace` borrows every \
                   field, and fields of a packed struct cannot be borrowed; implement `Trace` \
                   manually";
    assert_eq!(
        messages(quote!(
            #[repr(packed)]
            struct P(u32);
        )),
        [message]
    );
    assert_eq!(
        messages(quote!(
            #[repr(C, packed(2))]
            struct P(u32);
        )),
        [message]
    );
    assert!(
        messages(quote!(
            #[repr(C, align(8))]
            struct P(u32);
        ))
        .is_empty()
    );
}

#[test]
fn unknown_keys_list_the_valid_ones() {
    assert_eq!(
        messages(quote!(
            #[gc(bogus)]
            struct S;
        )),
        [
            "unknown attribute `#[gc(bogus)]`; expected one of `bound = \"...\"`, \
             `crate = \"...\"`, `describe`, `finalize`, `unsafe_no_drop` on the type"
        ]
    );
    assert_eq!(
        messages(quote!(
            struct S(#[gc(skp = 1)] u8);
        )),
        ["unknown attribute `#[gc(skp)]`; expected `skip` on a field"]
    );
    assert_eq!(
        messages(quote!(
            enum E {
                #[gc(a::b(c))]
                V,
            }
        )),
        ["unknown attribute `#[gc(a::b)]`; expected `skip` on an enum variant"]
    );
}

#[test]
fn wrong_value_kinds() {
    assert_eq!(
        messages(quote! {
            #[gc(finalize = true, unsafe_no_drop(x), bound = 3, crate = my::gc, bound)]
            struct S(#[gc(skip = 1)] u8);
        }),
        [
            "`#[gc(finalize)]` takes no value",
            "`#[gc(unsafe_no_drop)]` takes no value",
            "expected a string literal: `#[gc(bound = \"...\")]`",
            "expected a string literal: `#[gc(crate = \"...\")]`",
            "expected `#[gc(bound = \"...\")]`",
            "`#[gc(skip)]` takes no value",
        ]
    );
    assert_eq!(
        messages(quote!(
            #[gc(crate(x), crate =)]
            struct S;
        )),
        [
            "expected `#[gc(crate = \"...\")]`",
            "expected `#[gc(crate = \"...\")]`"
        ]
    );
}

#[test]
fn unparsable_strings() {
    let messages = messages(quote! {
        #[gc(bound = "T Trace", crate = "not a path")]
        struct S<T>(T);
    });
    assert_eq!(messages.len(), 2);
    assert!(
        messages[0].starts_with("invalid `#[gc(bound = \"...\")]`: ")
            && messages[0].ends_with("; expected where-predicates such as `T: Trace, U: Clone`"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("invalid `#[gc(crate = \"...\")]`: ")
            && messages[1].ends_with("; expected a path such as `::gc_core`"),
        "{messages:?}"
    );
}

#[test]
fn duplicates() {
    assert_eq!(
        messages(quote! {
            #[gc(finalize, finalize, unsafe_no_drop)]
            #[gc(unsafe_no_drop, crate = "a", bound = "")]
            #[gc(crate = "b", bound = "T: X")]
            struct S<T>(#[gc(skip)] #[gc(skip)] T);
        }),
        [
            "duplicate `#[gc(finalize)]` attribute",
            "duplicate `#[gc(unsafe_no_drop)]` attribute",
            "duplicate `#[gc(crate = \"...\")]` attribute",
            "duplicate `#[gc(bound = \"...\")]` attribute",
            "duplicate `#[gc(skip)]` attribute",
        ]
    );
}

#[test]
fn misplaced_keys() {
    assert_eq!(
        messages(quote! {
            #[gc(skip)]
            enum E {
                #[gc(crate = "x", bound = "", finalize, unsafe_no_drop, skip)]
                V(#[gc(finalize, skip)] u8),
            }
        }),
        [
            "`#[gc(skip)]` belongs on a field or an enum variant, not on the type",
            "`#[gc(crate = \"...\")]` belongs on the type, not on an enum variant",
            "`#[gc(bound = \"...\")]` belongs on the type, not on an enum variant",
            "`#[gc(finalize)]` belongs on the type, not on an enum variant",
            "`#[gc(unsafe_no_drop)]` belongs on the type, not on an enum variant",
            "`#[gc(finalize)]` belongs on the type, not on a field",
        ]
    );
}

#[test]
fn malformed_lists() {
    assert_eq!(
        messages(quote!(
            #[gc]
            #[gc = "skip"]
            struct S;
        )),
        [
            "expected a parenthesized list: `#[gc(...)]`",
            "expected a parenthesized list: `#[gc(...)]`"
        ]
    );
    // A syntax error inside the list: syn's own message, prefixed, and syn stops reading that
    // list.
    assert_eq!(
        messages(quote!(
            #[gc(unsafe_no_drop, "x", finalize)]
            struct S;
        )),
        ["invalid `#[gc(...)]` syntax: unexpected literal in nested attribute, expected ident"]
    );
    assert_eq!(
        messages(quote!(
            #[gc(skip,,)]
            struct S;
        )),
        [
            "invalid `#[gc(...)]` syntax: unexpected token in nested attribute, expected ident",
            "`#[gc(skip)]` belongs on a field or an enum variant, not on the type",
        ]
    );
}

#[test]
fn all_errors_are_reported_together() {
    let messages = messages(quote! {
        #[gc(skip, bogus)]
        union U {
            #[gc(nonsense)]
            a: u32,
        }
    });
    // Union fields are not looked at: the union error says it all.
    assert_eq!(messages.len(), 3, "{messages:?}");
}

#[test]
fn errors_come_with_a_stub_impl() {
    let node = syn::parse_quote! {
        #[gc(bogus)]
        struct S<T: Clone>(T) where T: Copy;
    };
    let output = squash(&expand::derive(&node).to_string());
    assert_contains(
        &output,
        "::core::compile_error!{\"unknown attribute `#[gc(bogus)]`",
    );
    assert_contains(
        &output,
        "#[automatically_derived] unsafe impl<T: Clone> ::gc_core::Trace for S<T> where T: Copy {\
         #[inline] fn trace<__V: ::gc_core::Tracer>(&self, _: &mut __V) {} }",
    );
    assert_lacks(&output, "TRACKED");
}

#[test]
fn no_stub_when_the_crate_path_is_invalid() {
    for input in [
        quote!(
            #[gc(crate = 1)]
            struct S;
        ),
        quote!(
            #[gc(crate = "1 + 1")]
            struct S;
        ),
    ] {
        let node = syn::parse2(input).unwrap();
        let output = expand::derive(&node).to_string();
        assert!(output.contains("compile_error"), "{output}");
        assert!(!output.contains("impl"), "{output}");
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshot: the crate docs' expansion example

/// The code blocks of the crate docs (`//!` lines of `lib.rs`), in order.
fn doc_code_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in include_str!("lib.rs").lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        match (&mut current, doc.starts_with("```")) {
            (None, true) => current = Some(String::new()),
            (Some(_), true) => blocks.extend(current.take()),
            (Some(block), false) => {
                block.push_str(doc);
                block.push('\n');
            }
            (None, false) => {}
        }
    }
    blocks
}

/// The crate docs show what the derive generates for a small struct; that text must be the real
/// output, pretty-printed as `cargo expand` does. On a change to the expansion, update the docs
/// with the "actual" text this test prints.
#[test]
fn docs_show_the_real_expansion() {
    let blocks = doc_code_blocks();
    let example = blocks
        .iter()
        .position(|block| block.starts_with("const _: () = {"))
        .expect("no expansion example in the crate docs");
    let input: syn::DeriveInput =
        syn::parse_str(&blocks[example - 1]).expect("the block before the expansion is its input");
    let output: syn::File = syn::parse2(expand::derive(&input)).expect("expansion is Rust");
    let actual = prettyplease::unparse(&output);
    assert!(
        actual == blocks[example],
        "the crate docs' expansion example is out of date\n--- docs:\n{}\n--- actual:\n{actual}",
        blocks[example]
    );
}
