//! Parsing, validation and expansion of `#[b24_object]`.

use proc_macro2::TokenStream;
use quote::quote;

use super::model::Shape;
use super::{b24_object, parse};

fn errors(attr: TokenStream, item: TokenStream) -> Vec<String> {
    let item = syn::parse2(item).unwrap();
    match parse::parse(attr, &item) {
        Ok(_) => Vec::new(),
        Err((e, _)) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

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

#[test]
fn struct_fields() {
    let item = syn::parse2(quote! {
        struct Chat {
            #[b24(rename = "entityData1")] a: String,
            b: Option<i64>,
            #[b24(strict, default)] c: Vec<i64>,
            #[b24(flatten)] rest: Map,
            #[serde(with = "x")] d: i64,
        }
    })
    .unwrap();
    let decl = parse::parse(quote!(rename_all = "camelCase", crate = "::b24"), &item)
        .ok()
        .unwrap();
    let Shape::Struct(fields) = &decl.shape else {
        panic!("a struct")
    };
    assert_eq!(fields[0].rename.as_ref().unwrap().value(), "entityData1");
    assert!(fields[1].optional && !fields[1].strict);
    assert!(fields[2].strict && fields[2].default);
    assert!(fields[3].flatten);
    assert!(fields[4].strict, "the user's own `with` replaces leniency");
    assert_eq!(decl.rename_all.unwrap().value(), "camelCase");
}

#[test]
fn mistakes() {
    error(
        quote!(rename_all = "camel_case"),
        quote!(
            struct S {}
        ),
        &["did you mean \"camelCase\"", "\"SCREAMING-KEBAB-CASE\""],
    );
    error(
        quote!(rename_all = "sideways"),
        quote!(
            struct S {}
        ),
        &["unknown `rename_all` rule \"sideways\""],
    );
    error(
        quote!(rename = "x"),
        quote!(
            struct S {}
        ),
        &["unknown argument `rename`", "did you mean `rename_all`"],
    );
    error(
        quote!("a.b"),
        quote!(
            struct S {}
        ),
        &["takes no name"],
    );
    error(
        quote!(),
        quote!(
            struct T(i64);
        ),
        &["need named fields"],
    );
    error(
        quote!(),
        quote!(
            struct U;
        ),
        &["write `struct U {}`"],
    );
    error(
        quote!(),
        quote!(
            struct G<T> {
                t: T,
            }
        ),
        &["cannot be generic"],
    );
    error(quote!(), quote!(union U { a: u8 }), &["not on a union"]);
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(yn)]
                a: i64,
            }
        ),
        &[
            "`yn` writes a boolean as \"Y\"/\"N\"",
            "`bool` or `Option<bool>`, not `i64`",
        ],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(yn, int_bool)]
                a: bool,
            }
        ),
        &["`yn` and `int_bool` are two encodings of a boolean"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(yn = true)]
                a: bool,
            }
        ),
        &["`yn` is a flag: write `#[b24(yn)]`"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(yn)]
                #[serde(serialize_with = "mine")]
                a: bool,
            }
        ),
        &["`yn` and `#[serde(serialize_with)]` both say how the field is written"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(yn, strict)]
                a: bool,
            }
        ),
        &["`yn` writes a flag that strict decoding"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(strict = true)]
                a: bool,
            }
        ),
        &["is a flag"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(rename = "")]
                a: bool,
            }
        ),
        &["`rename` is empty"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(flatten, rename = "x")]
                a: M,
            }
        ),
        &["remove `rename`"],
    );
    error(
        quote!(),
        quote!(
            struct S {
                #[b24(default, default)]
                a: M,
            }
        ),
        &["given twice"],
    );
    error(
        quote!(),
        quote!(
            enum E {
                A(i64),
            }
        ),
        &["cannot hold data"],
    );
    error(
        quote!(),
        quote!(
            enum E {
                A { x: i64 },
            }
        ),
        &["cannot hold data"],
    );
    error(
        quote!(),
        quote!(
            enum E {
                A = 1,
            }
        ),
        &["`#[b24(rename = \"1\")]`"],
    );
    error(
        quote!(),
        quote!(
            enum E {
                #[b24(other)]
                A,
                #[b24(other)]
                B,
            }
        ),
        &["only one variant", "`A` already is"],
    );
    error(
        quote!(rename_all = "lowercase"),
        quote!(
            enum E {
                #[b24(strict)]
                A,
            }
        ),
        &[
            "unknown variant attribute `strict`",
            "belongs to struct fields",
        ],
    );
    error(
        quote!(),
        quote!(
            #[b24(rename = "x")]
            enum E {
                A,
            }
        ),
        &["goes on fields and variants"],
    );
}

