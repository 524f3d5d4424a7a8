//! Fields whose type mentions the type being derived (`Box<Self>`, `Vec<Expr>` inside
//! `enum Expr`), and the placeholder that stands in for those mentions.
//!
//! `Self::TRACKED` is an `||` over the fields' `TRACKED`. Written naively, a field of type
//! `Box<Expr>` in `enum Expr` makes `Expr::TRACKED` depend on itself, which rustc rejects as a
//! cycle in const evaluation (E0391). The derive instead evaluates such a field's type with each
//! mention of the type replaced by a placeholder whose `TRACKED` is `false`: a unit struct with
//! the type's own name, declared in the block of the `TRACKED` expression (so diagnostics read
//! in the user's terms). `Box<Expr>` is then `false` and `Option<Gc<Node>>` `true`, since a
//! `Gc` is tracked whatever it points to. Simply leaving such fields out would be wrong for the most
//! common case of all, `next: Option<Gc<Self>>`, the only field that makes a `Node` tracked.
//!
//! That is exact, not an approximation. "Can a value reach a `Gc`?" is the least fixed point of
//! `TRACKED = f1(TRACKED) || f2(TRACKED) || ...`, each `fi` monotone; starting from `false`,
//! one step gives `f1(false) || f2(false) || ...`, and if that is `false` it is already a fixed
//! point. Replacing the mentions by a type whose `TRACKED` is `false` computes exactly that step.
//! The placeholder derives the std traits a container's definition may require of its elements
//! (`Ord`, `Hash`, `Default`, ...), and implements `Trace` and `TraceMeta` with
//! `TRACKED = false`. It drops the mention's generic arguments (`Tree<T>` becomes `Tree`).
//!
//! Only syntactic mentions are seen: `Self`, or the type's bare name (`Expr`, `Expr<T>`). A path
//! such as `crate::ast::Expr`, a type alias, or mutual recursion (`A` holds `Box<B>`, `B` holds
//! `Box<A>`) still reaches the cycle; the crate docs list this as a known limitation.

use syn::visit_mut::{self, VisitMut};
use syn::{Ident, Type};

/// The stand-in for the type itself in `TRACKED`: a unit struct of the same name, without
/// generic arguments, declared in the `TRACKED` expression's block (`expand::tracked`), so that
/// a diagnostic about a field type reads `Vec<Expr>`, not `Vec<()>`.
pub(crate) fn placeholder(ident: &Ident) -> Type {
    syn::parse_quote!(#ident)
}

/// `ty` with every mention of the type named `ident` replaced by `replacement`, or `None` if
/// `ty` mentions it nowhere.
pub(crate) fn replace_self(ty: &Type, ident: &Ident, replacement: &Type) -> Option<Type> {
    let mut replacer = Replacer {
        ident,
        replacement,
        replaced: false,
    };
    let mut ty = ty.clone();
    replacer.visit_type_mut(&mut ty);
    replacer.replaced.then_some(ty)
}

/// Whether `ty` mentions the type named `ident`.
pub(crate) fn mentions_self(ty: &Type, ident: &Ident) -> bool {
    replace_self(ty, ident, &placeholder(ident)).is_some()
}

struct Replacer<'a> {
    ident: &'a Ident,
    replacement: &'a Type,
    replaced: bool,
}

impl Replacer<'_> {
    /// `Self`, or a single-segment path naming the type (`Expr`, `Expr<T>`). Not `<Self as
    /// Trait>::Assoc` nor `Self::Assoc`: those name other types.
    fn is_self(&self, ty: &Type) -> bool {
        let Type::Path(path) = ty else { return false };
        if path.qself.is_some() || path.path.leading_colon.is_some() {
            return false;
        }
        let mut segments = path.path.segments.iter();
        match (segments.next(), segments.next()) {
            (Some(segment), None) => segment.ident == "Self" || segment.ident == *self.ident,
            _ => false,
        }
    }
}

impl VisitMut for Replacer<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if self.is_self(ty) {
            ty.clone_from(self.replacement);
            self.replaced = true;
        } else {
            visit_mut::visit_type_mut(self, ty);
        }
    }
}
