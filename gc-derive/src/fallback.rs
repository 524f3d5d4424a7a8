//! What the derive emits when the input is invalid (serde's `dummy.rs`, thiserror's
//! `fallback.rs`): the errors, plus a stub impl so that uses of the type as `Trace` elsewhere do
//! not pile secondary errors on top of the real ones.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ast::Input;

/// `compile_error!`s for `error`, and stub `Trace` and `TraceMeta` impls when the runtime's path
/// is known.
pub(crate) fn expand(input: &Input<'_>, error: &syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    if input.attrs.krate_invalid {
        // `#[gc(crate = ...)]` was invalid: naming `::gc_core` could itself fail to resolve.
        return errors;
    }
    let krate = input.crate_path();
    let ident = input.ident();
    let (impl_generics, ty_generics, where_clause) = input.original.generics.split_for_impl();
    let tracer_ty = crate::expand::tracer_type_param(&input.original.generics);
    // SAFETY: the stub reports no edge, which the contract always allows (too few edges only
    // leak), and `TraceMeta` keeps its defaults (`TRACKED = true`, no finalizer). It is never run anyway: the
    // `compile_error!`s above fail the build.
    quote! {
        #errors

        const _: () = {
            #[automatically_derived]
            unsafe impl #impl_generics #krate::Trace for #ident #ty_generics #where_clause {
                #[inline]
                fn trace<#tracer_ty: #krate::Tracer>(&self, _: &mut #tracer_ty) {}
            }

            #[automatically_derived]
            impl #impl_generics #krate::TraceMeta for #ident #ty_generics #where_clause {}
        };
    }
}
