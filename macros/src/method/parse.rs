//! `#[b24_method(...)]` arguments and struct → [`MethodDecl`], with every mistake collected.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};
use syn::{Fields, Ident, Item, ItemStruct, LitBool, LitInt, LitStr, Path, Token, Type};

use super::model::{BoolEncoding, ErrorCode, ListSpec, MethodDecl, Param};
use crate::util::{self, Errors, Key};

/// The keyed arguments, in the order the docs list them.
const ARGS: &[&str] = &[
    "response",
    "scope",
    "idempotent",
    "fn_name",
    "crate",
    "errors",
    "list",
    "rest",
];

/// The arguments of `list(...)`.
const LIST_ARGS: &[&str] = &["item", "cursor", "filter", "order", "items"];

/// The field attributes.
const FIELD_ATTRS: &[&str] = &["rename", "yn", "int_bool", "one_of"];

/// Where the declaration's example lives in messages.
const EXAMPLE: &str = "#[b24_method(\"imopenlines.session.start\", response = bool)]";

/// The arguments as written, before defaults.
#[derive(Default)]
struct Args {
    name: Option<LitStr>,
    /// The name, when it is a valid one.
    checked_name: Option<String>,
    response: Option<Type>,
    scope: Option<LitStr>,
    idempotent: bool,
    fn_name: Option<Ident>,
    krate: Option<Path>,
    errors: Vec<ErrorCode>,
    list: Option<ListSpec>,
    /// `rest = 3`: a REST 3.0 method.
    rest_v3: bool,
    /// The keys given, even with wrong values (which are reported on their own), and those
    /// suggested for misspelled keys.
    given: Vec<String>,
}

/// Parses and checks a declaration: the attribute's arguments and the item it is on.
pub(crate) fn parse(attr: TokenStream, item: &Item) -> syn::Result<MethodDecl> {
    let mut errors = Errors::default();
    let args = parse_args(attr, &mut errors);
    let name = args.checked_name.clone();
    let item = checked_struct(item, &mut errors);
    let params = item
        .map(|s| parse_params(s, &mut errors))
        .unwrap_or_default();

    if !args.given.iter().any(|k| k == "response") {
        errors.at(
            Span::call_site(),
            "missing `response = Type`: the type the method's `result` decodes into, e.g. \
             `response = bool` or a `#[b24_object]` struct",
        );
    }
    let fn_name = match (&args.fn_name, &name) {
        (Some(ident), _) => Some(ident.clone()),
        (None, Some(name)) => {
            let lit = args.name.as_ref().expect("name parsed");
            let derived = util::default_fn_name(name);
            let ident = util::ident_for(&derived, lit.span());
            if ident.is_none() {
                errors.spanned(
                    lit,
                    format!(
                        "cannot make a function name of `{name}` (`{derived}` is not an identifier): \
                         give one with `fn_name = …`"
                    ),
                );
            }
            ident
        }
        (None, None) => None,
    };
    let scope = match (&args.scope, &name) {
        (Some(lit), _) => {
            let scope = lit.value();
            if scope.is_empty() || scope.contains(char::is_whitespace) {
                errors.spanned(
                    lit,
                    "the scope must be a non-empty word, e.g. `scope = \"crm\"`",
                );
            }
            Some(scope)
        }
        (None, Some(name)) => name.split('.').next().map(str::to_owned),
        (None, None) => None,
    };

    errors.finish()?;
    let (Some(item), Some(name), Some(response), Some(fn_name), Some(scope)) =
        (item, name, args.response, fn_name, scope)
    else {
        unreachable!("every missing piece is reported as an error");
    };
    let mut item = item.clone();
    let item_deprecated: Vec<syn::Attribute> = item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("deprecated"))
        .cloned()
        .collect();
    util::strip_b24(&mut item.attrs);
    item.fields
        .iter_mut()
        .for_each(|f| util::strip_b24(&mut f.attrs));
    Ok(MethodDecl {
        derives_default: util::derives(&item.attrs, "Default"),
        item,
        rt: util::runtime_path(args.krate),
        name,
        scope,
        idempotent: args.idempotent,
        response,
        fn_name,
        errors: args.errors,
        params,
        list: args.list,
        rest_v3: args.rest_v3,
        deprecated: item_deprecated,
    })
}

