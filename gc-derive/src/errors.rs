//! Error accumulation, so that one `#[derive(Trace)]` reports every problem at once.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Collects [`syn::Error`]s while the input is parsed and validated (serde's `Ctxt`).
///
/// Every phase pushes what it finds and carries on with a best-effort view of the input;
/// [`Errors::finish`] then combines them into one error, which becomes one `compile_error!`
/// per message, each spanned on its own offending tokens.
pub(crate) struct Errors {
    combined: RefCell<Option<syn::Error>>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors {
            combined: RefCell::new(None),
        }
    }

    /// Records `error`.
    pub(crate) fn push(&self, error: syn::Error) {
        let mut combined = self.combined.borrow_mut();
        match combined.as_mut() {
            Some(first) => first.combine(error),
            None => *combined = Some(error),
        }
    }

    /// Records an error with `message`, spanned on `tokens`.
    pub(crate) fn spanned(&self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// All recorded errors combined, or `Ok` if there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        match self.combined.into_inner() {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
