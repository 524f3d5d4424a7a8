//! Semantic checks: what the attribute syntax allows but the derive does not.

use quote::quote;
use syn::Attribute;

use crate::ast::{Data, Input};
use crate::attr::{Attrs, Place, Setting};
use crate::errors::Errors;

/// Records every problem with `input` in `errors`.
pub(crate) fn check(errors: &Errors, input: &Input<'_>) {
    check_type_attrs(errors, &input.attrs);
    match &input.data {
        Data::Struct(fields) => {
            for field in fields {
                check_member_attrs(errors, &field.attrs, Place::Field);
            }
        }
        Data::Enum(variants) => {
            for variant in variants {
                check_member_attrs(errors, &variant.attrs, Place::Variant);
                for field in &variant.fields {
                    check_member_attrs(errors, &field.attrs, Place::Field);
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

/// Keys that only make sense on a field or variant.
fn check_type_attrs(errors: &Errors, attrs: &Attrs) {
    misplaced(errors, attrs.skip.as_ref(), "skip", Place::Type);
}

/// Keys that only make sense on the type.
fn check_member_attrs(errors: &Errors, attrs: &Attrs, place: Place) {
    misplaced(errors, attrs.krate.as_ref(), "crate = \"...\"", place);
    misplaced(errors, attrs.bound.as_ref(), "bound = \"...\"", place);
    misplaced(errors, attrs.finalize.as_ref(), "finalize", place);
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