#[test]
fn expansion() {
    let out = b24_object(
        quote!(rename_all = "camelCase", crate = "::my_rt"),
        quote! {
            #[derive(Debug)]
            pub struct Chat {
                #[b24(rename = "entityData1")] pub a: String,
                pub b: Option<i64>,
                #[b24(strict)] pub c: i64,
                #[b24(flatten)] pub rest: M,
            }
        },
    );
    syn::parse2::<syn::File>(out.clone()).unwrap();
    let text = out.to_string();
    // No serde derive: the runtime's field loop over a table of wire names.
    assert!(!text.contains("derive (:: my_rt"), "{text}");
    assert!(!text.contains("deserialize_with"), "{text}");
    assert!(
        text.contains(
            "const FIELDS : & 'static [& 'static str] = & [\"entityData1\" , \"b\" , \"c\"]"
        ),
        "rename first, then `rename_all`; no key for the flatten field: {text}"
    );
    assert!(text.contains("const FLATTEN : bool = true"));
    assert!(
        text.contains("0 => :: my_rt :: __private :: decl :: slot_lenient (& mut __s . 0 , __d)")
    );
    assert!(
        text.contains("2 => :: my_rt :: __private :: decl :: slot_strict (& mut __s . 2 , __d)"),
        "strict: plain serde: {text}"
    );
    assert!(
        text.contains("required (__s . 0 , \"entityData1\")"),
        "{text}"
    );
    assert!(
        text.contains("b : __s . 1 . unwrap_or_default ()"),
        "optional: missing is None"
    );
    assert!(
        text.contains("if self . b . is_some ()"),
        "None is not written"
    );
    assert!(text.contains("serialize_flatten (& mut __map , & self . rest)"));
    assert!(text.contains("impl :: my_rt :: __private :: Lenient for Chat"));
    assert!(text.contains("impl :: my_rt :: __private :: ParamValue for Chat"));
    assert!(text.contains("allow (deprecated)"));
    assert!(!text.contains("b24 ("));

    // The user's own serde attributes: serde's derive, which reads them.
    let out = b24_object(
        quote!(rename_all = "camelCase", crate = "::my_rt"),
        quote! {
            pub struct Chat {
                #[b24(rename = "entityData1")] pub a: String,
                pub b: Option<i64>,
                #[b24(strict)] pub c: i64,
                #[b24(flatten)] pub rest: M,
                #[serde(alias = "dd")] pub d: i64,
            }
        },
    );
    syn::parse2::<syn::File>(out.clone()).unwrap();
    let text = out.to_string();
    assert!(
        text.contains("serde (crate = \"::my_rt::__private::serde\")"),
        "{text}"
    );
    assert!(text.contains("rename_all = \"camelCase\""));
    assert!(
        text.contains(
            "rename = \"entityData1\" , deserialize_with = \"::my_rt::__private::lenient\""
        ),
        "{text}"
    );
    assert!(text.contains("default , skip_serializing_if"));
    assert!(text.contains("serde (flatten)]"));
    assert_eq!(
        text.matches("deserialize_with").count(),
        3,
        "not on strict or flatten fields"
    );
    assert!(text.contains("impl :: my_rt :: Lenient for Chat"));
    assert!(!text.contains("b24 ("));

    let out = b24_object(
        quote!(),
        quote!(
            enum E {
                #[b24(rename = "x")]
                A,
                #[b24(other)]
                B,
            }
        ),
    )
    .to_string();
    assert!(out.contains("serde (rename = \"x\")"));
    assert!(out.contains("serde (other)"));
}

