//! Parsing, validation and expansion of `#[b24_method]`.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::BoolEncoding;
use super::{b24_method, parse};

fn decl(attr: TokenStream, item: TokenStream) -> super::model::MethodDecl {
    let item = syn::parse2(item).unwrap();
    parse::parse(attr, &item).unwrap_or_else(|e| panic!("unexpected errors: {e}"))
}

/// Every message reported for the declaration.
fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let item = syn::parse2(item).unwrap();
    match parse::parse(attr, &item) {
        Ok(_) => Vec::new(),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

/// The single message reported, which must contain every part of `expected`.
#[track_caller]
fn error(attr: TokenStream, item: TokenStream, expected: &[&str]) {
    let all = errors(attr, item);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    for part in expected {
        assert!(
            all[0].contains(part),
            "{:?} does not contain {part:?}",
            all[0]
        );
    }
}

fn start() -> TokenStream {
    quote! { pub struct SessionStart { pub chat_id: i64 } }
}

#[test]
fn full_declaration() {
    let d = decl(
        quote! {
            "imopenlines.session.start", response = bool, scope = "imopenlines", idempotent,
            fn_name = start_session, crate = "::b24",
            errors(CHAT_ID = "Empty.", CHAT_TYPE(400) = "Not open lines.", "invalid-code" = "Dashes.",),
        },
        quote! {
            /// Starts a session.
            #[derive(Debug, Clone)]
            pub struct SessionStart {
                /// The chat.
                pub chat_id: i64,
                #[b24(rename = "ACTIVATE", yn)]
                pub activate: Option<bool>,
                #[b24(int_bool)]
                pub silent: bool,
            }
        },
    );
    assert_eq!(d.name, "imopenlines.session.start");
    assert_eq!(d.scope, "imopenlines");
    assert!(d.idempotent);
    assert_eq!(d.fn_name, "start_session");
    assert!(!d.derives_default);
    let wires: Vec<_> = d.params.iter().map(|p| p.wire.as_str()).collect();
    assert_eq!(wires, ["CHAT_ID", "ACTIVATE", "SILENT"]);
    let encodings: Vec<_> = d.params.iter().map(|p| p.encoding).collect();
    assert_eq!(
        encodings,
        [
            BoolEncoding::Json,
            BoolEncoding::YesNo,
            BoolEncoding::OneZero
        ]
    );
    assert!(d.params[1].optional.is_some() && d.params[0].optional.is_none());
    assert_eq!(d.params[0].docs.len(), 1);
    let codes: Vec<_> = d
        .errors
        .iter()
        .map(|e| (e.code.as_str(), e.status, e.variant.to_string()))
        .collect();
    assert_eq!(
        codes,
        [
            ("CHAT_ID", None, "ChatId".to_owned()),
            ("CHAT_TYPE", Some(400), "ChatType".to_owned()),
            ("invalid-code", None, "InvalidCode".to_owned()),
        ]
    );
    // The helper attributes are gone from the re-emitted struct.
    assert!(d
        .item
        .fields
        .iter()
        .all(|f| f.attrs.iter().all(|a| !a.path().is_ident("b24"))));
}

#[test]
fn defaults() {
    let d = decl(quote!("tasks.flow.Flow.get", response = bool), start());
    assert_eq!(d.scope, "tasks");
    assert_eq!(d.fn_name, "flow_flow_get");
    assert!(!d.idempotent);
    assert!(d.errors.is_empty());
    let d = decl(
        quote!("x.type", response = bool, idempotent = false),
        start(),
    );
    assert_eq!(d.fn_name.to_string(), "r#type");
    assert!(!d.idempotent);
    let d = decl(quote!("profile", response = bool, scope = "basic"), start());
    assert_eq!(
        (d.fn_name.to_string().as_str(), d.scope.as_str()),
        ("profile", "basic")
    );
}

#[test]
fn runtime_path_override() {
    let d = decl(quote!("a.b", response = bool, crate = "my::rt"), start());
    assert_eq!(crate::util::path_string(&d.rt), "my::rt");
    error(
        quote!("a.b", response = bool, crate = "not a path"),
        start(),
        &["`crate` must be the path"],
    );
}

#[test]
fn method_names() {
    error(
        quote!("", response = bool),
        start(),
        &["the method name is empty"],
    );
    error(
        quote!("crm.deal get", response = bool),
        start(),
        &["contains a space"],
    );
    error(
        quote!("crm..get", response = bool),
        start(),
        &["empty segment"],
    );
    error(quote!(".crm", response = bool), start(), &["empty segment"]);
    error(
        quote!("crm.dé", response = bool),
        start(),
        &["contains `é`"],
    );
    error(
        quote!(crm.deal.get, response = bool),
        start(),
        &["must be a string literal", "`\"crm.deal.get\"`"],
    );
    error(
        quote!(response = bool),
        start(),
        &["missing the method name"],
    );
    assert_eq!(
        errors(quote!(), start()).len(),
        2,
        "name and response missing"
    );
    // Mixed case is kept.
    assert_eq!(
        decl(quote!("tasks.flow.Flow.get", response = bool), start()).name,
        "tasks.flow.Flow.get"
    );
}

#[test]
fn arguments() {
    error(quote!("a.b"), start(), &["missing `response = Type`"]);
    // A misspelled `response` is not reported missing too.
    error(
        quote!("a.b", respone = bool),
        start(),
        &["unknown argument `respone`", "did you mean `response`"],
    );
    error(
        quote!("a.b", response = bool, colour = 1),
        start(),
        &["expected `response`, `scope`"],
    );
    error(
        quote!("a.b", response = bool, response = i64),
        start(),
        &["`response` is given twice"],
    );
    error(
        quote!("a.b", response = "bool"),
        start(),
        &["without quotes: `response = bool`"],
    );
    error(
        quote!("a.b", response = bool, scope = crm),
        start(),
        &["`scope = \"crm\"`"],
    );
    error(
        quote!("a.b", response = bool, fn_name = "x"),
        start(),
        &["without quotes: `fn_name = x`"],
    );
    error(
        quote!("a.b", response = bool, idempotent = yes),
        start(),
        &["`idempotent = true`"],
    );
    error(
        quote!("a.b", response = bool, errors = 1),
        start(),
        &["in parentheses"],
    );
    error(
        quote!("a.1c", response = bool),
        start(),
        &["give one with `fn_name = …`"],
    );
    // A generic response type is one argument.
    let d = decl(
        quote!("a.b", response = std::collections::HashMap<String, i64>, idempotent),
        start(),
    );
    assert!(d.idempotent);
}

#[test]
fn error_codes() {
    let twice = errors(
        quote!("a.b", response = bool, errors(X = "a", x = "b")),
        start(),
    );
    assert_eq!(twice.len(), 2, "both spans: {twice:#?}");
    assert!(twice[0].contains("error code `x` is declared twice as `X`"));
    assert!(twice[1].contains("`X` is first declared here"));
    error(
        quote!("a.b", response = bool, errors("" = "a")),
        start(),
        &["the error code is empty"],
    );
    error(
        quote!("a.b", response = bool, errors("a b" = "a")),
        start(),
        &["contains a space"],
    );
    error(
        quote!("a.b", response = bool, errors(X)),
        start(),
        &["needs a description", "`X = \"what it means\"`"],
    );
    error(
        quote!("a.b", response = bool, errors(X(404))),
        start(),
        &["`X(404) = \"what it means\"`"],
    );
    error(
        quote!("a.b", response = bool, errors(X = "")),
        start(),
        &["is empty"],
    );
    error(
        quote!("a.b", response = bool, errors(X(1000) = "a")),
        start(),
        &["between 100 and 599"],
    );
    error(
        quote!("a.b", response = bool, errors(X = 1)),
        start(),
        &["must be a string literal"],
    );
    error(
        quote!(
            "a.b",
            response = bool,
            errors("chat-id" = "a", CHAT_ID = "b")
        ),
        start(),
        &["both be the variant `ChatId`"],
    );
}

#[test]
fn items() {
    let attr = || quote!("a.b", response = bool);
    error(
        attr(),
        quote!(
            enum E {
                A,
            }
        ),
        &["not on an enum", "`#[b24_object]`"],
    );
    error(attr(), quote!(union U { a: u8 }), &["not on a union"]);
    error(
        attr(),
        quote!(
            fn f() {}
        ),
        &["goes on a struct"],
    );
    error(
        attr(),
        quote!(
            struct T(i64);
        ),
        &["needs named fields"],
    );
    error(
        attr(),
        quote!(
            struct U;
        ),
        &["write `struct U {}`"],
    );
    error(
        attr(),
        quote!(
            struct G<T> {
                t: T,
            }
        ),
        &["cannot be generic"],
    );
    error(
        attr(),
        quote!(
            #[b24(rename = "X")]
            struct S {
                a: i64,
            }
        ),
        &["goes on fields"],
    );
}

#[test]
fn fields() {
    let attr = || quote!("a.b", response = bool);
    error(
        attr(),
        quote!(
            struct S {
                #[b24(renam = "X")]
                a: i64,
            }
        ),
        &["unknown field attribute `renam`", "`rename`"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(strict)]
                a: i64,
            }
        ),
        &["belongs to `#[b24_object]`"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(yn)]
                a: i64,
            }
        ),
        &["must be `bool` or `Option<bool>`, not `i64`"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(int_bool)]
                a: Option<String>,
            }
        ),
        &["1/0"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(yn, int_bool)]
                a: bool,
            }
        ),
        &["choose one"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(yn = true)]
                a: bool,
            }
        ),
        &["is a flag"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(rename = "")]
                a: bool,
            }
        ),
        &["`rename` is empty"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(rename = 1)]
                a: bool,
            }
        ),
        &["takes a string literal"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[serde(rename = "A")]
                a: bool,
            }
        ),
        &["`#[serde(...)]` has no effect"],
    );
    error(
        attr(),
        quote!(
            struct S {
                auth: String,
            }
        ),
        &["`auth` would be sent as `AUTH`, which is reserved"],
    );
    error(
        attr(),
        quote!(
            struct S {
                #[b24(rename = "Auth")]
                token: String,
            }
        ),
        &["`Auth`, which is reserved for the OAuth token"],
    );
    error(
        attr(),
        quote!(
            struct S {
                new: Option<i64>,
            }
        ),
        &["clash with the constructor"],
    );
    let both = errors(
        attr(),
        quote!(
            struct S {
                chat_id: i64,
                #[b24(rename = "CHAT_ID")]
                chat: i64,
            }
        ),
    );
    assert_eq!(both.len(), 2, "{both:#?}");
    assert!(both[0].contains("`chat` is sent as `CHAT_ID`, like `chat_id`"));
    assert!(both[1].contains("`chat_id` is sent as `CHAT_ID` too"));
    // Syntactic options and bools.
    decl(
        attr(),
        quote!(
            struct S {
                #[b24(yn)]
                a: std::option::Option<bool>,
                #[b24(int_bool)]
                b: bool,
            }
        ),
    );
}

