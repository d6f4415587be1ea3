//! Docs types (`integer`, `string[]`, `crm_status`, `object`) → Rust types.
//!
//! The rule: a single type (ignoring `null`) maps by the table below; `T[]` is `Vec<T>`; an
//! object with a documented sub-table is a generated struct; anything else (several types,
//! `any`, `file`, unknown names) is `serde_json::Value`, and the item's docs say so.

/// A Rust type for a docs type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    Float,
    Str,
    DateTime,
    /// `serde_json::Value`, with why.
    Value(&'static str),
    /// `serde_json::Map<String, Value>`: an object without documented fields.
    Map,
    /// `serde_json::Map<String, Value>` on purpose, with why: a filter or an order, whose keys
    /// are field names (with operator prefixes) that b24 does not type.
    Query(&'static str),
    Vec(Box<Ty>),
    /// A generated struct.
    Named(String),
}

pub const VALUE: &str = "crate::exports::serde_json::Value";
pub const MAP: &str = "crate::exports::serde_json::Map<String, crate::exports::serde_json::Value>";

impl Ty {
    /// The Rust spelling.
    pub fn rust(&self) -> String {
        match self {
            Ty::Bool => "bool".into(),
            Ty::Int => "i64".into(),
            Ty::Float => "f64".into(),
            Ty::Str => "String".into(),
            Ty::DateTime => "crate::DateTime".into(),
            Ty::Value(_) => VALUE.into(),
            Ty::Map | Ty::Query(_) => MAP.into(),
            Ty::Vec(t) => format!("Vec<{}>", t.rust()),
            Ty::Named(n) => n.clone(),
        }
    }

    /// Why it is a `Value`, if it is one (or holds one).
    pub fn untyped(&self) -> Option<&'static str> {
        match self {
            Ty::Value(why) | Ty::Query(why) => Some(why),
            Ty::Vec(t) => t.untyped(),
            _ => None,
        }
    }

    /// The untyped Rust type, for the docs' note.
    pub fn untyped_kind(&self) -> &'static str {
        match self {
            Ty::Query(_) => "serde_json::Map",
            Ty::Vec(t) => t.untyped_kind(),
            _ => "serde_json::Value",
        }
    }

    /// Whether the type is `Eq`.
    pub fn is_eq(&self) -> bool {
        match self {
            Ty::Float | Ty::DateTime => false,
            Ty::Vec(t) => t.is_eq(),
            Ty::Named(_) => false,
            _ => true,
        }
    }
}

/// The query parameters of list methods, wherever they sit (`select`, `filter`, `order`, any
/// case): `select` is the field names (`Vec<String>`), `filter` and `order` a JSON map, and so is
/// a `sort` of type `object` (a field → direction map; a plain `sort` is a number). Their
/// sub-tables list the fields one may name, not a shape to type. `None` for anything else.
pub fn query_param(name: &str, ty: &str, has_fields: bool) -> Option<Ty> {
    let ty = ty.trim().to_lowercase();
    match name.to_lowercase().as_str() {
        "select" if has_fields || ty == "array" || ty.ends_with("[]") => {
            Some(Ty::Vec(Box::new(Ty::Str)))
        }
        // An object, or a type the page's table garbled; not a plain string or a list.
        "filter" | "order"
            if has_fields
                || !(matches!(ty.as_str(), "string" | "array" | "") || ty.contains(['|', '['])) =>
        {
            Some(Ty::Query(
            "its keys are field names, with operator prefixes in a filter, which b24 does not type",
            ))
        }
        "sort" if ty == "object" => Some(Ty::Query(
            "its keys are field names, each with a direction, which b24 does not type",
        )),
        _ => None,
    }
}

/// Maps a docs type; `has_fields` says whether the page documents the object's fields, and
/// `named` is the struct name to use then. `param` picks the parameter mapping (dates as
/// strings) over the result one (dates as `DateTime`).
pub fn map(ty: &str, has_fields: bool, named: &str, param: bool) -> Ty {
    let parts: Vec<String> = ty
        .split(['|', ','])
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty() && p != "null")
        .collect();
    let mut distinct: Vec<&String> = Vec::new();
    for p in &parts {
        if !distinct.contains(&p) {
            distinct.push(p);
        }
    }
    if distinct.len() != 1 {
        if has_fields {
            return Ty::Named(named.to_owned());
        }
        return Ty::Value(if distinct.is_empty() {
            "the docs give no type"
        } else {
            "the docs give several types"
        });
    }
    let t = distinct[0].as_str();
    if let Some(inner) = t.strip_suffix("[]") {
        return Ty::Vec(Box::new(map(inner, has_fields, named, param)));
    }
    if has_fields && matches!(t, "object" | "array") {
        return if t == "array" {
            Ty::Vec(Box::new(Ty::Named(named.to_owned())))
        } else {
            Ty::Named(named.to_owned())
        };
    }
    if has_fields && !is_scalar(t) {
        return Ty::Named(named.to_owned());
    }
    scalar(t, param)
}

fn is_scalar(t: &str) -> bool {
    !matches!(scalar(t, true), Ty::Value(_) | Ty::Map) || matches!(t, "object" | "array")
}

fn scalar(t: &str, param: bool) -> Ty {
    match t {
        "integer" | "int" | "user" | "timestamp" | "crm_category" | "crm_contact"
        | "crm_company" | "crm_lead" | "crm_deal" | "crm_quote" | "crm_invoice" | "group"
        | "sonet_group" => Ty::Int,
        "string" | "text" | "char" | "date" | "enum" | "crm_status" | "crm_currency" | "crm"
        | "crm_entity" | "lang" | "url" => Ty::Str,
        "datetime" if param => Ty::Str,
        "datetime" => Ty::DateTime,
        "boolean" | "bool" => Ty::Bool,
        "double" | "float" | "number" => Ty::Float,
        "object" => Ty::Map,
        "array" => Ty::Vec(Box::new(Ty::Value("the docs do not give the item type"))),
        other if other.ends_with(".id") => Ty::Int,
        other if other.ends_with(".code") || other.ends_with(".currency") => Ty::Str,
        _ => Ty::Value("the docs type is not one b24 maps"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_maps_are_queries_and_sort_numbers_stay() {
        assert!(matches!(
            query_param("SORT", "object", true),
            Some(Ty::Query(_))
        ));
        assert_eq!(query_param("SORT", "integer", false), None);
        assert_eq!(query_param("sort", "string", true), None);
    }

    #[test]
    fn mapping() {
        assert_eq!(map("integer", false, "X", true), Ty::Int);
        assert_eq!(map("string | null", false, "X", true), Ty::Str);
        assert_eq!(
            map("integer[]", false, "X", true),
            Ty::Vec(Box::new(Ty::Int))
        );
        assert_eq!(map("object", true, "X", true), Ty::Named("X".into()));
        assert_eq!(
            map("object[]", true, "X", true),
            Ty::Vec(Box::new(Ty::Named("X".into())))
        );
        assert_eq!(map("object", false, "X", true), Ty::Map);
        assert_eq!(map("datetime", false, "X", false), Ty::DateTime);
        assert_eq!(map("datetime", false, "X", true), Ty::Str);
        assert_eq!(map("sale_order.id", false, "X", true), Ty::Int);
        assert!(matches!(
            map("integer | string", false, "X", true),
            Ty::Value(_)
        ));
        assert!(matches!(map("file", false, "X", true), Ty::Value(_)));
    }
}
