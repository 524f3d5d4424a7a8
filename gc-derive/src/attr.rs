//! Parsing of `#[gc(...)]` attributes.
//!
//! This module checks syntax only: that each key is known, carries the right kind of value and
//! appears once. Whether a key is allowed where it is written (a field, a variant, the type) is
//! checked by `valid.rs`, so a misplaced key gets a message about its place, not "unknown".
//!
//! Adding a key is one arm in [`parse_entry`], one field in [`Attrs`], and (if it has a
//! restricted place) one line in `valid.rs`.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, LitStr, Meta, Path, Token, WherePredicate};

use crate::errors::Errors;

/// Where an attribute is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Place {
    /// On the struct or enum itself.
    Type,
    /// On an enum variant.
    Variant,
    /// On a field of a struct or of an enum variant.
    Field,
}

impl Place {
    /// How an error message names the place: "a field".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Place::Type => "the type",
            Place::Variant => "an enum variant",
            Place::Field => "a field",
        }
    }

    /// The keys accepted in this place, for "unknown attribute" messages.
    fn accepted(self) -> String {
        match self {
            Place::Type => "expected one of `bound = \"...\"`, `crate = \"...\"`, `describe`, \
                            `finalize`, `unsafe_no_drop` on the type"
                .to_owned(),
            Place::Variant | Place::Field => format!("expected `skip` on {}", self.describe()),
        }
    }
}

/// One setting, with the tokens that wrote it (`skip`, `bound = "T: Trace"`) for error spans.
pub(crate) struct Setting<T> {
    pub(crate) tokens: TokenStream,
    pub(crate) value: T,
}

impl<T> Setting<T> {
    /// Where the setting starts (`Span::join` is unstable, so not the whole range).
    pub(crate) fn span(&self) -> Span {
        self.tokens
            .clone()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |token| token.span())
    }
}

/// Every `#[gc(...)]` key found on one item, whatever its place.
#[derive(Default)]
pub(crate) struct Attrs {
    /// `skip`: do not trace this field or variant.
    pub(crate) skip: Option<Setting<()>>,
    /// `crate = "path"`: where the runtime crate is.
    pub(crate) krate: Option<Setting<Path>>,
    /// `bound = "..."`: where-predicates replacing the inferred ones.
    pub(crate) bound: Option<Setting<Vec<WherePredicate>>>,
    /// `finalize`: the type implements `Finalize`.
    pub(crate) finalize: Option<Setting<()>>,
    /// `describe`: the type implements `Describe`.
    pub(crate) describe: Option<Setting<()>>,
    /// `unsafe_no_drop`: allow a `Drop` impl; the user vouches that it never touches a `Gc`.
    pub(crate) unsafe_no_drop: Option<Setting<()>>,
    /// A `crate = ...` was written but was invalid: the runtime's path is unknown, so the
    /// fallback must not emit code that names it.
    pub(crate) krate_invalid: bool,
}

/// Parses every `#[gc(...)]` among `attrs`, recording errors and carrying on past them.
pub(crate) fn parse(errors: &Errors, attrs: &[Attribute], place: Place) -> Attrs {
    let mut out = Attrs::default();
    for attr in attrs {
        if !attr.path().is_ident("gc") {
            continue;
        }
        let Meta::List(list) = &attr.meta else {
            errors.spanned(attr, "expected a parenthesized list: `#[gc(...)]`");
            continue;
        };
        let result = list.parse_nested_meta(|meta| parse_entry(errors, &meta, place, &mut out));
        if let Err(error) = result {
            // A syntax error inside the list (`#[gc(skip,,)]`, `#[gc("x")]`): syn stops there.
            // Its message alone ("expected ident") does not say which attribute it is about.
            errors.push(syn::Error::new(
                error.span(),
                format!("invalid `#[gc(...)]` syntax: {error}"),
            ));
        }
    }
    out
}

