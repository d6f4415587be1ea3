//! `#[b24_object(...)]` arguments and item → [`ObjectDecl`], with every mistake collected.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Attribute, Fields, Ident, Item, LitStr, Path, Token};

use super::model::{Alternative, FieldDecl, ObjectDecl, Shape, VariantDecl};
use crate::util::{self, BoolEncoding, Errors, Key};

/// The arguments.
const ARGS: &[&str] = &["rename_all", "crate", "one_of"];

/// serde's `rename_all` rules.
const RENAME_RULES: &[&str] = &[
    "lowercase",
    "UPPERCASE",
    "PascalCase",
    "camelCase",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

/// The field attributes.
const FIELD_ATTRS: &[&str] = &["rename", "strict", "default", "flatten", "yn", "int_bool"];

/// The variant attributes.
const VARIANT_ATTRS: &[&str] = &["rename", "other"];

/// Parses and checks a declaration: the attribute's arguments and the item it is on.
///
/// The error comes with the runtime path, for the stubs emitted in place of the real impls.
pub(crate) fn parse(attr: TokenStream, item: &Item) -> Result<ObjectDecl, (syn::Error, Path)> {
    let mut errors = Errors::default();
    let mut rename_all: Option<LitStr> = None;
    let mut krate: Option<Path> = None;
    let mut one_of: Option<Ident> = None;
    let parser = |input: ParseStream<'_>| {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            errors.spanned(
                &lit,
                "`#[b24_object]` takes no name: a method's name goes in `#[b24_method(\"…\")]`, a field's in \
                 `#[b24(rename = \"…\")]`",
            );
            if input.peek(Token![,]) {
                let _: Token![,] = input.parse()?;
            }
        }
        util::parse_keyed(input, &mut errors, ARGS, |key, input, errors| {
            match key.name.as_str() {
                "rename_all" => rename_all = check_rule(key, input, errors)?,
                "crate" => krate = Some(util::crate_value(key, input)?),
                "one_of" => {
                    flag("one_of", &key.ident, input, errors);
                    one_of = Some(key.ident.clone());
                }
                _ => unreachable!("parse_keyed only passes known keys"),
            }
            Ok(())
        });
        Ok(())
    };
    if let Err(error) = parser.parse2(attr) {
        errors.push(error);
    }

    let mut item = item.clone();
    let shape = match &mut item {
        Item::Struct(s) => {
            check_container(&s.attrs, &s.generics, &mut errors);
            if let Some(flag) = &one_of {
                errors.spanned(
                    flag,
                    "`one_of` goes on an enum whose variants each hold one parameter's value, \
                     e.g. `enum Target { UserId(i64), QueueId(i64) }`",
                );
            }
            match &s.fields {
                Fields::Named(named) => Some(Shape::Struct(
                    named
                        .named
                        .iter()
                        .map(|f| parse_field(f, &mut errors))
                        .collect(),
                )),
                Fields::Unnamed(fields) => {
                    errors.spanned(
                        fields,
                        "`#[b24_object]` structs need named fields: each one is a key of the JSON object",
                    );
                    None
                }
                Fields::Unit => {
                    let (token, ident) = (&s.struct_token, &s.ident);
                    errors.spanned(
                        quote!(#token #ident),
                        format!(
                            "`#[b24_object]` needs a struct with named fields or an enum of unit variants; \
                             for an object without fields write `struct {ident} {{}}`"
                        ),
                    );
                    None
                }
            }
        }
        Item::Enum(e) if one_of.is_some() => {
            check_container(&e.attrs, &e.generics, &mut errors);
            if let Some(rule) = &rename_all {
                errors.spanned(
                    rule,
                    "`rename_all` does not apply to `one_of` enums: each variant is sent under the \
                     SCREAMING_SNAKE_CASE of its name, or its `#[b24(rename = \"…\")]`",
                );
            }
            Some(Shape::OneOf(
                e.variants
                    .iter()
                    .filter_map(|v| parse_alternative(v, &mut errors))
                    .collect(),
            ))
        }
        Item::Enum(e) => {
            check_container(&e.attrs, &e.generics, &mut errors);
            let mut variants = Vec::new();
            let mut other: Option<&Ident> = None;
            for variant in &e.variants {
                let decl = parse_variant(variant, &mut errors);
                // Data and discriminants are reported on their own.
                let unit = matches!(variant.fields, Fields::Unit) && variant.discriminant.is_none();
                // A misplaced container attribute is reported on its own (it may hold the rule).
                let misplaced = e.attrs.iter().any(util::is_b24);
                if unit
                    && !misplaced
                    && decl.rename.is_none()
                    && !decl.other
                    && rename_all.is_none()
                {
                    let ident = &variant.ident;
                    errors.spanned(
                        ident,
                        format!(
                            "variant `{ident}` has no wire value: the portal would be sent the Rust name \
                             \"{ident}\"; give the value it expects with `#[b24(rename = \"…\")]` on the \
                             variant, or name a rule for all of them with \
                             `#[b24_object(rename_all = \"…\")]` (e.g. \"SCREAMING_SNAKE_CASE\")"
                        ),
                    );
                }
                if decl.other {
                    if let Some(first) = other {
                        errors.spanned(
                            &variant.ident,
                            format!(
                                "only one variant can be `#[b24(other)]`, and `{first}` already is"
                            ),
                        );
                    }
                    other = Some(&variant.ident);
                }
                variants.push(decl);
            }
            Some(Shape::Enum(variants))
        }
        Item::Union(u) => {
            let (token, ident) = (&u.union_token, &u.ident);
            errors.spanned(
                quote!(#token #ident),
                "`#[b24_object]` goes on a struct with named fields or an enum of unit variants, not on a union",
            );
            None
        }
        other => {
            errors.spanned(
                &*other,
                "`#[b24_object]` goes on a struct with named fields or an enum of unit variants",
            );
            None
        }
    };

    let rt = util::runtime_path(krate);
    if let Err(error) = errors.finish() {
        return Err((error, rt));
    }
    let user_serde = match &item {
        Item::Struct(s) => has_serde(&s.attrs) || s.fields.iter().any(|f| has_serde(&f.attrs)),
        _ => true,
    };
    util::strip_item(&mut item, false);
    Ok(ObjectDecl {
        item,
        rt,
        rename_all,
        shape: shape.expect("reported when missing"),
        user_serde,
    })
}

/// `rename_all = "camelCase"`, one of serde's rules.
fn check_rule(
    key: &Key,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    let lit = util::string_value(key, input, "camelCase")?;
    let rule = lit.value();
    if RENAME_RULES.contains(&rule.as_str()) {
        return Ok(Some(lit));
    }
    let squash = |s: &str| s.replace(['-', '_', ' '], "").to_ascii_lowercase();
    let close = RENAME_RULES
        .iter()
        .find(|r| squash(r) == squash(&rule))
        .copied()
        .or_else(|| util::did_you_mean(&rule, RENAME_RULES));
    let hint = close
        .map(|c| format!("did you mean \"{c}\"? "))
        .unwrap_or_default();
    let all: Vec<String> = RENAME_RULES.iter().map(|r| format!("\"{r}\"")).collect();
    errors.spanned(
        &lit,
        format!(
            "unknown `rename_all` rule \"{rule}\": {hint}serde knows {}",
            all.join(", ")
        ),
    );
    Ok(None)
}

/// Attributes and generics of the struct or enum.
fn check_container(attrs: &[Attribute], generics: &syn::Generics, errors: &mut Errors) {
    for attr in attrs.iter().filter(|a| util::is_b24(a)) {
        errors.spanned(
            attr,
            "`#[b24(...)]` goes on fields and variants; the object's own settings go in `#[b24_object(...)]`",
        );
    }
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        let where_clause = &generics.where_clause;
        errors.spanned(
            quote!(#generics #where_clause),
            "`#[b24_object]` types cannot be generic: give every field a concrete type",
        );
    }
}

/// Whether `attrs` hold a `#[serde(...)]` attribute.
fn has_serde(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("serde"))
}

