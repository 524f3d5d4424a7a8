//! Fields whose type mentions the type being derived (`Box<Self>`, `Vec<Expr>` inside
//! `enum Expr`), and the placeholder that stands in for those mentions.
//!
//! `Self::TRACKED` is an `||` over the fields' `TRACKED`. Written naively, a field of type
//! `Box<Expr>` in `enum Expr` makes `Expr::TRACKED` depend on itself, which rustc rejects as a
//! cycle in const evaluation (E0391). The derive instead evaluates such a field's type with each
//! mention of the type replaced by a placeholder whose `TRACKED` is `false`: a unit struct with
//! the type's own name, declared in the block of the `TRACKED` expression. `Box<Expr>` is then
//! `false`. Mentions inside a `Gc<..>` are left alone: a `Gc` is tracked whatever it points to,
//! so `Option<Gc<Node>>` is `true` without a cycle, and keeps the user's own type in any
//! diagnostic about the field. Simply leaving such fields out would be wrong for the most
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

/// `ty` with every mention of the type named `ident` outside a `Gc<..>` replaced by
/// `replacement`, or `None` if there is no such mention.
pub(crate) fn replace_self(ty: &Type, ident: &Ident, replacement: &Type) -> Option<Type> {
    let (ty, replaced) = replace(ty, ident, Some(replacement), None);
    replaced.then_some(ty)
}

/// `ty` with every mention of the type named `ident` inside a `Gc<..>` replaced by `Self`: in
/// the block that declares the placeholder, the bare name would mean the placeholder (and
/// `Gc<Tree<T>>` would give it generic arguments it does not have), while `Self` still names
/// the type being derived.
pub(crate) fn self_inside_gc(ty: &Type, ident: &Ident) -> Type {
    replace(ty, ident, None, Some(&syn::parse_quote!(Self))).0
}

/// `ty` with every `Self` (and mention of the type) replaced by the type's bare name, for a
/// non-generic type's item outside its impls, where `Self` is not allowed.
pub(crate) fn name_self(ty: &Type, ident: &Ident) -> Type {
    let name = placeholder(ident);
    replace(ty, ident, Some(&name), Some(&name)).0
}

/// Whether `ty` mentions the type named `ident` anywhere, `Gc<..>` included.
pub(crate) fn mentions_self(ty: &Type, ident: &Ident) -> bool {
    let name = placeholder(ident);
    replace(ty, ident, Some(&name), Some(&name)).1
}

/// `ty` with the mentions of the type outside and inside `Gc<..>` replaced by `outside_gc` and
/// `inside_gc` (each where given), and whether anything was replaced.
fn replace(
    ty: &Type,
    ident: &Ident,
    outside_gc: Option<&Type>,
    inside_gc: Option<&Type>,
) -> (Type, bool) {
    let mut replacer = Replacer {
        ident,
        outside_gc,
        inside_gc,
        in_gc: false,
        replaced: false,
    };
    let mut ty = ty.clone();
    replacer.visit_type_mut(&mut ty);
    (ty, replacer.replaced)
}

struct Replacer<'a> {
    ident: &'a Ident,
    /// What replaces a mention outside any `Gc<..>`, if it is to be replaced.
    outside_gc: Option<&'a Type>,
    /// What replaces a mention inside a `Gc<..>`, if it is to be replaced.
    inside_gc: Option<&'a Type>,
    /// Whether the visit is inside a `Gc<..>`.
    in_gc: bool,
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

/// `Gc<..>` (by its last path segment): its `TRACKED` is `true` whatever it points to, so a
/// mention of the type inside it cannot make a cycle and keeps its real name, which is what a
/// diagnostic about the field (`Cell<Option<Gc<Node>>>`, `Rc<RefCell<Gc<Env>>>`) then shows.
fn is_gc(ty: &Type) -> bool {
    let Type::Path(path) = ty else { return false };
    path.qself.is_none()
        && path
            .path
            .segments
            .last()
            .is_some_and(|segment| segment.ident == "Gc")
}

impl VisitMut for Replacer<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if !self.in_gc && is_gc(ty) {
            self.in_gc = true;
            visit_mut::visit_type_mut(self, ty);
            self.in_gc = false;
            return;
        }
        let replacement = if self.in_gc {
            self.inside_gc
        } else {
            self.outside_gc
        };
        match replacement {
            Some(replacement) if self.is_self(ty) => {
                ty.clone_from(replacement);
                self.replaced = true;
            }
            _ => visit_mut::visit_type_mut(self, ty),
        }
    }
}