/// `rest = 2` (the classic REST API, the default) or `rest = 3` (REST 3.0); `true` for 3.
fn parse_rest(key: &Key, input: ParseStream<'_>) -> syn::Result<bool> {
    const HINT: &str =
        "`rest` is the REST API version: `rest = 2` (classic `/rest/…`, the default) or \
                        `rest = 3` (REST 3.0, `/rest/api/…`)";
    util::expect_eq(key, input, "3")?;
    let value = util::skip_to_comma(input);
    match syn::parse2::<syn::Lit>(value.clone()) {
        Ok(syn::Lit::Int(lit)) if lit.suffix().is_empty() && lit.base10_digits() == "2" => {
            Ok(false)
        }
        Ok(syn::Lit::Int(lit)) if lit.suffix().is_empty() && lit.base10_digits() == "3" => Ok(true),
        Ok(syn::Lit::Float(lit)) if matches!(lit.base10_digits(), "2.0" | "3.0") => {
            Err(syn::Error::new_spanned(
                &lit,
                format!("write `rest = {}`", &lit.base10_digits()[..1]),
            ))
        }
        _ if value.is_empty() => Err(syn::Error::new_spanned(&key.ident, HINT)),
        _ => Err(syn::Error::new_spanned(&value, HINT)),
    }
}

// ---------------------------------------------------------------------------------------------
// arguments

fn parse_args(attr: TokenStream, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    let parser = |input: ParseStream<'_>| {
        parse_name(input, &mut args, errors);
        let suggested = util::parse_keyed(input, errors, ARGS, |key, input, errors| {
            parse_arg(key, input, &mut args, errors)
        });
        args.given.extend(suggested.into_iter().map(str::to_owned));
        Ok(())
    };
    if let Err(error) = parser.parse2(attr) {
        errors.push(error);
    }
    args
}

/// The positional method name, which must come first.
fn parse_name(input: ParseStream<'_>, args: &mut Args, errors: &mut Errors) {
    let missing =
        format!("missing the method name: write it first, as a string literal: `{EXAMPLE}`");
    if input.is_empty() {
        errors.at(Span::call_site(), missing);
        return;
    }
    if input.peek(LitStr) {
        let lit: LitStr = input.parse().expect("peeked");
        args.checked_name = check_name(&lit, errors);
        args.name = Some(lit);
    } else {
        let fork = input.fork();
        let keyed = fork
            .call(Ident::parse_any)
            .is_ok_and(|key| ARGS.contains(&key.unraw().to_string().as_str()));
        if keyed {
            errors.at(Span::call_site(), missing);
            return;
        }
        let written = util::skip_to_comma(input);
        let text = util::tokens_text(&written);
        errors.spanned(
            &written,
            format!(
                "the method name must be a string literal: write `\"{}\"`",
                text.trim_matches('\'')
            ),
        );
    }
    if input.peek(Token![,]) {
        let _: Token![,] = input.parse().expect("peeked");
    } else if !input.is_empty() {
        let rest = util::skip_to_comma(input);
        errors.spanned(rest, "expected `,` after the method name");
        if input.peek(Token![,]) {
            let _: Token![,] = input.parse().expect("peeked");
        }
    }
}

