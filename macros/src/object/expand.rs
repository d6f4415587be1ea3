//! [`ObjectDecl`] → the item with serde's derives and attributes, and `Lenient`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, Item, LitStr, Path};

use super::model::{ObjectDecl, Shape};
use crate::util;

pub(crate) fn expand(decl: &ObjectDecl) -> TokenStream {
    let rt = &decl.rt;
    let serde_path = LitStr::new(
        &format!("{}::__private::serde", util::path_string(rt)),
        rt.span(),
    );
    let lenient_path = util::path_string(rt) + "::__private::lenient";

    let mut item = decl.item.clone();
    let mut container: Vec<Attribute> = vec![
        syn::parse_quote!(#[derive(#rt::__private::serde::Serialize, #rt::__private::serde::Deserialize)]),
        syn::parse_quote!(#[serde(crate = #serde_path)]),
    ];
    if let Some(rule) = &decl.rename_all {
        container.push(syn::parse_quote!(#[serde(rename_all = #rule)]));
    }

    let ident = match (&mut item, &decl.shape) {
        (Item::Struct(s), Shape::Struct(fields)) => {
            for (field, decl) in s.fields.iter_mut().zip(fields) {
                let has = |key: &str| decl.user_serde.iter().any(|k| k == key);
                let mut args: Vec<TokenStream> = Vec::new();
                if let Some(rename) = &decl.rename {
                    args.push(quote!(rename = #rename));
                }
                if decl.flatten {
                    args.push(quote!(flatten));
                }
                if (decl.default || (decl.optional && !decl.flatten)) && !has("default") {
                    args.push(quote!(default));
                }
                if decl.optional && !decl.flatten && !has("skip_serializing_if") {
                    args.push(quote!(
                        skip_serializing_if = "::core::option::Option::is_none"
                    ));
                }
                if !decl.strict && !decl.flatten {
                    // Spanned on the type: "`T: Lenient` is not satisfied" lands on the field.
                    let with = LitStr::new(&lenient_path, field.ty.span());
                    args.push(quote!(deserialize_with = #with));
                }
                if !args.is_empty() {
                    field
                        .attrs
                        .insert(0, syn::parse_quote!(#[serde(#(#args),*)]));
                }
            }
            s.attrs.splice(0..0, container);
            s.ident.clone()
        }
        (Item::Enum(e), Shape::Enum(variants)) => {
            for (variant, decl) in e.variants.iter_mut().zip(variants) {
                let mut args: Vec<TokenStream> = Vec::new();
                if let Some(rename) = &decl.rename {
                    args.push(quote!(rename = #rename));
                }
                if decl.other {
                    args.push(quote!(other));
                }
                if !args.is_empty() {
                    variant
                        .attrs
                        .insert(0, syn::parse_quote!(#[serde(#(#args),*)]));
                }
            }
            e.attrs.splice(0..0, container);
            e.ident.clone()
        }
        _ => unreachable!("the shape follows the item"),
    };

    let lenient = lenient_impl(rt, &ident);
    quote! {
        #item
        #lenient
    }
}

/// `Lenient` by the derived `Deserialize`.
fn lenient_impl(rt: &Path, ident: &syn::Ident) -> TokenStream {
    let serde = quote!(#rt::__private::serde);
    quote! {
        #[automatically_derived]
        impl #rt::Lenient for #ident {
            fn deserialize_lenient<'de, __D: #serde::Deserializer<'de>>(
                deserializer: __D,
            ) -> ::core::result::Result<Self, __D::Error> {
                <Self as #serde::Deserialize<'de>>::deserialize(deserializer)
            }
        }
    }
}

/// For a wrong declaration: `Lenient` and `Serialize` impls that let the item's uses compile,
/// so that only the declaration's own errors are reported. Nothing for generic items.
pub(crate) fn stubs(item: &Item, rt: &Path) -> TokenStream {
    let (ident, generics) = match item {
        Item::Struct(s) => (&s.ident, &s.generics),
        Item::Enum(e) => (&e.ident, &e.generics),
        _ => return TokenStream::new(),
    };
    if !generics.params.is_empty() {
        return TokenStream::new();
    }
    let serde = quote!(#rt::__private::serde);
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #rt::Lenient for #ident {
                fn deserialize_lenient<'de, __D: #serde::Deserializer<'de>>(
                    _: __D,
                ) -> ::core::result::Result<Self, __D::Error> {
                    ::core::result::Result::Err(<__D::Error as #serde::de::Error>::custom(
                        "the declaration has errors",
                    ))
                }
            }

            #[automatically_derived]
            impl #serde::Serialize for #ident {
                fn serialize<__S: #serde::Serializer>(
                    &self,
                    _: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    ::core::result::Result::Err(<__S::Error as #serde::ser::Error>::custom(
                        "the declaration has errors",
                    ))
                }
            }
        };
    }
}