#[test]
fn fallback_has_stubs() {
    let out = b24_object(
        quote!(),
        quote!(
            struct S {
                #[b24(strikt)]
                #[serde(alias = "x")]
                a: bool,
            }
        ),
    )
    .to_string();
    assert!(out.contains("compile_error"));
    assert!(out.contains("Lenient for S"));
    assert!(
        !out.contains("serde (alias"),
        "serde attributes go with the derive"
    );
}

#[test]
fn enums_need_wire_values() {
    error(
        quote!(),
        quote!(
            enum E {
                #[b24(rename = "x")]
                A,
                Lead,
                #[b24(other)]
                B,
            }
        ),
        &[
            "variant `Lead` has no wire value",
            "the Rust name \"Lead\"",
            "`#[b24(rename = \"…\")]`",
            "rename_all",
        ],
    );
    assert!(errors(
        quote!(rename_all = "lowercase"),
        quote!(
            enum E {
                Lead,
                Deal,
            }
        )
    )
    .is_empty());
}

#[test]
fn one_of_enums() {
    let item = syn::parse2(quote! {
        enum Target { #[b24(rename = "TRANSFER_ID")] Operator(i64), UserId(i64), QueueId(String) }
    })
    .unwrap();
    let decl = parse::parse(quote!(one_of), &item).ok().unwrap();
    let Shape::OneOf(alternatives) = &decl.shape else {
        panic!("one_of")
    };
    let wires: Vec<String> = alternatives.iter().map(|a| a.wire.value()).collect();
    assert_eq!(wires, ["TRANSFER_ID", "USER_ID", "QUEUE_ID"]);
    let out = b24_object(
        quote!(one_of),
        quote!(
            enum T {
                UserId(i64),
            }
        ),
    )
    .to_string();
    assert!(
        out.contains("impl :: b24 :: __private :: decl :: OneOf for T"),
        "{out}"
    );
    assert!(
        out.contains("param (__map , \"USER_ID\" , __value)"),
        "{out}"
    );
    assert!(
        !out.contains("ParamValue"),
        "not a parameter value by itself"
    );

    error(
        quote!(one_of),
        quote!(
            enum T {
                UserId(i64),
                Queue,
            }
        ),
        &[
            "each variant of a `one_of` enum holds the value of one parameter",
            "`Queue(T)`, sent as `QUEUE`",
        ],
    );
    error(
        quote!(one_of),
        quote!(
            enum T {
                UserId(i64, i64),
            }
        ),
        &["`UserId(T)`"],
    );
    error(
        quote!(one_of, rename_all = "camelCase"),
        quote!(
            enum T {
                UserId(i64),
            }
        ),
        &["`rename_all` does not apply to `one_of` enums"],
    );
    error(
        quote!(one_of),
        quote!(
            struct S {
                a: i64,
            }
        ),
        &["`one_of` goes on an enum"],
    );
    error(
        quote!(one_of),
        quote!(
            enum T {
                #[b24(other)]
                UserId(i64),
            }
        ),
        &["unknown attribute of a `one_of` variant `other`"],
    );
}

#[test]
fn flags_are_written_as_declared() {
    let own = b24_object(
        quote!(),
        quote!(
            struct S {
                #[b24(yn)]
                a: bool,
                #[b24(int_bool)]
                b: Option<bool>,
                c: bool,
            }
        ),
    )
    .to_string();
    assert!(own.contains("YesNo (& self . a)"), "{own}");
    assert!(own.contains("OneZero (& self . b)"), "{own}");
    assert!(
        own.contains("serialize_entry (\"c\" , & self . c)"),
        "{own}"
    );
    let derived = b24_object(
        quote!(),
        quote!(
            struct S {
                #[b24(yn)]
                #[serde(alias = "x")]
                a: bool,
            }
        ),
    )
    .to_string();
    assert!(
        derived.contains("serialize_with = \"::b24::__private::yes_no\""),
        "{derived}"
    );
}
