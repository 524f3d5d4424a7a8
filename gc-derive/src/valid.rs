//! Semantic checks: what the attribute syntax allows but the derive does not.

use quote::quote;
use syn::{Attribute, GenericArgument, PathArguments, PathSegment, Type, TypeParamBound};

use crate::ast::{Data, Field, Input};
use crate::attr::{Attrs, Place, Setting};
use crate::errors::Errors;

/// Records every problem with `input` in `errors`.
pub(crate) fn check(errors: &Errors, input: &Input<'_>) {
    check_type_attrs(errors, &input.attrs);
    match &input.data {
        Data::Struct(fields) => {
            for field in fields {
                check_member_attrs(errors, &field.attrs, Place::Field);
                check_field_type(errors, field);
            }
        }
        Data::Enum(variants) => {
            for variant in variants {
                check_member_attrs(errors, &variant.attrs, Place::Variant);
                for field in &variant.fields {
                    check_member_attrs(errors, &field.attrs, Place::Field);
                    if variant.is_traced() {
                        check_field_type(errors, field);
                    }
                }
            }
        }
        Data::Union(data) => {
            let union_token = data.union_token;
            let ident = input.ident();
            errors.spanned(
                quote!(#union_token #ident),
                "`#[derive(Trace)]` does not support unions: the collector cannot know which field \
                 is active; implement `Trace` manually and trace only the active field",
            );
        }
    }
    check_not_packed(errors, &input.original.attrs);
}

/// A traced field's type: see [`check_hidden_edges`].
fn check_field_type(errors: &Errors, field: &Field<'_>) {
    if field.is_traced() {
        check_hidden_edges(errors, field.ty);
    }
}

/// Keys that only make sense on a field or variant.
fn check_type_attrs(errors: &Errors, attrs: &Attrs) {
    misplaced(errors, attrs.skip.as_ref(), "skip", Place::Type);
}

/// Keys that only make sense on the type.
fn check_member_attrs(errors: &Errors, attrs: &Attrs, place: Place) {
    misplaced(errors, attrs.krate.as_ref(), "crate = \"...\"", place);
    misplaced(errors, attrs.bound.as_ref(), "bound = \"...\"", place);
    misplaced(errors, attrs.finalize.as_ref(), "finalize", place);
    misplaced(errors, attrs.describe.as_ref(), "describe", place);
    misplaced(
        errors,
        attrs.unsafe_no_drop.as_ref(),
        "unsafe_no_drop",
        place,
    );
}

fn misplaced<T>(errors: &Errors, setting: Option<&Setting<T>>, key: &str, place: Place) {
    let Some(setting) = setting else { return };
    let belongs = match place {
        Place::Type => "on a field or an enum variant",
        Place::Variant | Place::Field => "on the type",
    };
    errors.spanned(
        &setting.tokens,
        format!(
            "`#[gc({key})]` belongs {belongs}, not on {}",
            place.describe()
        ),
    );
}

/// A packed struct's fields cannot be borrowed, and `trace` borrows every field.
fn check_not_packed(errors: &Errors, attrs: &[Attribute]) {
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("repr")) {
        // A malformed `repr` is rustc's to report; only a well-formed `packed` matters here.
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("packed") {
                errors.spanned(
                    &meta.path,
                    "`#[derive(Trace)]` does not support `#[repr(packed)]`: `trace` borrows every \
                     field, and fields of a packed struct cannot be borrowed; implement `Trace` \
                     manually",
                );
            }
            if meta.input.peek(syn::token::Paren) {
                let _align: proc_macro2::Group = meta.input.parse()?;
            }
            Ok(())
        });
    }
}

/// Field types that would hide a `Gc` from the collector, recognised by name where they are
/// written out (`Rc<RefCell<Gc<Env>>>`, `Cell<Option<Gc<Node>>>`, `Box<dyn Fn()>`), so the
/// error names the field and says what to write instead. Through an alias or a generic
/// parameter the same types are still rejected, by the trait impls in gc-core (`Rc`'s
/// `TRACKED` check, `Cell<T: Copy>`, no `Trace` for `dyn Fn`), in rustc's words.
fn check_hidden_edges(errors: &Errors, ty: &Type) {
    match hidden_edge(ty) {
        Some(Hidden::Shared { wrapper, ty }) => errors.spanned(
            ty,
            format!(
                "a `Gc` inside an `{wrapper}` is an edge the collector cannot see, so a cycle \
                 through it would never be freed: hold the contents in a `Gc` instead \
                 (`{}`); mark the field `#[gc(skip)]` only if it never holds a `Gc`",
                display(&rename(ty, "Gc")),
            ),
        ),
        Some(Hidden::Cell(ty)) => errors.spanned(
            ty,
            format!(
                "a `Gc` cannot be held in a `Cell`: a `Cell` hands out only copies of its value, \
                 so the collector cannot look inside it, and a `Gc` is not `Copy`; use a \
                 `RefCell` instead (`{}`)",
                display(&rename(ty, "RefCell")),
            ),
        ),
        Some(Hidden::Closure(ty)) => errors.spanned(
            ty,
            "a boxed closure cannot be traced: the collector cannot see what it captures; if it \
             captures a `Gc`, make it a `gc_core::Closure` with `gc_closure!`, and if it \
             captures none, mark the field `#[gc(skip)]`",
        ),
        None => {}
    }
}