#[test]
fn all_mistakes_at_once() {
    let all = errors(
        quote!("crm..get", respone = bool, errors(X)),
        quote!(
            struct S {
                #[b24(yn)]
                a: i64,
                auth: String,
                #[b24(colour)]
                c: i64,
            }
        ),
    );
    // name, unknown key (standing for `response`), code without description, yn on i64, auth,
    // unknown attribute
    assert_eq!(all.len(), 6, "{all:#?}");
    assert!(
        all[0].contains("empty segment"),
        "in the order written: {all:#?}"
    );
}

/// The expansion parses as items and has what the docs promise.
#[test]
fn expansion() {
    let out = b24_method(
        quote!(
            "imopenlines.session.start",
            response = bool,
            errors(CHAT_ID(400) = "Bad chat.")
        ),
        quote! {
            /// Starts.
            pub struct SessionStart { pub chat_id: i64, #[b24(yn)] pub activate: Option<bool> }
        },
    );
    let file: syn::File = syn::parse2(out.clone()).unwrap();
    let text = out.to_string();
    assert!(
        !text.contains("b24 ("),
        "helper attributes are stripped: {text}"
    );
    assert!(text.contains("Bitrix24 method `imopenlines.session.start` (scope `imopenlines`)."));
    assert!(text.contains("pub fn session_start"));
    assert!(text.contains("pub enum SessionStartError"));
    assert!(text.contains("YesNo"));
    assert!(
        text.contains("(\"CHAT_ID\" , 400u16 , \"ChatId\")"),
        "{text}"
    );
    assert!(
        !text.contains("# [derive"),
        "the error enum's std impls go through the table: {text}"
    );
    assert!(!text.contains("API_VERSION"), "V2 by default");
    assert!(!text.contains("compile_error"));
    assert!(!text.contains("Default for"), "required fields: no Default");
    // struct, error enum, free function, one `const _` holding every impl
    assert_eq!(file.items.len(), 4);

    let out = b24_method(
        quote!("a.b", response = bool),
        quote!(
            pub struct B {
                pub x: Option<i64>,
            }
        ),
    )
    .to_string();
    assert!(out.contains("Default for B"));
    assert!(out.contains("NoMethodErrors"));
    let out = b24_method(
        quote!("a.b", response = bool),
        quote!(
            #[derive(Default)]
            pub struct B {}
        ),
    )
    .to_string();
    assert!(!out.contains("Default for B"), "the user derives it");
}

/// On mistakes: the struct without helper attributes, and the errors.
#[test]
fn fallback() {
    let out = b24_method(
        quote!("a.b"),
        quote!(
            pub struct S {
                #[b24(yn)]
                pub a: bool,
            }
        ),
    )
    .to_string();
    assert!(out.contains("pub struct S"));
    assert!(!out.contains("yn"));
    assert!(out.contains("compile_error"));
    assert!(!out.contains("impl"));
}

#[test]
fn rest_version() {
    assert!(!decl(quote!("a.b", response = bool), start()).rest_v3);
    assert!(!decl(quote!("a.b", response = bool, rest = 2), start()).rest_v3);
    assert!(decl(quote!("a.b", response = bool, rest = 3), start()).rest_v3);
    error(
        quote!("a.b", response = bool, rest = 4),
        start(),
        &[
            "`rest` is the REST API version: `rest = 2`",
            "`rest = 3` (REST 3.0",
        ],
    );
    error(
        quote!("a.b", response = bool, rest = "3"),
        start(),
        &["`rest` is the REST API version"],
    );
    error(
        quote!("a.b", response = bool, rest = 3.0),
        start(),
        &["write `rest = 3`"],
    );
    error(
        quote!("a.b", response = bool, rest),
        start(),
        &["`rest` needs a value"],
    );
    let out = b24_method(quote!("a.b", response = bool, rest = 3), start()).to_string();
    assert!(
        out.contains("const API_VERSION : :: b24 :: ApiVersion = :: b24 :: ApiVersion :: V3"),
        "{out}"
    );
}

#[test]
fn one_of_fields() {
    let d = decl(
        quote!("imopenlines.operator.transfer", response = bool),
        quote! {
            pub struct OperatorTransfer {
                pub chat_id: i64,
                #[b24(one_of)]
                pub target: Target,
                #[b24(one_of)]
                pub other: Option<Other>,
            }
        },
    );
    assert!(d.params[1].one_of && d.params[2].one_of && !d.params[0].one_of);
    let out = b24_method(
        quote!("a.b", response = bool),
        quote!(
            pub struct S {
                #[b24(one_of)]
                pub target: Target,
            }
        ),
    )
    .to_string();
    assert!(
        out.contains("< Target as :: b24 :: __private :: decl :: OneOf > :: serialize_into (target , & mut __map)"),
        "{out}"
    );
    error(
        quote!("a.b", response = bool),
        quote!(
            pub struct S {
                #[b24(one_of, rename = "X")]
                pub target: Target,
            }
        ),
        &["a `one_of` field has no wire name of its own"],
    );
    error(
        quote!("a.b", response = bool),
        quote!(
            pub struct S {
                #[b24(one_of, yn)]
                pub target: bool,
            }
        ),
        &["`yn` and `one_of` do not combine"],
    );
    error(
        quote!("a.b", response = bool),
        quote!(
            pub struct S {
                #[b24(one_of = true)]
                pub target: Target,
            }
        ),
        &["`one_of` is a flag"],
    );
}

#[test]
fn deprecated_declarations() {
    let out = b24_method(
        quote!("a.b", response = bool, errors(X = "x")),
        quote! {
            #[deprecated(note = "use c.d")]
            pub struct S { #[deprecated] pub a: Option<i64> }
        },
    );
    let file: syn::File = syn::parse2(out.clone()).unwrap();
    let text = out.to_string();
    // the struct, the error enum and the function are deprecated; the impls allow it
    let deprecated = |item: &syn::Item| match item {
        syn::Item::Struct(s) => s.attrs.iter().any(|a| a.path().is_ident("deprecated")),
        syn::Item::Enum(e) => e.attrs.iter().any(|a| a.path().is_ident("deprecated")),
        syn::Item::Fn(f) => f.attrs.iter().any(|a| a.path().is_ident("deprecated")),
        _ => false,
    };
    assert_eq!(
        file.items.iter().filter(|i| deprecated(i)).count(),
        3,
        "{text}"
    );
    assert!(text.contains("# [allow (deprecated)] const _"), "{text}");
    assert!(
        text.contains("# [deprecated] # [must_use] pub fn a"),
        "the setter: {text}"
    );
}