fn parse_arg(
    key: &Key,
    input: ParseStream<'_>,
    args: &mut Args,
    errors: &mut Errors,
) -> syn::Result<()> {
    args.given.push(key.name.clone());
    match key.name.as_str() {
        "response" => {
            util::expect_eq(key, input, "bool")?;
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                return Err(syn::Error::new_spanned(
                    &lit,
                    format!(
                        "write the type without quotes: `response = {}`",
                        lit.value()
                    ),
                ));
            }
            args.response = Some(input.parse()?);
        }
        "scope" => args.scope = Some(util::string_value(key, input, "imopenlines")?),
        "idempotent" => {
            args.idempotent = true;
            if input.peek(Token![=]) {
                let _: Token![=] = input.parse()?;
                let value: LitBool = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "write `idempotent`, `idempotent = true` or `idempotent = false`",
                    )
                })?;
                args.idempotent = value.value;
            }
        }
        "fn_name" => {
            util::expect_eq(key, input, "session_start")?;
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                return Err(syn::Error::new_spanned(
                    &lit,
                    format!(
                        "write the function name without quotes: `fn_name = {}`",
                        lit.value()
                    ),
                ));
            }
            args.fn_name = Some(input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "`fn_name` takes an identifier, e.g. `fn_name = session_start`",
                )
            })?);
        }
        "crate" => args.krate = Some(util::crate_value(key, input)?),
        "errors" => args.errors = parse_error_codes(key, input, errors)?,
        "list" => args.list = parse_list(key, input, errors)?,
        "rest" => args.rest_v3 = parse_rest(key, input)?,
        _ => unreachable!("parse_keyed only passes known keys"),
    }
    Ok(())
}

