//! `#[b24_object]`: a response object, nested parameter object or string enum.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::util;

/// Expands `#[b24_object(attr)] item`; on mistakes, the item (without the helper attributes),
/// stub `Lenient` and `Serialize` impls so that its uses do not fail too, and every error.
pub(crate) fn b24_object(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => return util::with_errors(item, error),
    };
    match parse::parse(attr, &item) {
        Ok(decl) => expand::expand(&decl),
        Err((error, rt)) => {
            util::strip_item(&mut item, true);
            let stubs = expand::stubs(&item, &rt);
            let mut out = util::with_errors(item, error);
            out.extend(stubs);
            out
        }
    }
}

#[cfg(test)]
mod tests;
