//! What both macros share: error collection, argument parsing, the runtime path, case
//! conversions and small syntactic checks.

use std::fmt::Display;

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::ParseStream;
use syn::{
    Attribute, Expr, GenericArgument, Ident, Lit, LitStr, Meta, Path, PathArguments, Token, Type,
};

// ---------------------------------------------------------------------------------------------
// errors

/// Every mistake found in one declaration, reported together.
#[derive(Default)]
pub(crate) struct Errors {
    inner: Option<syn::Error>,
}

impl Errors {
    /// Records an error.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.inner {
            Some(all) => all.combine(error),
            None => self.inner = Some(error),
        }
    }

    /// Records an error spanned on `tokens`.
    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error at `span`.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// `Ok` when nothing was recorded, else every error combined.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.inner.map_or(Ok(()), Err)
    }
}

/// A character as messages name it: "a space", or the character in backticks.
pub(crate) fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        c if c.is_whitespace() || c.is_control() => format!("`{}`", c.escape_default()),
        c => format!("`{c}`"),
    }
}

/// Joins `items` as "`a`, `b` or `c`".
pub(crate) fn one_of(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("`{s}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

/// The entry of `candidates` closest to `got`, when it is close enough to be a typo.
pub(crate) fn did_you_mean<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let got = got.to_ascii_lowercase();
    if got.len() >= 4 {
        if let Some(c) = candidates
            .iter()
            .find(|c| c.to_ascii_lowercase().starts_with(&got))
        {
            return Some(c);
        }
    }
    candidates
        .iter()
        .map(|c| (edit_distance(&got, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance (inputs are short identifiers).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// "unknown X `got`; expected one of …", with a suggestion when `got` looks like a typo.
pub(crate) fn unknown(what: &str, got: &str, valid: &[&str]) -> String {
    match did_you_mean(got, valid) {
        Some(close) => format!(
            "unknown {what} `{got}`: did you mean `{close}`? (expected {})",
            one_of(valid)
        ),
        None => format!("unknown {what} `{got}`: expected {}", one_of(valid)),
    }
}

// ---------------------------------------------------------------------------------------------
// macro arguments: `key`, `key = value`, `key(...)`, separated by commas

/// A key of a macro argument, e.g. `response` or `crate`.
pub(crate) struct Key {
    pub(crate) ident: Ident,
    pub(crate) name: String,
}

/// Parses the keyed arguments left in `input` (after any positional ones).
///
/// For each key in `valid` not seen before, `value` parses what follows the key (`= …`, `(…)` or
/// nothing). Unknown and repeated keys, malformed values and missing commas are recorded in
/// `errors` and skipped, so that the remaining arguments are still checked.
///
/// Returns the keys suggested for misspelled ones, which need not be reported missing too.
pub(crate) fn parse_keyed(
    input: ParseStream<'_>,
    errors: &mut Errors,
    valid: &[&'static str],
    mut value: impl FnMut(&Key, ParseStream<'_>, &mut Errors) -> syn::Result<()>,
) -> Vec<&'static str> {
    let mut seen: Vec<String> = Vec::new();
    let mut suggested = Vec::new();
    while !input.is_empty() {
        if input.peek(Token![,]) {
            let comma: Token![,] = input.parse().expect("peeked");
            errors.spanned(comma, "unexpected `,`: remove it");
            continue;
        }
        let key = match input.call(Ident::parse_any) {
            Ok(ident) => Key {
                name: ident.unraw().to_string(),
                ident,
            },
            Err(_) => {
                let rest = skip_to_comma(input);
                errors.spanned(
                    rest,
                    format!("expected an argument such as `{} = …`", valid[0]),
                );
                eat_comma(input);
                continue;
            }
        };
        if !valid.contains(&key.name.as_str()) {
            suggested.extend(did_you_mean(&key.name, valid));
            errors.spanned(&key.ident, unknown("argument", &key.name, valid));
            skip_to_comma(input);
        } else if seen.contains(&key.name) {
            errors.spanned(
                &key.ident,
                format!("`{}` is given twice: keep one", key.name),
            );
            skip_to_comma(input);
        } else {
            seen.push(key.name.clone());
            let fork = input.fork();
            match value(&key, &fork, errors) {
                Ok(()) => input.advance_to(&fork),
                Err(error) => {
                    errors.push(error);
                    skip_to_comma(input);
                }
            }
        }
        if !input.is_empty() && !input.peek(Token![,]) {
            let rest = skip_to_comma(input);
            errors.spanned(rest, format!("expected `,` after `{}`", key.name));
        }
        eat_comma(input);
    }
    suggested
}

fn eat_comma(input: ParseStream<'_>) {
    if input.peek(Token![,]) {
        let _: Token![,] = input.parse().expect("peeked");
    }
}

/// Consumes tokens up to the next `,` outside angle brackets (not included), returning them.
pub(crate) fn skip_to_comma(input: ParseStream<'_>) -> TokenStream {
    input
        .step(|cursor| {
            let mut rest = *cursor;
            let mut skipped = TokenStream::new();
            let mut depth = 0usize;
            while let Some((tt, next)) = rest.token_tree() {
                if let TokenTree::Punct(p) = &tt {
                    match p.as_char() {
                        ',' if depth == 0 => break,
                        '<' => depth += 1,
                        '>' => depth = depth.saturating_sub(1),
                        _ => {}
                    }
                }
                skipped.extend([tt]);
                rest = next;
            }
            Ok((skipped, rest))
        })
        .unwrap_or_default()
}

/// Parses `= "…"` after a key, with a hint when the value is not a string literal.
pub(crate) fn string_value(
    key: &Key,
    input: ParseStream<'_>,
    example: &str,
) -> syn::Result<LitStr> {
    expect_eq(key, input, &format!("\"{example}\""))?;
    if input.peek(LitStr) {
        return input.parse();
    }
    let got = skip_to_comma(input);
    let hint = if got.is_empty() {
        format!(
            "`{}` needs a value: write `{} = \"{example}\"`",
            key.name, key.name
        )
    } else {
        format!(
            "`{}` takes a string literal: write `{} = \"{}\"`",
            key.name,
            key.name,
            tokens_text(&got)
        )
    };
    Err(syn::Error::new_spanned(
        if got.is_empty() {
            key.ident.to_token_stream()
        } else {
            got
        },
        hint,
    ))
}

/// Parses the `=` after `key`.
pub(crate) fn expect_eq(key: &Key, input: ParseStream<'_>, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        let _: Token![=] = input.parse()?;
        Ok(())
    } else {
        Err(syn::Error::new_spanned(
            &key.ident,
            format!(
                "`{}` needs a value: write `{} = {example}`",
                key.name, key.name
            ),
        ))
    }
}

/// Parses `crate = "path"`.
pub(crate) fn crate_value(key: &Key, input: ParseStream<'_>) -> syn::Result<Path> {
    let lit = string_value(key, input, "::b24")?;
    lit.parse_with(Path::parse_mod_style).map_err(|_| {
        syn::Error::new_spanned(
            &lit,
            "`crate` must be the path of the b24 crate, e.g. `crate = \"::b24\"`",
        )
    })
}

/// The tokens as the user would write them (`a . b` → `a.b`).
pub(crate) fn tokens_text(tokens: &TokenStream) -> String {
    let text = tokens.to_string();
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if *c == ' ' {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1).copied();
            let word =
                |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"');
            if !(word(prev) && word(next)) {
                continue;
            }
        }
        out.push(*c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// the runtime

/// The path generated code reaches the runtime by: the `crate = "…"` override, else `::b24`
/// (also from inside the b24 crate, which has `extern crate self as b24;`), else
/// `::b24_runtime`, else `::b24`.
pub(crate) fn runtime_path(explicit: Option<Path>) -> Path {
    use proc_macro_crate::{crate_name, FoundCrate};

    if let Some(path) = explicit {
        return path;
    }
    let named = |name: &str| {
        let ident = Ident::new(&name.replace('-', "_"), Span::call_site());
        syn::parse_quote!(::#ident)
    };
    match crate_name("b24") {
        Ok(FoundCrate::Itself) => named("b24"),
        Ok(FoundCrate::Name(name)) => named(&name),
        Err(_) => match crate_name("b24-runtime") {
            Ok(FoundCrate::Itself) => syn::parse_quote!(crate),
            Ok(FoundCrate::Name(name)) => named(&name),
            Err(_) => named("b24"),
        },
    }
}

/// The path as a string, for serde's string-valued attributes.
pub(crate) fn path_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}

// ---------------------------------------------------------------------------------------------
// names

/// The default wire name of a parameter: `chat_id` → `CHAT_ID`.
pub(crate) fn wire_name(field: &Ident) -> String {
    field.unraw().to_string().to_shouty_snake_case()
}

/// A field's JSON name under serde's `rename_all` rule (`None`: the name as is), exactly as
/// serde's derive computes it from a snake_case field name.
pub(crate) fn serde_rename(field: &str, rule: Option<&str>) -> String {
    let pascal = || {
        let mut out = String::with_capacity(field.len());
        let mut capitalize = true;
        for c in field.chars() {
            if c == '_' {
                capitalize = true;
            } else if capitalize {
                out.push(c.to_ascii_uppercase());
                capitalize = false;
            } else {
                out.push(c);
            }
        }
        out
    };
    match rule {
        None | Some("lowercase" | "snake_case") => field.to_owned(),
        Some("UPPERCASE" | "SCREAMING_SNAKE_CASE") => field.to_ascii_uppercase(),
        Some("PascalCase") => pascal(),
        Some("camelCase") => {
            let p = pascal();
            let mut chars = p.chars();
            match chars.next() {
                Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
                None => p,
            }
        }
        Some("kebab-case") => field.replace('_', "-"),
        Some("SCREAMING-KEBAB-CASE") => field.to_ascii_uppercase().replace('_', "-"),
        Some(other) => unreachable!("rule `{other}` is checked when parsed"),
    }
}

/// The default function name of a method: the name without its first segment, each segment
/// snake-cased, joined with `_` (`imopenlines.session.mode.pin` → `session_mode_pin`,
/// `tasks.flow.Flow.get` → `flow_flow_get`); a one-segment name is snake-cased whole.
pub(crate) fn default_fn_name(method: &str) -> String {
    let segments: Vec<&str> = method.split('.').collect();
    let rest = if segments.len() > 1 {
        &segments[1..]
    } else {
        &segments[..]
    };
    rest.iter()
        .map(|s| s.to_snake_case())
        .collect::<Vec<_>>()
        .join("_")
}

/// The enum variant of an error code: `CHAT_ID` → `ChatId`, `invalid-code` → `InvalidCode`.
/// Codes that would not start with a letter get a `Code` prefix (`404` → `Code404`).
pub(crate) fn variant_name(code: &str) -> String {
    let camel = code.to_upper_camel_case();
    if camel.starts_with(|c: char| c.is_ascii_alphabetic()) && camel != "Self" {
        camel
    } else {
        format!("Code{camel}")
    }
}

/// An identifier for `name`, raw when `name` is a keyword; `None` when it cannot be one.
pub(crate) fn ident_for(name: &str, span: Span) -> Option<Ident> {
    let valid_start = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let valid_rest = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid_start || !valid_rest || name == "_" {
        return None;
    }
    if syn::parse_str::<Ident>(name).is_ok() {
        Some(Ident::new(name, span))
    } else if matches!(name, "self" | "Self" | "super" | "crate") {
        None
    } else {
        Some(Ident::new_raw(name, span))
    }
}

// ---------------------------------------------------------------------------------------------
// types and attributes

/// `T` when `ty` is spelled `Option<T>` (also `std::option::Option<T>`).
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = peel(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segments = &path.path.segments;
    let last = segments.last()?;
    let prefix_ok = match segments.len() {
        1 => path.path.leading_colon.is_none(),
        3 => {
            let first = segments[0].ident.to_string();
            (first == "std" || first == "core") && segments[1].ident == "option"
        }
        _ => false,
    };
    if !prefix_ok || last.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(GenericArgument::Type(inner)) if args.args.len() == 1 => Some(inner),
        _ => None,
    }
}

/// Whether `ty` is spelled `bool`.
pub(crate) fn is_bool(ty: &Type) -> bool {
    matches!(peel(ty), Type::Path(p) if p.qself.is_none() && p.path.is_ident("bool"))
}

/// The type inside invisible groups (a `$ty` from `macro_rules!`) and parentheses.
fn peel(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}

/// Whether the attribute is `#[b24(...)]`.
pub(crate) fn is_b24(attr: &Attribute) -> bool {
    attr.path().is_ident("b24")
}

/// Removes the `#[b24(...)]` helper attributes.
pub(crate) fn strip_b24(attrs: &mut Vec<Attribute>) {
    attrs.retain(|a| !is_b24(a));
}

/// Removes the `#[b24(...)]` helper attributes everywhere in `item` (the item itself, fields,
/// variants), and `#[serde(...)]` ones too when `serde` is set.
pub(crate) fn strip_item(item: &mut syn::Item, serde: bool) {
    let strip = |attrs: &mut Vec<Attribute>| {
        attrs.retain(|a| !(is_b24(a) || (serde && a.path().is_ident("serde"))));
    };
    match item {
        syn::Item::Struct(s) => {
            strip(&mut s.attrs);
            s.fields.iter_mut().for_each(|f| strip(&mut f.attrs));
        }
        syn::Item::Enum(e) => {
            strip(&mut e.attrs);
            for v in &mut e.variants {
                strip(&mut v.attrs);
                v.fields.iter_mut().for_each(|f| strip(&mut f.attrs));
            }
        }
        syn::Item::Union(u) => {
            strip(&mut u.attrs);
            u.fields.named.iter_mut().for_each(|f| strip(&mut f.attrs));
        }
        _ => {}
    }
}

/// The lines of the `///` docs among `attrs`, each without its leading space.
pub(crate) fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if let Meta::NameValue(nv) = &attr.meta {
            if nv.path.is_ident("doc") {
                if let Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) = &nv.value
                {
                    for line in s.value().lines() {
                        lines.push(line.strip_prefix(' ').unwrap_or(line).to_owned());
                    }
                }
            }
        }
    }
    lines
}

/// The `#[doc]` attributes among `attrs`.
pub(crate) fn doc_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc"))
}

/// Whether `attrs` derive `name` (`#[derive(.., Default, ..)]`).
pub(crate) fn derives(attrs: &[Attribute], name: &str) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .any(|a| {
            a.parse_args_with(syn::punctuated::Punctuated::<Path, Token![,]>::parse_terminated)
                .is_ok_and(|paths| {
                    paths
                        .iter()
                        .any(|p| p.segments.last().is_some_and(|s| s.ident == name))
                })
        })
}