/// `list(item = Lead, cursor = "ID", filter = "filter", order = "order", items = "items")`;
/// `None` when it was wrong (the mistakes are recorded).
fn parse_list(
    key: &Key,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<ListSpec>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new_spanned(
            &key.ident,
            "write the list's row type in parentheses: `list(item = Lead)`, optionally with \
             `cursor = \"ID\"`, `filter = \"FILTER\"`, `order = \"ORDER\"`, `items = \"items\"`",
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let mut item: Option<Type> = None;
    let mut strings: [Option<String>; 4] = Default::default();
    util::parse_keyed(&content, errors, LIST_ARGS, |key, input, _| {
        match key.name.as_str() {
            "item" => {
                util::expect_eq(key, input, "Lead")?;
                item = Some(input.parse()?);
            }
            other => {
                let lit = util::string_value(key, input, "ID")?;
                let value = lit.value();
                if value.is_empty() {
                    return Err(syn::Error::new_spanned(
                        &lit,
                        format!("`{other}` cannot be empty"),
                    ));
                }
                let slot = LIST_ARGS
                    .iter()
                    .position(|k| *k == other)
                    .expect("known key")
                    - 1;
                strings[slot] = Some(value);
            }
        }
        Ok(())
    });
    let Some(item) = item else {
        errors.spanned(
            &key.ident,
            "`list(...)` needs the row type: `list(item = Lead)`",
        );
        return Ok(None);
    };
    let [cursor, filter, order, items] = strings;
    Ok(Some(ListSpec {
        item,
        cursor,
        filter,
        order,
        items,
    }))
}

/// `errors(CODE = "…", CODE(400) = "…", "code-with-dashes" = "…")`.
fn parse_error_codes(
    key: &Key,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Vec<ErrorCode>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new_spanned(
            &key.ident,
            "write the error codes in parentheses: `errors(CHAT_ID = \"what it means\", …)`",
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    let mut codes: Vec<ErrorCode> = Vec::new();
    // (code as written, its tokens)
    let mut seen: Vec<(String, TokenStream)> = Vec::new();
    while !content.is_empty() {
        let fork = content.fork();
        match parse_error_code(&fork, errors) {
            Ok(Some((code, token))) => {
                content.advance_to(&fork);
                if let Some((first, first_token)) = seen
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(&code.code))
                {
                    let same = if *first == code.code {
                        String::new()
                    } else {
                        format!(" as `{first}`")
                    };
                    errors.spanned(
                        &token,
                        format!(
                            "error code `{}` is declared twice{same} (codes are matched ignoring case): keep one",
                            code.code
                        ),
                    );
                    errors.spanned(first_token, format!("`{first}` is first declared here"));
                } else if let Some(other) = codes.iter().find(|c| c.variant == code.variant) {
                    errors.spanned(
                        &token,
                        format!(
                            "error codes `{}` and `{}` would both be the variant `{}`: keep one",
                            other.code, code.code, code.variant
                        ),
                    );
                } else {
                    seen.push((code.code.clone(), token));
                    codes.push(code);
                }
            }
            Ok(None) => content.advance_to(&fork),
            Err(error) => {
                errors.push(error);
                util::skip_to_comma(&content);
            }
        }
        if !content.is_empty() && !content.peek(Token![,]) {
            let rest = util::skip_to_comma(&content);
            errors.spanned(rest, "expected `,` between error codes");
        }
        if content.peek(Token![,]) {
            let _: Token![,] = content.parse()?;
        }
    }
    Ok(codes)
}

/// One `CODE(status) = "description"`; `None` when it was wrong but could be skipped.
fn parse_error_code(
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<(ErrorCode, TokenStream)>> {
    let (code, token, span) = if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        (lit.value(), lit.to_token_stream(), lit.span())
    } else if input.peek(Ident::peek_any) {
        let ident = input.call(Ident::parse_any)?;
        (
            ident.unraw().to_string(),
            ident.to_token_stream(),
            ident.span(),
        )
    } else {
        let rest = util::skip_to_comma(input);
        return Err(syn::Error::new_spanned(
            rest,
            "expected an error code: `CODE = \"what it means\"` (or `\"code\" = \"…\"` when it is not an identifier)",
        ));
    };
    let mut ok = true;
    if code.is_empty() {
        errors.spanned(
            &token,
            "the error code is empty: write the code exactly as the portal sends it in `error`",
        );
        ok = false;
    } else if let Some(bad) = code
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        errors.spanned(
            &token,
            format!(
                "error code `{code}` contains {}: codes are ASCII letters, digits, `_`, `-` and `.`",
                util::describe_char(bad)
            ),
        );
        ok = false;
    }

    let mut status = None;
    if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        let lit: LitInt = content.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("write the HTTP status as a number: `{code}(400) = \"…\"`"),
            )
        })?;
        match lit.base10_parse::<u16>() {
            Ok(n) if (100..=599).contains(&n) => status = Some(n),
            _ => {
                errors.spanned(&lit, "the HTTP status must be between 100 and 599");
                ok = false;
            }
        }
        if !content.is_empty() {
            let rest: TokenStream = content.parse()?;
            errors.spanned(rest, "only one HTTP status per code");
        }
    }

    let status_text = status.map(|s| format!("({s})")).unwrap_or_default();
    if !input.peek(Token![=]) {
        let written = quote!(#token);
        errors.spanned(
            &written,
            format!(
                "error code `{code}` needs a description: write `{}{status_text} = \"what it means\"`",
                util::tokens_text(&written)
            ),
        );
        return Ok(None);
    }
    let _: Token![=] = input.parse()?;
    let doc: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("the description of `{code}` must be a string literal"),
        )
    })?;
    if doc.value().trim().is_empty() {
        errors.spanned(
            &doc,
            format!("the description of `{code}` is empty: say what the code means"),
        );
        ok = false;
    }
    if !ok {
        return Ok(None);
    }
    let variant = Ident::new(&util::variant_name(&code), span);
    Ok(Some((
        ErrorCode {
            code,
            status,
            doc: doc.value().trim().to_owned(),
            variant,
        },
        token,
    )))
}