/// The keys of the user's own `#[serde(...)]` attributes.
fn serde_keys(attrs: &[Attribute]) -> Vec<String> {
    let mut keys = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            if let Some(ident) = meta.path.get_ident() {
                keys.push(ident.unraw().to_string());
            }
            util::skip_to_comma(meta.input);
            Ok(())
        });
    }
    keys
}

/// Parses `#[b24(...)]` attributes, calling `on` with each key, its ident and what follows.
/// Calls `on` for each key of the `#[b24(...)]` attributes in `attrs`; a key of `known` given a
/// second time is reported and skipped.
fn each_b24(
    attrs: &[Attribute],
    known: &[&str],
    errors: &mut Errors,
    mut on: impl FnMut(&str, &Ident, ParseStream<'_>, &mut Errors) -> syn::Result<()>,
) {
    let mut seen: Vec<String> = Vec::new();
    for attr in attrs.iter().filter(|a| util::is_b24(a)) {
        let result = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident() else {
                errors.spanned(&meta.path, "expected a `#[b24(...)]` key such as `rename`");
                util::skip_to_comma(meta.input);
                return Ok(());
            };
            let key = ident.unraw().to_string();
            if known.contains(&key.as_str()) && seen.contains(&key) {
                errors.spanned(ident, format!("`{key}` is given twice: keep one"));
                util::skip_to_comma(meta.input);
                return Ok(());
            }
            seen.push(key.clone());
            on(&key, ident, meta.input, errors)
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
}

/// `rename = "…"`, not empty.
fn rename_value(
    ident: &Ident,
    input: ParseStream<'_>,
    errors: &mut Errors,
) -> syn::Result<Option<LitStr>> {
    let key = Key {
        ident: ident.clone(),
        name: "rename".to_owned(),
    };
    let lit = util::string_value(&key, input, "entityData1")?;
    if lit.value().is_empty() {
        errors.spanned(&lit, "`rename` is empty: give the name used in JSON");
        return Ok(None);
    }
    Ok(Some(lit))
}

/// A flag: nothing may follow it.
fn flag(key: &str, ident: &Ident, input: ParseStream<'_>, errors: &mut Errors) {
    if !input.is_empty() && !input.peek(Token![,]) {
        util::skip_to_comma(input);
        errors.spanned(ident, format!("`{key}` is a flag: write `#[b24({key})]`"));
    }
}

fn parse_field(field: &syn::Field, errors: &mut Errors) -> FieldDecl {
    let mut decl = FieldDecl {
        optional: util::option_inner(&field.ty).is_some(),
        user_serde: serde_keys(&field.attrs),
        ..FieldDecl::default()
    };
    if decl
        .user_serde
        .iter()
        .any(|k| k == "deserialize_with" || k == "with")
    {
        decl.strict = true;
    }
    let mut encoding_at: Option<Ident> = None;
    each_b24(
        &field.attrs,
        FIELD_ATTRS,
        errors,
        |key, ident, input, errors| {
            match key {
                "rename" => decl.rename = rename_value(ident, input, errors)?,
                "strict" => {
                    flag(key, ident, input, errors);
                    decl.strict = true;
                }
                "default" => {
                    flag(key, ident, input, errors);
                    decl.default = true;
                }
                "flatten" => {
                    flag(key, ident, input, errors);
                    decl.flatten = true;
                }
                "yn" | "int_bool" => {
                    flag(key, ident, input, errors);
                    // A key given twice is reported by `each_b24`: a second flag is the other one.
                    if let Some(first) = &encoding_at {
                        errors.spanned(
                            ident,
                            format!(
                                "`{first}` and `{key}` are two encodings of a boolean (\"Y\"/\"N\" and 1/0): choose one"
                            ),
                        );
                    } else {
                        decl.encoding = Some(if key == "yn" {
                            BoolEncoding::YesNo
                        } else {
                            BoolEncoding::OneZero
                        });
                        encoding_at = Some(ident.clone());
                    }
                }
                _ => {
                    let mut message = util::unknown("field attribute", key, FIELD_ATTRS);
                    if key == "other" {
                        message.push_str(" (`other` belongs to enum variants)");
                    }
                    errors.spanned(ident, message);
                    util::skip_to_comma(input);
                }
            }
            Ok(())
        },
    );
    if let (Some(kind), Some(at)) = (decl.encoding, &encoding_at) {
        if decl.flatten {
            errors.spanned(
                at,
                format!("a `flatten` field has no value of its own: remove `{at}`"),
            );
        } else {
            util::check_bool_type(&field.ty, kind, at, errors);
        }
        if decl.strict {
            errors.spanned(
                at,
                format!(
                    "`{at}` writes a flag that strict decoding (`strict`, or your own `deserialize_with`) cannot read back: keep the lenient decoding, or drop `{at}`"
                ),
            );
        }
        if let Some(own) = decl
            .user_serde
            .iter()
            .find(|k| *k == "serialize_with" || *k == "with")
        {
            errors.spanned(
                at,
                format!("`{at}` and `#[serde({own})]` both say how the field is written: keep one"),
            );
        }
    }
    if decl.flatten {
        if let Some(rename) = &decl.rename {
            errors.spanned(
                rename,
                "a `flatten` field has no key of its own: remove `rename`",
            );
        }
    }
    decl
}

/// A variant of a `one_of` enum: `Name(T)`, sent as `NAME` (or its `rename`).
fn parse_alternative(variant: &syn::Variant, errors: &mut Errors) -> Option<Alternative> {
    let ident = &variant.ident;
    let mut rename: Option<LitStr> = None;
    each_b24(
        &variant.attrs,
        &["rename"],
        errors,
        |key, key_ident, input, errors| {
            if key == "rename" {
                rename = rename_value(key_ident, input, errors)?;
            } else {
                errors.spanned(
                    key_ident,
                    util::unknown("attribute of a `one_of` variant", key, &["rename"]),
                );
                util::skip_to_comma(input);
            }
            Ok(())
        },
    );
    if let Some((_, discriminant)) = &variant.discriminant {
        errors.spanned(
            discriminant,
            "a `one_of` variant holds a value: remove the discriminant",
        );
    }
    match &variant.fields {
        Fields::Unnamed(fields) if fields.unnamed.len() == 1 => Some(Alternative {
            ident: ident.clone(),
            wire: rename.unwrap_or_else(|| LitStr::new(&util::wire_name(ident), ident.span())),
        }),
        _ => {
            errors.spanned(
                variant,
                format!(
                    "each variant of a `one_of` enum holds the value of one parameter: write \
                     `{ident}(T)`, sent as `{}`",
                    util::wire_name(ident)
                ),
            );
            None
        }
    }
}

fn parse_variant(variant: &syn::Variant, errors: &mut Errors) -> VariantDecl {
    let mut decl = VariantDecl {
        rename: None,
        other: false,
    };
    if !matches!(variant.fields, Fields::Unit) {
        let (ident, fields) = (&variant.ident, &variant.fields);
        errors.spanned(
            fields,
            format!(
                "`#[b24_object]` enums are string enums: variant `{ident}` cannot hold data; \
                 declare a `#[b24_object]` struct for objects, or use `#[b24_object(one_of)]` \
                 for alternative parameters of a method (one variant per parameter)"
            ),
        );
    }
    if let Some((_, discriminant)) = &variant.discriminant {
        errors.spanned(
            discriminant,
            format!(
                "the discriminant is not what is sent: give the variant's string with \
                 `#[b24(rename = \"{}\")]`",
                discriminant.to_token_stream().to_string().trim_matches('"')
            ),
        );
    }
    each_b24(
        &variant.attrs,
        VARIANT_ATTRS,
        errors,
        |key, ident, input, errors| {
            match key {
                "rename" => decl.rename = rename_value(ident, input, errors)?,
                "other" => {
                    flag(key, ident, input, errors);
                    decl.other = true;
                }
                _ => {
                    let mut message = util::unknown("variant attribute", key, VARIANT_ATTRS);
                    if FIELD_ATTRS.contains(&key) {
                        message.push_str(&format!(" (`{key}` belongs to struct fields)"));
                    }
                    errors.spanned(ident, message);
                    util::skip_to_comma(input);
                }
            }
            Ok(())
        },
    );
    decl
}
