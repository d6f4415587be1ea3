//! [`MethodDecl`] → the struct, its constructor and setters, `Serialize`, `Method`, the error
//! enum and the free function.
//!
//! The expansion is kept small: about 1,600 declarations use it. What does not depend on the
//! declaration is in the runtime (`__private::decl`: the error-code lookup, `Display`), and the
//! generated non-generic functions are `#[inline]`, so that they are compiled where they are
//! used rather than in the crate declaring every method (`benches/decl_cost.sh` measures it).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, LitStr};

use super::model::{BoolEncoding, MethodDecl, Param};
use crate::util;

/// Clippy's `too_many_arguments` threshold.
const MANY_ARGUMENTS: usize = 7;

pub(crate) fn expand(decl: &MethodDecl) -> TokenStream {
    let MethodDecl {
        item,
        rt,
        name,
        scope,
        ..
    } = decl;
    let ident = &item.ident;

    // The summary goes after the user's docs, whose first line stays the item's summary.
    let mut item = item.clone();
    let summary = format!("Bitrix24 method `{name}` (scope `{scope}`).");
    if item.attrs.iter().any(|a| a.path().is_ident("doc")) {
        item.attrs.push(syn::parse_quote!(#[doc = ""]));
    }
    item.attrs.push(syn::parse_quote!(#[doc = #summary]));
    item.attrs.push(syn::parse_quote!(#[doc(alias = #name)]));

    let required: Vec<&Param> = decl
        .params
        .iter()
        .filter(|p| p.optional.is_none())
        .collect();
    let optional: Vec<&Param> = decl
        .params
        .iter()
        .filter(|p| p.optional.is_some())
        .collect();

    let inherent = inherent_impl(decl, &required, &optional);
    let serialize = serialize_impl(decl, required.len());
    let (error_ty, error_enum, error_impls) = if decl.errors.is_empty() {
        (quote!(#rt::NoMethodErrors), None, None)
    } else {
        let error_ident = format_ident!("{}Error", ident);
        let (enum_, impls) = error_enum(decl, &error_ident);
        (quote!(#error_ident), Some(enum_), Some(impls))
    };
    let (idempotent, response) = (decl.idempotent, &decl.response);
    let free_fn = free_fn(decl, &required, !optional.is_empty());
    let list = decl.list.as_ref().map(|spec| {
        let item_ty = &spec.item;
        let consts = [
            ("CURSOR", &spec.cursor),
            ("FILTER", &spec.filter),
            ("ORDER", &spec.order),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            let name = format_ident!("{}", name);
            value
                .as_ref()
                .map(|v| quote!(const #name: &'static str = #v;))
        });
        let items = spec
            .items
            .as_ref()
            .map(|v| quote!(const ITEMS: ::core::option::Option<&'static str> = ::core::option::Option::Some(#v);));
        quote! {
            #[automatically_derived]
            impl #rt::paging::ListMethod for #ident {
                type Item = #item_ty;
                #(#consts)*
                #items
            }
        }
    });

    let api_version = decl
        .rest_v3
        .then(|| quote!(const API_VERSION: #rt::ApiVersion = #rt::ApiVersion::V3;));

    quote! {
        #item

        #error_enum

        #free_fn

        // A `#[deprecated]` declaration compiles without warnings; its users get them.
        #[allow(deprecated)]
        const _: () = {
            #inherent

            #serialize

            #[automatically_derived]
            impl #rt::Method for #ident {
                const NAME: &'static str = #name;
                #api_version
                const SCOPE: &'static str = #scope;
                const IDEMPOTENT: bool = #idempotent;
                type Output = #response;
                type Error = #error_ty;
            }

            #error_impls

            #list
        };
    }
}

/// `new()`, the setters of the optional parameters and, without required ones, `Default`.
fn inherent_impl(decl: &MethodDecl, required: &[&Param], optional: &[&Param]) -> TokenStream {
    let ident = &decl.item.ident;
    let name = &decl.name;

    let mut new_doc = format!("Creates the parameters of `{name}`");
    new_doc.push_str(if optional.is_empty() {
        "."
    } else {
        "; set the optional ones with the setters."
    });
    if !required.is_empty() {
        new_doc.push('\n');
        for param in required {
            new_doc.push_str(&format!("\n- `{}` (`{}`)", param.ident, param.wire));
            let lines = util::doc_lines(&param.docs);
            if !lines.is_empty() {
                new_doc.push(':');
                for (i, line) in lines.iter().enumerate() {
                    new_doc.push_str(if i == 0 { " " } else { "\n  " });
                    new_doc.push_str(line);
                }
            }
        }
    }
    let args = required.iter().map(|p| into_arg(p));
    let inits = decl.params.iter().map(|p| {
        let id = &p.ident;
        if p.optional.is_some() {
            quote!(#id: ::core::option::Option::None)
        } else {
            quote!(#id: ::core::convert::Into::into(#id))
        }
    });
    let many =
        (required.len() >= MANY_ARGUMENTS).then(|| quote!(#[allow(clippy::too_many_arguments)]));

    let setters = optional.iter().map(|p| {
        let (id, inner) = (&p.ident, p.optional.as_ref().expect("optional"));
        let (docs, deprecated) = (&p.docs, &p.deprecated);
        let blank = (!docs.is_empty()).then(|| quote!(#[doc = ""]));
        let note = format!("Optional: sent as `{}` when set.", p.wire);
        let value = quote_spanned!(inner.span()=> impl ::core::convert::Into<#inner>);
        quote! {
            #(#docs)*
            #blank
            #[doc = #note]
            #(#deprecated)*
            #[must_use]
            pub fn #id(mut self, value: #value) -> Self {
                self.#id = ::core::option::Option::Some(::core::convert::Into::into(value));
                self
            }
        }
    });

    let default = (required.is_empty() && !decl.derives_default).then(|| {
        quote! {
            #[automatically_derived]
            impl ::core::default::Default for #ident {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });

    quote! {
        #[automatically_derived]
        #[allow(dead_code)]
        impl #ident {
            #[doc = #new_doc]
            #[must_use]
            #[inline]
            #many
            pub fn new(#(#args),*) -> Self {
                Self { #(#inits),* }
            }

            #(#setters)*
        }

        #default
    }
}

/// `name: impl Into<T>`, spanned on the field's type.
fn into_arg(param: &Param) -> TokenStream {
    let (id, ty) = (&param.ident, &param.ty);
    let into = quote_spanned!(ty.span()=> impl ::core::convert::Into<#ty>);
    quote!(#id: #into)
}

/// `Serialize` as a map of exactly the parameters that are set.
fn serialize_impl(decl: &MethodDecl, required: usize) -> TokenStream {
    let (ident, rt) = (&decl.item.ident, &decl.rt);
    let serde = quote!(#rt::__private::serde);
    let map = Ident::new("__map", Span::mixed_site());
    let serializer = Ident::new("__serializer", Span::mixed_site());

    let fields = decl.params.iter().map(|p| &p.ident);
    let destructure = (!decl.params.is_empty()).then(|| quote!(let Self { #(#fields),* } = self;));

    let mut len: Vec<TokenStream> = Vec::new();
    if required > 0 || decl.params.is_empty() {
        len.push(quote!(#required));
    }
    let mut entries = Vec::new();
    for p in &decl.params {
        let id = &p.ident;
        let wire = LitStr::new(&p.wire, id.span());
        let private = quote!(#rt::__private);
        let entry = if p.one_of {
            let ty = p.optional.as_ref().unwrap_or(&p.ty);
            let one_of = quote_spanned!(ty.span()=> <#ty as #private::decl::OneOf>);
            quote!(#one_of::serialize_into(#id, &mut #map)?;)
        } else {
            match p.encoding {
                BoolEncoding::Json => quote!(#private::param(&mut #map, #wire, #id)?;),
                BoolEncoding::YesNo => {
                    quote!(#map.serialize_entry(#wire, &#private::YesNo(#id))?;)
                }
                BoolEncoding::OneZero => {
                    quote!(#map.serialize_entry(#wire, &#private::OneZero(#id))?;)
                }
            }
        };
        if p.optional.is_some() {
            len.push(quote!(usize::from(#id.is_some())));
            entries.push(quote!(if let ::core::option::Option::Some(#id) = #id { #entry }));
        } else {
            entries.push(entry);
        }
    }

    quote! {
        #[automatically_derived]
        impl #serde::Serialize for #ident {
            fn serialize<__S: #serde::Serializer>(
                &self,
                #serializer: __S,
            ) -> ::core::result::Result<__S::Ok, __S::Error> {
                use #serde::ser::SerializeMap as _;
                #destructure
                let mut #map = #serializer.serialize_map(::core::option::Option::Some(#(#len)+*))?;
                #(#entries)*
                #map.end()
            }
        }
    }
}

/// The enum of the declared error codes and its impls (`Display`, `Error`, `MethodError`).
fn error_enum(decl: &MethodDecl, error_ident: &Ident) -> (TokenStream, TokenStream) {
    let (ident, rt, name, vis) = (&decl.item.ident, &decl.rt, &decl.name, &decl.item.vis);
    let doc = format!("The error codes documented for `{name}` ([`{ident}`]).");
    let variants = decl.errors.iter().map(|e| {
        let variant = &e.variant;
        let status = e.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
        let doc = format!("`{}`{status}: {}", e.code, e.doc);
        quote! {
            #[doc = #doc]
            #variant {
                /// The server's `error_description`.
                description: ::std::string::String,
            }
        }
    });
    let deprecated = &decl.deprecated;
    let enum_ = quote! {
        #[doc = #doc]
        #(#deprecated)*
        #[non_exhaustive]
        #vis enum #error_ident {
            #(#variants,)*
        }
    };

    // The codes, statuses and variant names in one static table; the lookup, `Display`, `Debug`
    // and the comparisons are the runtime's or go through the variant's index, instead of a
    // match (or a derive) per trait.
    let table = decl.errors.iter().map(|e| {
        let (code, status, variant) = (&e.code, e.status.unwrap_or(0), e.variant.to_string());
        quote!((#code, #status, #variant))
    });
    let index = Ident::new("__index", Span::mixed_site());
    let last = decl.errors.len() - 1;
    let from_index = decl.errors.iter().enumerate().map(|(i, e)| {
        let variant = &e.variant;
        // The last arm takes every index: `__new` is only given indices of the table.
        if i == last {
            quote!(_ => Self::#variant { description },)
        } else {
            quote!(#i => Self::#variant { description },)
        }
    });
    let to_index = decl.errors.iter().enumerate().map(|(i, e)| {
        let variant = &e.variant;
        quote!(Self::#variant { description } => (#i, description),)
    });
    let private = quote!(#rt::__private::decl);

    let impls = quote! {
        impl #error_ident {
            const __TABLE: &'static [#private::ErrorEntry] = &[#(#table),*];

            #[inline]
            fn __parts(&self) -> (usize, &str) {
                match self {
                    #(#to_index)*
                }
            }

            #[inline]
            fn __new(#index: usize, description: ::std::string::String) -> Self {
                match #index {
                    #(#from_index)*
                }
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #error_ident {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let (#index, description) = self.__parts();
                #private::fmt_error(f, Self::__TABLE[#index].0, description)
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Debug for #error_ident {
            #[inline]
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let (#index, description) = self.__parts();
                #private::debug_error(f, Self::__TABLE[#index].2, description)
            }
        }

        #[automatically_derived]
        impl ::core::clone::Clone for #error_ident {
            #[inline]
            fn clone(&self) -> Self {
                let (#index, description) = self.__parts();
                Self::__new(#index, ::std::string::String::from(description))
            }
        }

        #[automatically_derived]
        impl ::core::cmp::PartialEq for #error_ident {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.__parts() == other.__parts()
            }
        }

        #[automatically_derived]
        impl ::core::cmp::Eq for #error_ident {}

        #[automatically_derived]
        impl ::std::error::Error for #error_ident {}

        #[automatically_derived]
        impl #rt::MethodError for #error_ident {
            #[inline]
            fn from_code(code: &str, status: u16, description: &str) -> ::core::option::Option<Self> {
                let #index = #private::find_error(Self::__TABLE, code, status)?;
                ::core::option::Option::Some(Self::__new(#index, ::std::string::String::from(description)))
            }

            #[inline]
            fn code(&self) -> &'static str {
                Self::__TABLE[self.__parts().0].0
            }

            #[inline]
            fn description(&self) -> &str {
                self.__parts().1
            }
        }
    };
    (enum_, impls)
}

/// `fn session_start(client, <required>) -> Call<'_, SessionStart>`.
fn free_fn(decl: &MethodDecl, required: &[&Param], has_optional: bool) -> TokenStream {
    let MethodDecl {
        item,
        rt,
        name,
        fn_name,
        ..
    } = decl;
    let (ident, vis) = (&item.ident, &item.vis);
    let client = Ident::new("client", Span::mixed_site());
    let args = required.iter().map(|p| into_arg(p));
    let ids = required.iter().map(|p| &p.ident);
    let placeholder = if required.is_empty() { "" } else { "…" };
    let mut doc = format!(
        "Calls `{name}`: `client.call({ident}::new({placeholder}))`, with the request [`{ident}`]."
    );
    doc.push_str(&if decl.errors.is_empty() {
        "\n\nFails with `b24::Error<NoMethodErrors>`: the page documents no error codes.".to_owned()
    } else {
        format!("\n\nFails with `b24::Error<`[`{ident}Error`]`>`: its variants are the documented error codes.")
    });
    if has_optional {
        doc.push_str(&format!(
            "\n\nFor the optional parameters, build a [`{ident}`] with its setters and pass it to `Client::call`."
        ));
    }
    let many =
        (required.len() + 1 > MANY_ARGUMENTS).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    let deprecated = &decl.deprecated;
    quote! {
        #[doc = #doc]
        #(#deprecated)*
        #[allow(dead_code, deprecated)]
        #[inline]
        #many
        #vis fn #fn_name(#client: &#rt::Client, #(#args),*) -> #rt::Call<'_, #ident> {
            #client.call(#ident::new(#(#ids),*))
        }
    }
}
