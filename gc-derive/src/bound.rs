//! The where-predicates of the generated impl (thiserror's `generics.rs`, serde's `bound.rs`).
//!
//! By default, each traced field whose type mentions a type parameter contributes
//! `FieldTy: Trace`, which is exactly what `trace` and `TRACKED` need: `struct S<T> { v: Vec<T>,
//! n: u32 }` gets `where Vec<T>: Trace`, and `struct P<T> { _p: PhantomData<T> }` gets a bound
//! on `PhantomData<T>` only, never a needless `T: Trace`.
//!
//! A field that also mentions the type itself (`Vec<Tree<T>>` in `struct Tree<T>`) contributes
//! `T: Trace` for each parameter it mentions instead: `where Vec<Tree<T>>: Trace` would make
//! proving `Tree<T>: Trace` require itself, which rustc reports as an overflow (E0275).
//!
//! `#[gc(bound = "...")]` replaces all of this with the user's predicates.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::visit::{self, Visit};
use syn::{Ident, Path, Type, WherePredicate};

use crate::ast::Input;
use crate::recursive;

/// The predicates to add to the type's own where-clause. `trace` is the path to the trait.
pub(crate) fn predicates(input: &Input<'_>, trace: &TokenStream) -> Vec<WherePredicate> {
    if let Some(bound) = &input.attrs.bound {
        return bound.value.clone();
    }
    let params: Vec<&Ident> = input
        .original
        .generics
        .type_params()
        .map(|param| &param.ident)
        .collect();
    let mut predicates = Predicates::default();
    if params.is_empty() {
        return predicates.list;
    }
    for field in input.traced_fields() {
        let mentioned = mentioned_params(field.ty, &params);
        if mentioned.is_empty() {
            continue;
        }
        if recursive::mentions_self(field.ty, input.ident()) {
            for param in mentioned {
                predicates.push(&quote!(#param: #trace));
            }
        } else {
            let ty = field.ty;
            // Spanned on the field's type, so that an unsatisfied bound points at the field.
            predicates.push(&quote_spanned!(ty.span()=> #ty: #trace));
        }
    }
    predicates.list
}

/// Predicates in first-seen order, without duplicates (`Vec<T>` twice gives one bound).
#[derive(Default)]
struct Predicates {
    seen: HashSet<String>,
    list: Vec<WherePredicate>,
}

impl Predicates {
    fn push(&mut self, tokens: &TokenStream) {
        if self.seen.insert(tokens.to_string()) {
            self.list.push(syn::parse_quote!(#tokens));
        }
    }
}

/// The type parameters among `params` that `ty` mentions: a path segment in `ty` (`T`,
/// `T::Assoc`, `<T as Tr>::X`, `Vec<T>`) whose ident is the parameter's. A false positive (a
/// type named like a parameter) only adds a harmless bound.
fn mentioned_params<'p>(ty: &Type, params: &[&'p Ident]) -> Vec<&'p Ident> {
    struct Mentions<'p, 'q> {
        params: &'q [&'p Ident],
        found: Vec<&'p Ident>,
    }
    impl<'ast> Visit<'ast> for Mentions<'_, '_> {
        fn visit_path(&mut self, path: &'ast Path) {
            for segment in &path.segments {
                if let Some(param) = self.params.iter().find(|p| **p == &segment.ident)
                    && !self.found.contains(param)
                {
                    self.found.push(param);
                }
            }
            visit::visit_path(self, path);
        }
    }
    let mut mentions = Mentions {
        params,
        found: Vec::new(),
    };
    mentions.visit_type(ty);
    mentions.found
}

/// The bounds of the `TraceMeta` impl: [`predicates`] with `TraceMeta` for `Trace` (the
/// `TRACKED` constant reads the field types' `TraceMeta`, which implies `Trace`). A
/// `#[gc(bound = "...")]` is rewritten the same way: each `Trace` in it becomes `TraceMeta`.
pub(crate) fn meta_predicates(
    input: &Input<'_>,
    trace: &TokenStream,
    meta: &TokenStream,
) -> Vec<WherePredicate> {
    if let Some(bound) = &input.attrs.bound {
        return bound
            .value
            .iter()
            .map(|predicate| {
                let tokens = rename_trace(quote!(#predicate), meta);
                syn::parse2(tokens).expect("a predicate with `Trace` renamed still parses")
            })
            .collect();
    }
    let _ = trace;
    predicates(input, meta)
}

/// Replaces the trait `Trace` in `tokens` by `TraceMeta`: a bare `Trace` by the full path
/// `meta` (the user's scope may not import `TraceMeta`), the last segment of a path
/// (`gc_core::Trace`) by `TraceMeta`.
fn rename_trace(tokens: TokenStream, meta: &TokenStream) -> TokenStream {
    use proc_macro2::{Group, Ident, TokenTree};
    let mut out = TokenStream::new();
    // The last two tokens were `:` `:` (a path separator).
    let (mut colon, mut after_path_sep) = (false, false);
    for tree in tokens {
        let is_colon = matches!(&tree, TokenTree::Punct(p) if p.as_char() == ':');
        let next_after_sep = is_colon && colon;
        match tree {
            TokenTree::Ident(ident) if ident == "Trace" => {
                if after_path_sep {
                    out.extend([TokenTree::Ident(Ident::new("TraceMeta", ident.span()))]);
                } else {
                    out.extend(meta.clone());
                }
            }
            TokenTree::Group(group) => {
                let mut renamed = Group::new(group.delimiter(), rename_trace(group.stream(), meta));
                renamed.set_span(group.span());
                out.extend([TokenTree::Group(renamed)]);
            }
            other => out.extend([other]),
        }
        after_path_sep = next_after_sep;
        colon = is_colon && !next_after_sep;
    }
    out
}
