//! `#[b24_method]`: a struct of parameters → a callable Bitrix24 method.

mod expand;
mod model;
mod parse;

use proc_macro2::TokenStream;

use crate::util;

/// Expands `#[b24_method(attr)] item`; on mistakes, the item (without the helper attributes)
/// and every error.
pub(crate) fn b24_method(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(error) => return util::with_errors(item, error),
    };
    match parse::parse(attr, &item) {
        Ok(decl) => expand::expand(&decl),
        Err(error) => {
            util::strip_item(&mut item, false);
            util::with_errors(item, error)
        }
    }
}

#[cfg(test)]
mod tests;