/// The original item followed by the errors: what is emitted when a declaration is wrong.
pub(crate) fn with_errors(item: impl ToTokens, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote!(#item #error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names() {
        let id = |s: &str| syn::parse_str::<Ident>(s).unwrap();
        assert_eq!(wire_name(&id("chat_id")), "CHAT_ID");
        assert_eq!(wire_name(&id("entity_data_1")), "ENTITY_DATA_1");
        assert_eq!(wire_name(&id("r#type")), "TYPE");
        assert_eq!(wire_name(&id("id")), "ID");
    }

    #[test]
    fn serde_rules() {
        let cases = [
            (None, "entity_data_1"),
            (Some("lowercase"), "entity_data_1"),
            (Some("snake_case"), "entity_data_1"),
            (Some("UPPERCASE"), "ENTITY_DATA_1"),
            (Some("SCREAMING_SNAKE_CASE"), "ENTITY_DATA_1"),
            (Some("PascalCase"), "EntityData1"),
            (Some("camelCase"), "entityData1"),
            (Some("kebab-case"), "entity-data-1"),
            (Some("SCREAMING-KEBAB-CASE"), "ENTITY-DATA-1"),
        ];
        for (rule, expected) in cases {
            assert_eq!(serde_rename("entity_data_1", rule), expected, "{rule:?}");
        }
        assert_eq!(serde_rename("id", Some("camelCase")), "id");
        assert_eq!(serde_rename("chat_id", Some("camelCase")), "chatId");
    }

    #[test]
    fn fn_names() {
        assert_eq!(
            default_fn_name("imopenlines.session.start"),
            "session_start"
        );
        assert_eq!(
            default_fn_name("imopenlines.session.mode.pin"),
            "session_mode_pin"
        );
        assert_eq!(default_fn_name("tasks.flow.Flow.get"), "flow_flow_get");
        assert_eq!(default_fn_name("crm.deal.getList"), "deal_get_list");
        assert_eq!(default_fn_name("profile"), "profile");
        assert_eq!(default_fn_name("app.info"), "info");
    }

    #[test]
    fn variant_names() {
        assert_eq!(variant_name("CHAT_ID"), "ChatId");
        assert_eq!(variant_name("invalid-code"), "InvalidCode");
        assert_eq!(
            variant_name("ERROR_METHOD_NOT_FOUND"),
            "ErrorMethodNotFound"
        );
        assert_eq!(variant_name("tasks.error"), "TasksError");
        assert_eq!(variant_name("404"), "Code404");
        assert_eq!(variant_name("self"), "CodeSelf");
    }

    #[test]
    fn identifiers() {
        assert_eq!(
            ident_for("start", Span::call_site()).unwrap().to_string(),
            "start"
        );
        assert_eq!(
            ident_for("type", Span::call_site()).unwrap().to_string(),
            "r#type"
        );
        assert!(ident_for("self", Span::call_site()).is_none());
        assert!(ident_for("1c_sync", Span::call_site()).is_none());
        assert!(ident_for("", Span::call_site()).is_none());
    }

    #[test]
    fn options_and_bools() {
        let ty = |s: &str| syn::parse_str::<Type>(s).unwrap();
        assert!(is_bool(option_inner(&ty("Option<bool>")).unwrap()));
        assert!(option_inner(&ty("std::option::Option<i64>")).is_some());
        assert!(option_inner(&ty("::core::option::Option<i64>")).is_some());
        assert!(option_inner(&ty("my::Option<i64>")).is_none());
        assert!(option_inner(&ty("Vec<i64>")).is_none());
        assert!(is_bool(&ty("bool")));
        assert!(is_bool(&ty("(bool)")));
        // `$ty` fragments of `macro_rules!` arrive in invisible groups.
        let grouped = Type::Group(syn::TypeGroup {
            group_token: Default::default(),
            elem: Box::new(ty("Option<bool>")),
        });
        assert!(is_bool(option_inner(&grouped).unwrap()));
        assert!(!is_bool(&ty("Option<bool>")));
    }

    #[test]
    fn suggestions() {
        let valid = [
            "response",
            "scope",
            "idempotent",
            "fn_name",
            "crate",
            "errors",
        ];
        assert_eq!(did_you_mean("respone", &valid), Some("response"));
        assert_eq!(did_you_mean("error", &valid), Some("errors"));
        assert_eq!(did_you_mean("colour", &valid), None);
        assert_eq!(one_of(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(one_of(&["a"]), "`a`");
    }

    #[test]
    fn token_text() {
        let tokens: TokenStream = syn::parse_str("imopenlines . session . start").unwrap();
        assert_eq!(tokens_text(&tokens), "imopenlines.session.start");
        let tokens: TokenStream = syn::parse_str("Vec < i64 >").unwrap();
        assert_eq!(tokens_text(&tokens), "Vec<i64>");
    }
}

/// How a boolean field or parameter is written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoolEncoding {
    /// JSON `true`/`false` (any other type: its own serialization).
    Json,
    /// `"Y"`/`"N"` (`#[b24(yn)]`).
    YesNo,
    /// `1`/`0` (`#[b24(int_bool)]`).
    OneZero,
}

/// A `yn` / `int_bool` flag (`flag`, of encoding `kind`) on a field of type `ty`: an error on the
/// type unless it is `bool` or `Option<bool>`.
pub(crate) fn check_bool_type(ty: &Type, kind: BoolEncoding, flag: &Ident, errors: &mut Errors) {
    if is_bool(ty) || option_inner(ty).is_some_and(is_bool) {
        return;
    }
    let how = if kind == BoolEncoding::YesNo {
        "\"Y\"/\"N\""
    } else {
        "1/0"
    };
    errors.spanned(
        ty,
        format!(
            "`{flag}` writes a boolean as {how}, so the field must be `bool` or `Option<bool>`, not `{}`",
            tokens_text(&ty.to_token_stream())
        ),
    );
}