/// Parses one `key` or `key = value` entry. Returns `Err` only for errors that leave the rest
/// of the list unreadable; anything else is recorded and parsing goes on.
fn parse_entry(
    errors: &Errors,
    meta: &ParseNestedMeta<'_>,
    place: Place,
    out: &mut Attrs,
) -> syn::Result<()> {
    let name = key_name(&meta.path);
    match name.as_str() {
        "skip" => flag(errors, meta, "skip", &mut out.skip),
        "finalize" => flag(errors, meta, "finalize", &mut out.finalize),
        "describe" => flag(errors, meta, "describe", &mut out.describe),
        "unsafe_no_drop" => flag(errors, meta, "unsafe_no_drop", &mut out.unsafe_no_drop),
        "crate" => {
            let parsed = string(errors, meta, "crate", out.krate.is_some(), |lit| {
                lit.parse::<Path>().map_err(|error| {
                    syn::Error::new_spanned(
                        lit,
                        format!(
                            "invalid `#[gc(crate = \"...\")]`: {error}; expected a path such as \
                             `::gc_core`"
                        ),
                    )
                })
            })?;
            match parsed {
                Parsed::Ok(setting) => out.krate = Some(setting),
                Parsed::Invalid => out.krate_invalid = true,
                Parsed::Duplicate => {}
            }
            Ok(())
        }
        "bound" => {
            let parsed = string(errors, meta, "bound", out.bound.is_some(), |lit| {
                let parser = Punctuated::<WherePredicate, Token![,]>::parse_terminated;
                match lit.parse_with(parser) {
                    Ok(predicates) => Ok(predicates.into_iter().collect()),
                    Err(error) => Err(syn::Error::new_spanned(
                        lit,
                        format!(
                            "invalid `#[gc(bound = \"...\")]`: {error}; expected where-predicates \
                             such as `T: Trace, U: Clone`"
                        ),
                    )),
                }
            })?;
            if let Parsed::Ok(setting) = parsed {
                out.bound = Some(setting);
            }
            Ok(())
        }
        _ => {
            let rest = rest_of_entry(meta.input)?;
            let key = &meta.path;
            errors.spanned(
                quote!(#key #rest),
                format!("unknown attribute `#[gc({name})]`; {}", place.accepted()),
            );
            Ok(())
        }
    }
}

/// A key with no value: `skip`.
fn flag(
    errors: &Errors,
    meta: &ParseNestedMeta<'_>,
    name: &str,
    slot: &mut Option<Setting<()>>,
) -> syn::Result<()> {
    let key = &meta.path;
    let rest = rest_of_entry(meta.input)?;
    if !rest.is_empty() {
        errors.spanned(
            quote!(#key #rest),
            format!("`#[gc({name})]` takes no value"),
        );
    } else if slot.is_some() {
        errors.spanned(key, format!("duplicate `#[gc({name})]` attribute"));
    } else {
        *slot = Some(Setting {
            tokens: key.to_token_stream(),
            value: (),
        });
    }
    Ok(())
}

/// The outcome of reading a `key = "string"` entry.
enum Parsed<T> {
    Ok(Setting<T>),
    /// Already set: reported, the first one wins.
    Duplicate,
    /// Reported; the value is unknown.
    Invalid,
}

/// A key whose value is a string literal holding Rust syntax: `bound = "T: Trace"`.
fn string<T>(
    errors: &Errors,
    meta: &ParseNestedMeta<'_>,
    name: &str,
    already_set: bool,
    parse_value: impl FnOnce(&LitStr) -> syn::Result<T>,
) -> syn::Result<Parsed<T>> {
    let key = &meta.path;
    let rest = rest_of_entry(meta.input)?;
    let entry = quote!(#key #rest);
    let Some(value) = strip_eq(&rest) else {
        errors.spanned(entry, format!("expected `#[gc({name} = \"...\")]`"));
        return Ok(Parsed::Invalid);
    };
    let Ok(lit) = syn::parse2::<LitStr>(value.clone()) else {
        errors.spanned(
            value,
            format!("expected a string literal: `#[gc({name} = \"...\")]`"),
        );
        return Ok(Parsed::Invalid);
    };
    if already_set {
        errors.spanned(
            entry,
            format!("duplicate `#[gc({name} = \"...\")]` attribute"),
        );
        return Ok(Parsed::Duplicate);
    }
    match parse_value(&lit) {
        Ok(value) => Ok(Parsed::Ok(Setting {
            tokens: entry,
            value,
        })),
        Err(error) => {
            errors.push(error);
            Ok(Parsed::Invalid)
        }
    }
}

/// The tokens after `=` if `rest` starts with one and has something after it.
fn strip_eq(rest: &TokenStream) -> Option<TokenStream> {
    let mut tokens = rest.clone().into_iter();
    match tokens.next() {
        Some(TokenTree::Punct(eq)) if eq.as_char() == '=' => {
            let value: TokenStream = tokens.collect();
            (!value.is_empty()).then_some(value)
        }
        _ => None,
    }
}

/// Consumes the tokens after a key up to the next top-level `,` (or the end): the key's value,
/// well-formed or not. Reading it whole lets one bad entry be reported without hiding the
/// entries after it.
fn rest_of_entry(input: ParseStream<'_>) -> syn::Result<TokenStream> {
    let mut rest = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        rest.extend([input.parse::<TokenTree>()?]);
    }
    Ok(rest)
}

/// The key as written: `skip`, `crate`, `a::b`.
fn key_name(path: &Path) -> String {
    let mut name = String::new();
    if path.leading_colon.is_some() {
        name.push_str("::");
    }
    for (i, segment) in path.segments.iter().enumerate() {
        if i > 0 {
            name.push_str("::");
        }
        let _ = write!(name, "{}", segment.ident);
    }
    name
}
