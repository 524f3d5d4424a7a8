//! Code generation: parse → validate → expand, or the fallback on error.
//!
//! The output is one `const _: () = { ... };` block holding:
//!
//! - the `unsafe impl Trace` (`TRACKED`, `trace`, and the finalizer hooks with `finalize`);
//! - the blanket-impl conflict that forbids `Drop` ([`no_drop`]), or with `unsafe_no_drop` the
//!   requirement that the type implements `DropOk` ([`drop_ok`]).
//!
//! Every path is absolute (`::core::...`, `<crate>::Trace`) and every local and generic
//! parameter is `__`-prefixed (locals also get mixed-site hygiene, and `trace`'s type parameter
//! steps aside from the type's own: [`tracer_type_param`]), so the output compiles next to user
//! items named `Trace`, `Gc`, `Option`, `core`..., and in `#![no_implicit_prelude]` modules.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned as _;
use syn::{DeriveInput, GenericParam, Generics, Ident};

use crate::ast::{Data, Field, Input, Variant};
use crate::attr::Setting;
use crate::bound;
use crate::errors::Errors;
use crate::fallback;
use crate::recursive;
use crate::valid;

/// Expands `#[derive(Trace)]` on `node`. Never panics: errors become `compile_error!`s.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let errors = Errors::new();
    let input = Input::from_syn(&errors, node);
    valid::check(&errors, &input);
    match errors.finish() {
        Ok(()) => expand(&input),
        Err(error) => fallback::expand(&input, &error),
    }
}

/// Names shared by the pieces of one expansion.
struct Names {
    /// `<crate>::Trace`.
    trace: TokenStream,
    /// `<crate>::TraceMeta`.
    meta: TokenStream,
    /// `<crate>::Tracer`.
    tracer: TokenStream,
    /// The `trace` parameter.
    tracer_var: Ident,
    /// The closure parameter passed to `Tracer::field`.
    field_tracer_var: Ident,
}

/// The type parameter of `trace` (`fn trace<__V: Tracer>`): `__V`, with `_`s appended while
/// the type has a generic parameter of that name, which `trace`'s would clash with (E0403).
///
/// Generic parameters get no hygiene on stable (`Span::def_site` is unstable), hence the search.
/// Locals need none of this: they are `Span::mixed_site`, invisible to the user's code. (A user
/// *constant* named like one of them would still turn the binding into a constant pattern, as
/// with every derive; lowercase constants are linted against, so that is left alone.)
pub(crate) fn tracer_type_param(generics: &Generics) -> Ident {
    let mut name = String::from("__V");
    while generics.params.iter().any(|param| match param {
        GenericParam::Type(param) => param.ident == name,
        GenericParam::Const(param) => param.ident == name,
        GenericParam::Lifetime(_) => false,
    }) {
        name.push('_');
    }
    Ident::new(&name, Span::call_site())
}

fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input.crate_path();
    let names = Names {
        trace: quote!(#krate::Trace),
        meta: quote!(#krate::TraceMeta),
        tracer: quote!(#krate::Tracer),
        tracer_var: Ident::new("__tracer", Span::mixed_site()),
        field_tracer_var: Ident::new("__t", Span::mixed_site()),
    };
    let ident = input.ident();
    let trace = &names.trace;
    let tracer = &names.tracer;
    let tracer_var = &names.tracer_var;
    let tracer_ty = tracer_type_param(&input.original.generics);

    let meta = &names.meta;
    // Both impls are bounded on `TraceMeta` (which implies `Trace`): `trace` traces each field
    // through `TraceMeta::__trace`, and `TRACKED` reads the fields' `TraceMeta`.
    let mut generics = input.original.generics.clone();
    generics
        .make_where_clause()
        .predicates
        .extend(bound::meta_predicates(input, trace, meta));
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (meta_impl_generics, meta_where_clause) = (&impl_generics, where_clause);

    let traced_fields = input.traced_fields();
    let tracked = tracked(input, &traced_fields, meta);
    let recheck = recheck(input, &traced_fields);
    let tracer_param = if traced_fields.is_empty() {
        quote!(_)
    } else {
        quote!(#tracer_var)
    };
    let body = match &input.data {
        _ if traced_fields.is_empty() => TokenStream::new(),
        Data::Struct(fields) => trace_struct(fields, &names),
        Data::Enum(variants) => trace_enum(variants, &names),
        Data::Union(_) => TokenStream::new(),
    };
    let finalizer = input.attrs.finalize.as_ref().map(|setting| {
        // Spanned on `finalize` in the attribute: a missing `impl Finalize` is reported there.
        let finalize = quote_spanned!(setting.span()=> <Self as #krate::Finalize>::finalize);
        quote! {
            const __HAS_FINALIZER: bool = true;

            #[inline]
            fn __finalize(&self) {
                #finalize(self);
            }
        }
    });
    let describe = describe(input, &krate);
    let drop_check = match &input.attrs.unsafe_no_drop {
        None => no_drop(input),
        Some(setting) => drop_ok(input, &krate, setting),
    };

    // SAFETY: the generated impl keeps each point of `Trace`'s contract:
    // 1. Only owned edges: `trace` reports nothing itself; it calls `Trace::trace` on shared
    //    borrows of `self`'s own fields, and a field's edges are edges `self` owns. Each field
    //    type's impl keeps the contract in turn (or it is unsound on its own, not because of
    //    this impl).
    // 2. Each edge once: every traced field is visited exactly once: one call per field, in
    //    the one `match` arm of the active variant.
    // 3. The same edges throughout a collection: the visit depends only on the active variant,
    //    which cannot change while the collector runs (no user code runs between its calls),
    //    and on the fields' own `trace`, which keep this rule themselves.
    // 4. No `Gc` created, cloned or dropped and no user code run in `trace`: it only borrows
    //    fields and calls their `Trace` impls and the tracer's label methods.
    // 5. `Drop`: the `no_drop` conflict below rejects any `Drop` impl at compile time. With
    //    `#[gc(unsafe_no_drop)]`, `drop_ok` requires `unsafe impl DropOk` for the type instead:
    //    the user takes the obligation on themselves with the `unsafe` keyword, which
    //    `#![forbid(unsafe_code)]` rejects.
    // Skipped fields (`#[gc(skip)]`) report too few edges, which the contract allows (a leak,
    // never a use-after-free). `TRACKED` may be any value without unsafety; it is exact here.
    quote! {
        const _: () = {
            #[automatically_derived]
            unsafe impl #impl_generics #trace for #ident #ty_generics #where_clause {
                #[inline]
                fn trace<#tracer_ty: #tracer>(&self, #tracer_param: &mut #tracer_ty) {
                    #body
                }
            }

            #[automatically_derived]
            impl #meta_impl_generics #meta for #ident #ty_generics #meta_where_clause {
                const TRACKED: bool = #tracked;

                #finalizer

                #describe
            }

            #drop_check

            #recheck
        };
    }
}

/// The `TRACKED` expression: `Probe::<F1>::TRACKED || Probe::<F2>::TRACKED || ...` over the
/// traced field types, each listed once, with mentions of the type itself outside a `Gc<..>`
/// replaced by a placeholder of the same name declared in the expression's block (see
/// `recursive.rs`); `false` if nothing is traced.
fn tracked(input: &Input<'_>, traced: &[&Field<'_>], meta: &TokenStream) -> TokenStream {
    let ident = input.ident();
    let krate = input.crate_path();
    // `Probe::<F>::TRACKED` is `<F as TraceMeta>::TRACKED`, or `false` where `F: TraceMeta`
    // does not hold: then the field's `__trace` call reports the missing impl, once and with
    // the field's real type, and `TRACKED` adds no second error.
    let probe = quote!(#krate::__private::Probe);
    let placeholder = recursive::placeholder(ident);
    let replaced: Vec<Option<syn::Type>> = traced
        .iter()
        .map(|field| recursive::replace_self(field.ty, ident, &placeholder))
        .collect();
    let mentions_self = replaced.iter().any(Option::is_some);
    let mut seen = std::collections::HashSet::new();
    let mut terms = Vec::new();
    for (field, replaced) in traced.iter().zip(replaced) {
        let mut ty = replaced.unwrap_or_else(|| field.ty.clone());
        if mentions_self {
            ty = recursive::self_inside_gc(&ty, ident);
        }
        let term = respan(quote!(#probe::<#ty>::TRACKED), field.ty.span());
        if seen.insert(term.to_string()) {
            terms.push(term);
        }
    }
    if terms.is_empty() {
        return quote!(false);
    }
    let fallback = quote! {
        #[allow(unused_imports)]
        use #krate::__private::ProbeFallback as _;
    };
    if !mentions_self {
        return quote!({ #fallback #(#terms)||* });
    }
    quote! {{
        #fallback
        /// Stands for the type itself in `TRACKED`: owns no `Gc`.
        #[allow(dead_code)]
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug,
            ::core::default::Default, ::core::cmp::PartialEq, ::core::cmp::Eq,
            ::core::cmp::PartialOrd, ::core::cmp::Ord, ::core::hash::Hash,
        )]
        struct #ident;
        unsafe impl #krate::Trace for #ident {
            #[inline]
            fn trace<__V: #krate::Tracer>(&self, _: &mut __V) {}
        }
        impl #meta for #ident {
            const TRACKED: bool = false;
        }
        #(#terms)||*
    }}
}

/// The tools' hooks: with `#[gc(describe)]`, `__DESCRIBES` and `__describe` forwarding to
/// `Describe::describe`; and for a newtype (a struct with one traced field, none skipped), the
/// field's map-key label, so that `struct Symbol(Rc<str>)` labels `vars["x"]` as `Rc<str>`
/// does (std code only: it runs while the map is traced).
fn describe(input: &Input<'_>, krate: &syn::Path) -> TokenStream {
    let meta = quote!(#krate::TraceMeta);
    let f = Ident::new("__f", Span::mixed_site());
    let out = Ident::new("__out", Span::mixed_site());
    let describe = input.attrs.describe.as_ref().map(|setting| {
        // Spanned on `describe` in the attribute: a missing `impl Describe` is reported there.
        let describe = quote_spanned!(setting.span()=> <Self as #krate::Describe>::describe);
        quote! {
            const __DESCRIBES: bool = true;

            fn __describe(&self, #f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #describe(self, #f)
            }
        }
    });
    let key_label = match &input.data {
        Data::Struct(fields) if fields.len() == 1 && fields[0].is_traced() => {
            let field = &fields[0];
            let (ty, member) = (field.ty, &field.member);
            Some(quote! {
                #[inline]
                fn __key_label(&self, #out: &mut ::std::string::String) -> bool {
                    <#ty as #meta>::__key_label(&self.#member, #out)
                }
            })
        }
        _ => None,
    };
    quote!(#describe #key_label)
}

/// For a type without generics, a constant that evaluates `TRACKED` of each field type that
/// mentions the type itself, with the real type this time: `TRACKED` saw the placeholder there,
/// so `Rc<Node>` in a tracked `Node` (a `Gc` hidden behind an `Rc`) is reported here, at
/// `cargo check` time. For a generic type the same check runs when the type is traced (in
/// `Rc`'s `trace`, at monomorphisation).
fn recheck(input: &Input<'_>, traced: &[&Field<'_>]) -> TokenStream {
    if !input.original.generics.params.is_empty() {
        return TokenStream::new();
    }
    let krate = input.crate_path();
    let ident = input.ident();
    let mut seen = std::collections::HashSet::new();
    let terms: Vec<TokenStream> = traced
        .iter()
        .filter(|field| {
            recursive::replace_self(field.ty, ident, &recursive::placeholder(ident)).is_some()
        })
        .filter(|field| {
            let ty = field.ty;
            seen.insert(quote!(#ty).to_string())
        })
        .map(|field| {
            let ty = recursive::name_self(field.ty, ident);
            respan(
                quote!(#krate::__private::Probe::<#ty>::TRACKED),
                field.ty.span(),
            )
        })
        .collect();
    if terms.is_empty() {
        return TokenStream::new();
    }
    quote! {
        const _: bool = {
            #[allow(unused_imports)]
            use #krate::__private::ProbeFallback as _;
            #(#terms)||*
        };
    }
}

/// `tokens` with every span set to `span`, so that rustc points at the field for anything about
/// them (the crate path interpolated into a `quote_spanned!` would keep its own span).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = proc_macro2::TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}

/// One `Tracer::field(__tracer, "label", |__t| <FieldTy as TraceMeta>::__trace(<place>, __t));`
/// statement; `place` is `&self.field` or a `match` binding.
fn trace_field(field: &Field<'_>, place: &TokenStream, names: &Names) -> TokenStream {
    let Names {
        meta,
        tracer,
        tracer_var,
        field_tracer_var: t,
        ..
    } = names;
    let label = &field.label;
    let ty = field.ty;
    // Spanned on the field's type, like the field's term in `TRACKED`: "the trait bound `X:
    // Trace` is not satisfied" points at the field, once (rustc merges the two obligations).
    let trace_fn = quote_spanned!(ty.span()=> <#ty as #meta>::__trace);
    quote! {
        #tracer::field(#tracer_var, #label, |#t| #trace_fn(#place, #t));
    }
}

fn trace_struct(fields: &[Field<'_>], names: &Names) -> TokenStream {
    fields
        .iter()
        .filter(|field| field.is_traced())
        .map(|field| {
            let member = &field.member;
            trace_field(field, &quote!(&self.#member), names)
        })
        .collect()
}

fn trace_enum(variants: &[Variant<'_>], names: &Names) -> TokenStream {
    let arms = variants.iter().map(|variant| {
        let ident = &variant.original.ident;
        let traced: Vec<(usize, &Field<'_>)> = variant
            .fields
            .iter()
            .enumerate()
            .filter(|(_, field)| variant.is_traced() && field.is_traced())
            .collect();
        if traced.is_empty() {
            return quote!(Self::#ident { .. } => {});
        }
        let rest = (traced.len() < variant.fields.len()).then(|| quote!(..));
        let bindings: Vec<Ident> = traced
            .iter()
            .map(|(i, _)| format_ident!("__field{}", i, span = Span::mixed_site()))
            .collect();
        let members = traced.iter().map(|(_, field)| &field.member);
        let calls = traced
            .iter()
            .zip(&bindings)
            .map(|((_, field), binding)| trace_field(field, &quote!(#binding), names));
        quote! {
            Self::#ident { #(#members: #bindings,)* #rest } => {
                #(#calls)*
            }
        }
    });
    quote! {
        match self {
            #(#arms)*
        }
    }
}

/// gc-arena's trick: a trait implemented for every `Drop` type and for this type, so that a
/// `Drop` impl on this type makes the two impls overlap (E0119). The trait's name is what the
/// user reads in "conflicting implementations of trait `...` for type `Node`".
fn no_drop(input: &Input<'_>) -> TokenStream {
    let ident = input.ident();
    let (impl_generics, ty_generics, where_clause) = input.original.generics.split_for_impl();
    let name = no_drop_trait();
    quote! {
        #[allow(non_camel_case_types)]
        trait #name {}

        #[allow(drop_bounds)]
        impl<__T: ::core::ops::Drop + ?::core::marker::Sized> #name for __T {}

        impl #impl_generics #name for #ident #ty_generics #where_clause {}
    }
}

/// `#[gc(unsafe_no_drop)]`: instead of forbidding `Drop`, require `<crate>::DropOk`, whose
/// `unsafe impl` is the user's promise that `drop` never uses a `Gc` (pin-project's
/// `UnsafeUnpin`). An attribute alone, whatever its name, compiles under
/// `#![forbid(unsafe_code)]`; the `unsafe impl` does not.
///
/// The check is an impl with the type's generics and where-clause, so a generic type needs
/// `DropOk` for every instantiation, as its `Drop` impl (which must use the same generics,
/// E0367) covers every one; the impl header also brings the type's implied bounds (`T: 'a` for
/// a `&'a T` field) into scope. Its method calls a function whose only job is the `DropOk`
/// bound. Every token of the requirement is spanned on `unsafe_no_drop` in the attribute, and
/// the function is named after it: a missing impl is reported there, with `DropOk`'s
/// `on_unimplemented` message and "required by a bound in `unsafe_no_drop`", never a name the
/// user did not write.
fn drop_ok(input: &Input<'_>, krate: &syn::Path, setting: &Setting<()>) -> TokenStream {
    let ident = input.ident();
    let (impl_generics, ty_generics, where_clause) = input.original.generics.split_for_impl();
    let span = setting.span();
    let requirement = Ident::new("unsafe_no_drop", span);
    let drop_ok: TokenStream = quote!(#krate::DropOk)
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect();
    let this = quote_spanned!(span=> Self);
    quote! {
        fn #requirement<__T: ?::core::marker::Sized + #drop_ok>() {}

        trait __CheckDropOk {
            fn __check();
        }

        impl #impl_generics __CheckDropOk for #ident #ty_generics #where_clause {
            fn __check() {
                #requirement::<#this>();
            }
        }
    }
}

/// The name of the trait behind the `Drop` check.
pub(crate) fn no_drop_trait() -> Ident {
    Ident::new(
        "TypeDerivingTraceMustNotImplementDrop_UseGcFinalizeInstead",
        Span::call_site(),
    )
}
