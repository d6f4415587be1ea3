//! The size of what the project's real declarations expand to, in tokens: the front-end cost of
//! a declaration grows with it (`benches/decl_cost.sh` measures the compile time and memory).
//!
//! `cargo test -p b24-macros expansion_size -- --nocapture` prints the table.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;

/// The declaration files of `methods/src` measured here.
const FILES: &[(&str, &str)] = &[
    (
        "imopenlines/dialog/get.rs",
        include_str!("../../methods/src/imopenlines/dialog/get.rs"),
    ),
    (
        "imopenlines/session/open.rs",
        include_str!("../../methods/src/imopenlines/session/open.rs"),
    ),
    (
        "imopenlines/session/join.rs",
        include_str!("../../methods/src/imopenlines/session/join.rs"),
    ),
    (
        "imopenlines/session/history/get.rs",
        include_str!("../../methods/src/imopenlines/session/history/get.rs"),
    ),
    (
        "imopenlines/session/start.rs",
        include_str!("../../methods/src/imopenlines/session/start.rs"),
    ),
    (
        "imopenlines/session/mode/pin.rs",
        include_str!("../../methods/src/imopenlines/session/mode/pin.rs"),
    ),
    (
        "crm/lead/list.rs",
        include_str!("../../methods/src/crm/lead/list.rs"),
    ),
];

/// Every token, groups counted as one plus their contents.
fn count(tokens: TokenStream) -> usize {
    tokens
        .into_iter()
        .map(|tt| match tt {
            TokenTree::Group(g) => 1 + count(g.stream()),
            _ => 1,
        })
        .sum()
}

/// (declarations, input tokens, output tokens) of the `#[b24_method]`s and `#[b24_object]`s
/// of one file.
fn expand_file(text: &str) -> [(usize, usize, usize); 2] {
    let file = syn::parse_file(text).expect("a declaration file parses");
    let mut sizes = [(0, 0, 0); 2];
    for item in file.items {
        let (mut item, attrs) = match item {
            syn::Item::Struct(s) => (syn::Item::Struct(s.clone()), s.attrs),
            syn::Item::Enum(e) => (syn::Item::Enum(e.clone()), e.attrs),
            _ => continue,
        };
        let Some(pos) = attrs
            .iter()
            .position(|a| a.path().is_ident("b24_method") || a.path().is_ident("b24_object"))
        else {
            continue;
        };
        let macro_attr = &attrs[pos];
        let args = match &macro_attr.meta {
            syn::Meta::List(list) => list.tokens.clone(),
            _ => TokenStream::new(),
        };
        let is_method = macro_attr.path().is_ident("b24_method");
        match &mut item {
            syn::Item::Struct(s) => drop(s.attrs.remove(pos)),
            syn::Item::Enum(e) => drop(e.attrs.remove(pos)),
            _ => unreachable!(),
        }
        let input = item.to_token_stream();
        let output = if is_method {
            crate::method::b24_method(args.clone(), input.clone())
        } else {
            crate::object::b24_object(args.clone(), input.clone())
        };
        assert!(
            !output.to_string().contains("compile_error"),
            "a real declaration expands without errors"
        );
        let slot = &mut sizes[usize::from(!is_method)];
        slot.0 += 1;
        slot.1 += count(args) + count(input);
        slot.2 += count(output);
    }
    sizes
}

#[test]
fn expansion_size() {
    let mut total = (0, 0, 0);
    println!("| file | methods | objects | tokens in | tokens out | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, text) in FILES {
        let [m, o] = expand_file(text);
        let (input, output) = (m.1 + o.1, m.2 + o.2);
        println!(
            "| {name} | {} | {} | {input} | {output} | {:.1} |",
            m.0,
            o.0,
            output as f64 / input as f64
        );
        total = (total.0 + m.0, total.1 + input, total.2 + output);
    }
    println!(
        "| all | {} | | {} | {} | {:.1} |",
        total.0,
        total.1,
        total.2,
        total.2 as f64 / total.1 as f64
    );
    assert_eq!(total.0, 7, "the seven real methods");
    // A guard against regressions of the expansion's size (9x its input when written; serde's
    // derives, expanded after this, came on top before): raise it only knowingly, with
    // `benches/decl_cost.sh` figures.
    assert!(
        total.2 <= 10 * total.1,
        "the declarations expand to {} tokens from {}",
        total.2,
        total.1
    );
}