/// Checks the method name: dot-separated non-empty segments of ASCII letters, digits and `_`.
fn check_name(lit: &LitStr, errors: &mut Errors) -> Option<String> {
    let name = lit.value();
    if name.is_empty() {
        errors.spanned(
            lit,
            "the method name is empty: write the Bitrix24 method name, e.g. \"crm.deal.get\"",
        );
        return None;
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.')))
    {
        errors.spanned(
            lit,
            format!(
                "the method name `{name}` contains {}: a name is dot-separated segments of ASCII \
                 letters, digits and `_`, e.g. \"crm.deal.get\"",
                util::describe_char(bad)
            ),
        );
        return None;
    }
    if name.split('.').any(str::is_empty) {
        errors.spanned(
            lit,
            format!(
                "the method name `{name}` has an empty segment: a name is dot-separated segments, \
                 e.g. \"crm.deal.get\""
            ),
        );
        return None;
    }
    Some(name)
}

// ---------------------------------------------------------------------------------------------
// the struct

/// The struct the attribute is on, when it is one with named fields and no generics.
fn checked_struct<'a>(item: &'a Item, errors: &mut Errors) -> Option<&'a ItemStruct> {
    let what = match item {
        Item::Struct(s) => {
            for attr in s.attrs.iter().filter(|a| util::is_b24(a)) {
                errors.spanned(attr, "`#[b24(...)]` goes on fields; the method's own settings go in `#[b24_method(...)]`");
            }
            if !s.generics.params.is_empty() || s.generics.where_clause.is_some() {
                let generics = &s.generics;
                let where_clause = &generics.where_clause;
                errors.spanned(
                    quote!(#generics #where_clause),
                    "`#[b24_method]` structs cannot be generic: give every parameter a concrete type",
                );
            }
            match &s.fields {
                Fields::Named(_) => return Some(s),
                Fields::Unnamed(fields) => {
                    errors.spanned(
                        fields,
                        "`#[b24_method]` needs named fields: each field is a parameter, named after the \
                         field (`chat_id` is sent as `CHAT_ID`)",
                    );
                }
                Fields::Unit => {
                    let (token, ident) = (&s.struct_token, &s.ident);
                    errors.spanned(
                        quote!(#token #ident),
                        format!(
                            "`#[b24_method]` needs a struct with named fields; for a method without \
                             parameters write `struct {ident} {{}}`"
                        ),
                    );
                }
            }
            return None;
        }
        Item::Enum(e) => {
            let (token, ident) = (&e.enum_token, &e.ident);
            (
                quote!(#token #ident),
                "an enum (for a parameter that is a string enum, use `#[b24_object]`)",
            )
        }
        Item::Union(u) => {
            let (token, ident) = (&u.union_token, &u.ident);
            (quote!(#token #ident), "a union")
        }
        other => (other.to_token_stream(), "this item"),
    };
    errors.spanned(
        what.0,
        format!("`#[b24_method]` goes on a struct whose named fields are the method's parameters, not on {}", what.1),
    );
    None
}

/// The fields as parameters, checking their attributes and wire names.
fn parse_params(item: &ItemStruct, errors: &mut Errors) -> Vec<Param> {
    let Fields::Named(fields) = &item.fields else {
        return Vec::new();
    };
    let mut params = Vec::new();
    // (wire name, field, tokens naming it)
    let mut wires: Vec<(String, Ident, TokenStream)> = Vec::new();
    for field in &fields.named {
        let ident = field.ident.clone().expect("named field");
        let (rename, encoding, one_of) = field_attrs(field, errors);
        if let Some(flag) = &one_of {
            if let Some(lit) = &rename {
                errors.spanned(
                    lit,
                    "a `one_of` field has no wire name of its own: each variant of its enum names \
                     the parameter it sends; remove `rename`",
                );
            }
            if let Some((_, enc)) = &encoding {
                errors.spanned(
                    enc,
                    format!("`{enc}` and `{flag}` do not combine: a `one_of` field's variants are written as they are"),
                );
            }
        }

        let optional = util::option_inner(&field.ty).cloned();
        if let Some((kind, flag)) = &encoding {
            util::check_bool_type(&field.ty, *kind, flag, errors);
        }

        let (wire, origin) = match &rename {
            Some(lit) => (lit.value(), lit.to_token_stream()),
            None => (util::wire_name(&ident), ident.to_token_stream()),
        };
        if one_of.is_some() {
            // Its wire names are its enum's variants'.
        } else if wire.eq_ignore_ascii_case("auth") {
            let what = if rename.is_some() {
                String::new()
            } else {
                format!("`{ident}` would be sent as ")
            };
            errors.spanned(
                &origin,
                format!(
                    "{what}`{wire}`, which is reserved for the OAuth token that the client adds to every \
                     call: remove this field"
                ),
            );
        } else if let Some((_, first, first_origin)) = wires.iter().find(|(w, _, _)| *w == wire) {
            errors.spanned(
                &origin,
                format!(
                    "`{ident}` is sent as `{wire}`, like `{first}`: give one of them another name with \
                     `#[b24(rename = \"…\")]`"
                ),
            );
            errors.spanned(first_origin, format!("`{first}` is sent as `{wire}` too"));
        } else {
            wires.push((wire.clone(), ident.clone(), origin));
        }
        if optional.is_some() && ident == "new" {
            errors.spanned(
                &ident,
                "an optional field cannot be called `new`: its setter would clash with the constructor \
                 `new()`; rename the field and keep the wire name with `#[b24(rename = \"NEW\")]`",
            );
        }

        params.push(Param {
            ident,
            ty: field.ty.clone(),
            optional,
            wire,
            encoding: encoding.map_or(BoolEncoding::Json, |(kind, _)| kind),
            one_of: one_of.is_some(),
            docs: util::doc_attrs(&field.attrs).cloned().collect(),
            deprecated: field
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("deprecated"))
                .cloned()
                .collect(),
        });
    }
    params
}

/// The `#[b24(...)]` attributes of a parameter: its `rename`, boolean encoding (with the flag
/// that chose it) and `one_of` flag.
fn field_attrs(
    field: &syn::Field,
    errors: &mut Errors,
) -> (Option<LitStr>, Option<(BoolEncoding, Ident)>, Option<Ident>) {
    let mut rename: Option<LitStr> = None;
    let mut encoding: Option<(BoolEncoding, Ident)> = None;
    let mut one_of: Option<Ident> = None;
    for attr in &field.attrs {
        if attr.path().is_ident("serde") {
            errors.spanned(
                attr,
                "`#[serde(...)]` has no effect on method parameters: use `#[b24(rename = \"…\")]`, \
                 `#[b24(yn)]` or `#[b24(int_bool)]`",
            );
            continue;
        }
        if !util::is_b24(attr) {
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(|i| i.unraw().to_string()).unwrap_or_default();
            match key.as_str() {
                "rename" => {
                    let lit: LitStr = meta.value()?.parse().map_err(|e| {
                        syn::Error::new(e.span(), "`rename` takes a string literal: `rename = \"CHAT_ID\"`")
                    })?;
                    if rename.is_some() {
                        errors.spanned(&meta.path, "`rename` is given twice: keep one");
                    } else if lit.value().is_empty() {
                        errors.spanned(&lit, "`rename` is empty: give the parameter's wire name, e.g. `rename = \"CHAT_ID\"`");
                    } else {
                        rename = Some(lit);
                    }
                }
                "one_of" => {
                    let flag = meta.path.get_ident().expect("checked").clone();
                    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                        util::skip_to_comma(meta.input);
                        errors.spanned(&flag, "`one_of` is a flag: write `#[b24(one_of)]`");
                    }
                    if one_of.is_some() {
                        errors.spanned(&flag, "`one_of` is given twice: keep one");
                    }
                    one_of = Some(flag);
                }
                "yn" | "int_bool" => {
                    let flag = meta.path.get_ident().expect("checked").clone();
                    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
                        util::skip_to_comma(meta.input);
                        errors.spanned(&flag, format!("`{key}` is a flag: write `#[b24({key})]`"));
                    }
                    let this = if key == "yn" { BoolEncoding::YesNo } else { BoolEncoding::OneZero };
                    match &encoding {
                        Some((_, first)) if *first == key => {
                            errors.spanned(&flag, format!("`{key}` is given twice: keep one"));
                        }
                        Some((_, first)) => errors.spanned(
                            &flag,
                            format!(
                                "`{first}` and `{key}` are two encodings of a boolean (\"Y\"/\"N\" and 1/0): choose one"
                            ),
                        ),
                        None => encoding = Some((this, flag)),
                    }
                }
                _ => {
                    let mut message = util::unknown("field attribute", &key, FIELD_ATTRS);
                    if matches!(key.as_str(), "strict" | "default" | "flatten" | "other") {
                        message.push_str(&format!(" (`{key}` belongs to `#[b24_object]` fields)"));
                    }
                    errors.spanned(&meta.path, message);
                    util::skip_to_comma(meta.input);
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    (rename, encoding, one_of)
}
