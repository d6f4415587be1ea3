//! [`ObjectDecl`] → the item, its decoder (`Lenient`, `Deserialize`) and encoder (`Serialize`).

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Item, ItemStruct, LitStr, Path};

use super::model::{Alternative, FieldDecl, ObjectDecl, Shape};
use crate::util::{self, BoolEncoding};

pub(crate) fn expand(decl: &ObjectDecl) -> TokenStream {
    match (&decl.item, &decl.shape) {
        (Item::Struct(s), Shape::Struct(fields)) if !decl.user_serde => {
            struct_expand(decl, s, fields)
        }
        (Item::Enum(e), Shape::OneOf(alternatives)) => one_of_expand(decl, e, alternatives),
        _ => serde_expand(decl),
    }
}

/// A struct without `#[serde(...)]` attributes of the user's: its own small decoder and
/// encoder over the runtime's shared field loop (`__private::decl`), instead of serde's derive,
/// whose per-field `deserialize_with` wrappers made most of a declaration's compile cost. The
/// non-generic functions are `#[inline]`: compiled where used, not in the declaring crate.
fn struct_expand(decl: &ObjectDecl, item: &ItemStruct, fields: &[FieldDecl]) -> TokenStream {
    let rt = &decl.rt;
    let ident = &item.ident;
    let private = quote!(#rt::__private);
    let serde = quote!(#private::serde);
    let rule = decl.rename_all.as_ref().map(LitStr::value);
    let slots = Ident::new("__Slots", Span::mixed_site());
    let d = Ident::new("__d", Span::mixed_site());
    let s = Ident::new("__s", Span::mixed_site());
    let rest = Ident::new("__rest", Span::mixed_site());
    let map = Ident::new("__map", Span::mixed_site());

    let mut wire_names = Vec::new();
    let mut slot_types = Vec::new();
    let mut arms = Vec::new();
    let mut inits = Vec::new();
    let mut entries = Vec::new();
    for (field, fd) in item.fields.iter().zip(fields) {
        let id = field.ident.as_ref().expect("named fields");
        let ty = &field.ty;
        if fd.flatten {
            inits.push(quote!(#id: #private::decl::flatten(&#rest)?));
            entries.push(quote!(#private::decl::serialize_flatten(&mut #map, &self.#id)?;));
            continue;
        }
        let wire = match &fd.rename {
            Some(lit) => lit.clone(),
            None => LitStr::new(
                &util::serde_rename(&id.unraw().to_string(), rule.as_deref()),
                id.span(),
            ),
        };
        let index = syn::Index::from(wire_names.len());
        // Spanned on the type: "`T` cannot be decoded" lands on the field.
        let decode = if fd.strict {
            quote_spanned!(ty.span()=> #private::decl::slot_strict)
        } else {
            quote_spanned!(ty.span()=> #private::decl::slot_lenient)
        };
        arms.push(quote!(#index => #decode(&mut #s.#index, #d),));
        slot_types.push(quote!(__O<#ty>));
        inits.push(if fd.optional || fd.default {
            quote!(#id: #s.#index.unwrap_or_default())
        } else {
            quote!(#id: #private::decl::required(#s.#index, #wire)?)
        });
        let value = match fd.encoding {
            Some(BoolEncoding::YesNo) => quote!(&#private::YesNo(&self.#id)),
            Some(BoolEncoding::OneZero) => quote!(&#private::OneZero(&self.#id)),
            _ => quote!(&self.#id),
        };
        entries.push(if fd.optional {
            quote!(if self.#id.is_some() { #map.serialize_entry(#wire, #value)?; })
        } else {
            quote!(#map.serialize_entry(#wire, #value)?;)
        });
        wire_names.push(wire);
    }
    let nones = wire_names.iter().map(|_| quote!(__O::None));
    let flatten = fields.iter().any(|f| f.flatten);
    let rest_param = if flatten { quote!(#rest) } else { quote!(_) };
    let expecting = format!("struct {ident}");

    quote! {
        #item

        #[allow(deprecated)]
        const _: () = {
            use ::core::option::Option as __O;

            pub struct #slots(#(#slot_types),*);

            #[automatically_derived]
            impl #private::decl::Object for #ident {
                const EXPECTING: &'static str = #expecting;
                const FIELDS: &'static [&'static str] = &[#(#wire_names),*];
                const FLATTEN: bool = #flatten;
                type Slots = #slots;

                #[inline]
                fn slots() -> #slots {
                    #slots(#(#nones),*)
                }

                fn field<'de, __D: #serde::Deserializer<'de>>(
                    #s: &mut #slots,
                    __index: usize,
                    #d: __D,
                ) -> ::core::result::Result<(), __D::Error> {
                    match __index {
                        #(#arms)*
                        _ => ::core::result::Result::Ok(()),
                    }
                }

                #[inline]
                fn finish(
                    #s: #slots,
                    #rest_param: #private::decl::Rest,
                ) -> ::core::result::Result<Self, #private::decl::Finish> {
                    ::core::result::Result::Ok(Self { #(#inits),* })
                }
            }

            #[automatically_derived]
            impl #private::Lenient for #ident {
                fn deserialize_lenient<'de, __D: #serde::Deserializer<'de>>(
                    #d: __D,
                ) -> ::core::result::Result<Self, __D::Error> {
                    #private::decl::deserialize_object(#d)
                }
            }

            #[automatically_derived]
            impl<'de> #serde::Deserialize<'de> for #ident {
                fn deserialize<__D: #serde::Deserializer<'de>>(
                    #d: __D,
                ) -> ::core::result::Result<Self, __D::Error> {
                    #private::decl::deserialize_object(#d)
                }
            }

            #[automatically_derived]
            impl #private::ParamValue for #ident {}

            #[automatically_derived]
            impl #serde::Serialize for #ident {
                fn serialize<__S: #serde::Serializer>(
                    &self,
                    __serializer: __S,
                ) -> ::core::result::Result<__S::Ok, __S::Error> {
                    use #serde::ser::SerializeMap as _;
                    let mut #map = #private::decl::serialize_object(__serializer)?;
                    #(#entries)*
                    #map.end()
                }
            }
        };
    }
}

/// A `one_of` enum: `OneOf`, writing the parameter of its variant.
fn one_of_expand(
    decl: &ObjectDecl,
    item: &syn::ItemEnum,
    alternatives: &[Alternative],
) -> TokenStream {
    let rt = &decl.rt;
    let ident = &item.ident;
    let private = quote!(#rt::__private);
    let map = Ident::new("__map", Span::mixed_site());
    let arms = alternatives.iter().map(|a| {
        let (variant, wire) = (&a.ident, &a.wire);
        quote!(Self::#variant(__value) => #private::param(#map, #wire, __value),)
    });
    let body = if alternatives.is_empty() {
        quote!(match *self {})
    } else {
        quote!(match self { #(#arms)* })
    };
    quote! {
        #item

        #[allow(deprecated)]
        const _: () = {
            #[automatically_derived]
            impl #private::decl::OneOf for #ident {
                fn serialize_into<__M: #private::serde::ser::SerializeMap>(
                    &self,
                    #map: &mut __M,
                ) -> ::core::result::Result<(), __M::Error> {
                    #body
                }
            }
        };
    }
}

/// Enums, and structs carrying the user's own `#[serde(...)]` attributes: serde's derives with
/// `deserialize_with = lenient` per field, and `Lenient` by the derived `Deserialize`.
fn serde_expand(decl: &ObjectDecl) -> TokenStream {
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
                let written = match decl.encoding {
                    Some(BoolEncoding::YesNo) => Some("yes_no"),
                    Some(BoolEncoding::OneZero) => Some("one_zero"),
                    _ => None,
                };
                if let Some(function) = written {
                    let path = LitStr::new(
                        &format!("{}::__private::{function}", util::path_string(rt)),
                        field.ty.span(),
                    );
                    args.push(quote!(serialize_with = #path));
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
        #[allow(deprecated)]
        const _: () = {
            #lenient

            #[automatically_derived]
            impl #rt::__private::ParamValue for #ident {}
        };
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
            impl #rt::__private::ParamValue for #ident {}

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