/// A type that hides a `Gc` from the collector.
enum Hidden<'a> {
    /// `Rc<..Gc..>`, `Arc<..Gc..>`, `rc::Weak<..Gc..>`, `sync::Weak<..Gc..>`.
    Shared { wrapper: &'static str, ty: &'a Type },
    /// `Cell<..Gc..>`.
    Cell(&'a Type),
    /// `Box<dyn Fn..>`, `Rc<dyn Fn..>`, `Arc<dyn Fn..>`.
    Closure(&'a Type),
}

/// The outermost type in `ty` that hides a `Gc`, looking through the type arguments of std
/// containers, tuples, arrays and slices (not through the user's own types, `PhantomData`,
/// function types or trait objects: they may own no `Gc` at all, and their own impls decide).
fn hidden_edge(ty: &Type) -> Option<Hidden<'_>> {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            let qualifier = path.path.segments.iter().rev().nth(1).map(|s| &s.ident);
            let name = last.ident.to_string();
            let args = generic_types(last);
            if matches!(name.as_str(), "Box" | "Rc" | "Arc")
                && args.first().is_some_and(|arg| is_closure(arg))
            {
                return Some(Hidden::Closure(ty));
            }
            let wrapper = match (name.as_str(), qualifier) {
                ("Rc", _) => Some("Rc"),
                ("Arc", _) => Some("Arc"),
                ("Weak", Some(q)) if q == "rc" => Some("rc::Weak"),
                ("Weak", Some(q)) if q == "sync" => Some("sync::Weak"),
                _ => None,
            };
            if let Some(wrapper) = wrapper {
                return args
                    .iter()
                    .any(|arg| holds_gc(arg))
                    .then_some(Hidden::Shared { wrapper, ty });
            }
            if name == "Cell" {
                return args
                    .iter()
                    .any(|arg| holds_gc(arg))
                    .then_some(Hidden::Cell(ty));
            }
            if !is_std_container(&name) {
                return None;
            }
            args.into_iter().find_map(hidden_edge)
        }
        _ => elements(ty).into_iter().find_map(hidden_edge),
    }
}

/// The element types of a tuple, array, slice or parenthesised type; none for other types.
fn elements(ty: &Type) -> Vec<&Type> {
    match ty {
        Type::Tuple(tuple) => tuple.elems.iter().collect(),
        Type::Array(array) => vec![&*array.elem],
        Type::Slice(slice) => vec![&*slice.elem],
        Type::Paren(paren) => vec![&*paren.elem],
        Type::Group(group) => vec![&*group.elem],
        _ => Vec::new(),
    }
}

/// Whether `ty` holds a `gc_core::Gc` (written `Gc` or `gc_core::Gc`)
/// directly or through std containers.
fn holds_gc(ty: &Type) -> bool {
    match ty {
        Type::Path(path) if path.qself.is_none() => {
            let segments = &path.path.segments;
            let Some(last) = segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            if name == "Gc" {
                let qualifier = segments.iter().rev().nth(1).map(|s| s.ident.to_string());
                return matches!(qualifier.as_deref(), None | Some("gc_core"));
            }
            is_std_container(&name) && generic_types(last).into_iter().any(holds_gc)
        }
        _ => elements(ty).into_iter().any(holds_gc),
    }
}

/// The std types that own what their type arguments name, as far as this
/// check looks through: a `Gc` inside one of them is held by the field.
fn is_std_container(name: &str) -> bool {
    matches!(
        name,
        "Option"
            | "Result"
            | "Box"
            | "Vec"
            | "VecDeque"
            | "LinkedList"
            | "BinaryHeap"
            | "HashMap"
            | "BTreeMap"
            | "HashSet"
            | "BTreeSet"
            | "RefCell"
            | "OnceCell"
            | "Cell"
            | "Rc"
            | "Arc"
            | "Weak"
            | "Reverse"
            | "Pin"
            | "Mutex"
            | "RwLock"
    )
}

/// `dyn Fn(..)`, `dyn FnMut(..)`, `dyn FnOnce(..)`, with any other bounds.
fn is_closure(ty: &Type) -> bool {
    let Type::TraitObject(object) = ty else {
        return false;
    };
    object.bounds.iter().any(|bound| match bound {
        TypeParamBound::Trait(bound) => bound
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "Fn" | "FnMut" | "FnOnce")),
        _ => false,
    })
}

/// The type arguments of a path segment (`T` and `U` in `HashMap<T, U>`).
fn generic_types(segment: &PathSegment) -> Vec<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|arg| match arg {
                GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `ty` with its outermost path segment renamed (`Rc<RefCell<X>>` to `Gc<RefCell<X>>`), for
/// the suggestion in a message.
fn rename(ty: &Type, to: &str) -> Type {
    let mut ty = ty.clone();
    if let Type::Path(path) = &mut ty {
        let last = path
            .path
            .segments
            .pop()
            .map(syn::punctuated::Pair::into_value);
        if let Some(mut last) = last {
            last.ident = syn::Ident::new(to, last.ident.span());
            path.path.segments.clear();
            path.path.leading_colon = None;
            path.path.segments.push(last);
        }
    }
    ty
}

/// A type as a user writes it: `Option<Gc<Node>>`, not the token printer's `Option < Gc < Node > >`.
fn display(ty: &Type) -> String {
    let text = quote!(#ty).to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue = matches!(prev, Some('<' | '&' | ':' | '('))
                || matches!(next, Some('<' | '>' | ',' | ':' | ')' | ';'));
            if glue {
                continue;
            }
        }
        out.push(c);
    }
    out
}
