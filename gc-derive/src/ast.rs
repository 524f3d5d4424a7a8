//! A view of the derive input shared by the later phases: `#[gc(...)]` attributes parsed,
//! fields given their member and edge label, original syntax kept for spans.

use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{DataUnion, DeriveInput, Fields, Ident, Index, Member, Path, Type};

use crate::attr::{self, Attrs, Place};
use crate::errors::Errors;

/// The type being derived.
pub(crate) struct Input<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) attrs: Attrs,
    pub(crate) data: Data<'a>,
}

/// The type's shape.
pub(crate) enum Data<'a> {
    /// A struct of any style (named, tuple, unit).
    Struct(Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
    /// Rejected by `valid.rs`; kept so the other checks still run.
    Union(&'a DataUnion),
}

/// An enum variant.
pub(crate) struct Variant<'a> {
    pub(crate) original: &'a syn::Variant,
    pub(crate) attrs: Attrs,
    pub(crate) fields: Vec<Field<'a>>,
}

/// A field of a struct or of an enum variant.
pub(crate) struct Field<'a> {
    pub(crate) attrs: Attrs,
    /// `next` or `0`: how to name the field in `self.<member>` and in patterns.
    pub(crate) member: Member,
    pub(crate) ty: &'a Type,
    /// The edge label given to `Tracer::field`: `next`, `0`, `Variant.next`, `Variant.0`.
    pub(crate) label: String,
}

impl<'a> Input<'a> {
    /// Builds the view, recording attribute errors in `errors`.
    pub(crate) fn from_syn(errors: &Errors, node: &'a DeriveInput) -> Self {
        let attrs = attr::parse(errors, &node.attrs, Place::Type);
        let data = match &node.data {
            syn::Data::Struct(data) => Data::Struct(Field::multiple(errors, &data.fields, None)),
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant::from_syn(errors, variant))
                    .collect(),
            ),
            syn::Data::Union(data) => Data::Union(data),
        };
        Input {
            original: node,
            attrs,
            data,
        }
    }

    pub(crate) fn ident(&self) -> &'a Ident {
        &self.original.ident
    }

    /// Every field whose edges `trace` reports, in declaration order (variant by variant).
    pub(crate) fn traced_fields(&self) -> Vec<&Field<'a>> {
        match &self.data {
            Data::Struct(fields) => fields.iter().filter(|f| f.is_traced()).collect(),
            Data::Enum(variants) => variants
                .iter()
                .filter(|v| v.is_traced())
                .flat_map(|v| v.fields.iter().filter(|f| f.is_traced()))
                .collect(),
            Data::Union(_) => Vec::new(),
        }
    }

    /// The runtime crate: `#[gc(crate = "...")]` or `::gc_core` (also when the attribute is
    /// invalid; see [`Attrs::krate_invalid`](crate::attr::Attrs::krate_invalid)).
    pub(crate) fn crate_path(&self) -> Path {
        match &self.attrs.krate {
            Some(setting) => setting.value.clone(),
            None => syn::parse_quote!(::gc_core),
        }
    }
}

impl<'a> Variant<'a> {
    fn from_syn(errors: &Errors, variant: &'a syn::Variant) -> Self {
        Variant {
            original: variant,
            attrs: attr::parse(errors, &variant.attrs, Place::Variant),
            fields: Field::multiple(errors, &variant.fields, Some(&variant.ident)),
        }
    }

    pub(crate) fn is_traced(&self) -> bool {
        self.attrs.skip.is_none()
    }
}

impl<'a> Field<'a> {
    fn multiple(errors: &Errors, fields: &'a Fields, variant: Option<&Ident>) -> Vec<Self> {
        fields
            .iter()
            .enumerate()
            .map(|(i, field)| Field::from_syn(errors, i, field, variant))
            .collect()
    }

    fn from_syn(errors: &Errors, i: usize, field: &'a syn::Field, variant: Option<&Ident>) -> Self {
        let (member, name) = if let Some(ident) = &field.ident {
            (Member::Named(ident.clone()), ident.unraw().to_string())
        } else {
            let index = Index {
                index: u32::try_from(i).unwrap_or(u32::MAX),
                span: field.ty.span(),
            };
            (Member::Unnamed(index), i.to_string())
        };
        let label = match variant {
            Some(variant) => format!("{}.{name}", variant.unraw()),
            None => name,
        };
        Field {
            attrs: attr::parse(errors, &field.attrs, Place::Field),
            member,
            ty: &field.ty,
            label,
        }
    }

    pub(crate) fn is_traced(&self) -> bool {
        self.attrs.skip.is_none()
    }
}
