//! How parameter values are written on the wire where Bitrix24 wants something other than plain
//! JSON. The declaration of a field picks the encoding: `#[b24(yn)]` writes booleans as `"Y"`/`"N"`,
//! `#[b24(int_bool)]` as `1`/`0`; without either a `bool` is a JSON `true`/`false`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use serde::{Serialize, Serializer};

/// A type that can be the value of a method's parameter.
///
/// Implemented for the types the portal takes (integers, floats, `bool`, strings, dates, `Option`,
/// `Vec`, slices, maps, `serde_json::Value`), by `#[b24_object]` for declared objects and string
/// enums, and by `#[b24_object(one_of)]` for alternative parameters, which take the place of
/// several parameters at once. A type with its own `serde::Serialize` impl opts in with an empty
/// impl: `impl b24::ParamValue for MyType {}`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the value of a Bitrix24 method parameter",
    label = "not a parameter type",
    note = "use a type b24 writes (integers, floats, bool, String, &str, b24::DateTime, Option, Vec, maps, serde_json::Value), or declare `{Self}` with `#[b24_object]` (an object, or a string enum with `#[b24(rename = \"…\")]` on each variant)",
    note = "a type with its own `serde::Serialize` impl can opt in: `impl b24::ParamValue for {Self} {{}}`",
    note = "an enum declared with `#[b24_object(one_of)]` stands for several parameters: mark its field `#[b24(one_of)]`"
)]
pub trait ParamValue: Serialize {}

macro_rules! param_values {
    ($($ty:ty),* $(,)?) => {$(impl ParamValue for $ty {})*};
}

param_values!(
    bool, char, i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, (),
    String, str, serde_json::Value, serde_json::Number, serde_json::Map<String, serde_json::Value>,
    chrono::NaiveDate, chrono::NaiveDateTime, chrono::NaiveTime,
);

impl<Tz: chrono::TimeZone> ParamValue for chrono::DateTime<Tz> where Self: Serialize {}
impl<T: ParamValue + ?Sized> ParamValue for &T {}
impl<T: ParamValue + ?Sized> ParamValue for Box<T> {}
impl<T: ParamValue> ParamValue for Option<T> {}
impl<T: ParamValue> ParamValue for Vec<T> {}
impl<T: ParamValue> ParamValue for [T] {}
impl<T: ParamValue, const N: usize> ParamValue for [T; N] where Self: Serialize {}
impl ParamValue for Cow<'_, str> {}
impl<K: Serialize, V: ParamValue, S> ParamValue for HashMap<K, V, S> {}
impl<K: Serialize, V: ParamValue> ParamValue for BTreeMap<K, V> {}

/// Writes one parameter: the only bound at the call is [`ParamValue`], so that a type that is not
/// one gets b24's message, not serde's.
pub fn param<M: serde::ser::SerializeMap, T: ParamValue + ?Sized>(
    map: &mut M,
    name: &'static str,
    value: &T,
) -> Result<(), M::Error> {
    map.serialize_entry(name, value)
}

/// A value that is a boolean, or an optional one.
pub trait BoolParam {
    /// The boolean to write, `None` for an unset optional.
    fn as_bool(&self) -> Option<bool>;
}

impl BoolParam for bool {
    fn as_bool(&self) -> Option<bool> {
        Some(*self)
    }
}

impl BoolParam for Option<bool> {
    fn as_bool(&self) -> Option<bool> {
        *self
    }
}

impl<T: BoolParam + ?Sized> BoolParam for &T {
    fn as_bool(&self) -> Option<bool> {
        (**self).as_bool()
    }
}

/// Writes a boolean as `"Y"` or `"N"`.
#[derive(Debug, Clone, Copy)]
pub struct YesNo<'a, T: ?Sized>(pub &'a T);

impl<T: BoolParam + ?Sized> Serialize for YesNo<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_bool() {
            Some(true) => s.serialize_str("Y"),
            Some(false) => s.serialize_str("N"),
            None => s.serialize_none(),
        }
    }
}

/// [`YesNo`] as a serde `serialize_with` function (an object field with `#[b24(yn)]` in a
/// struct that also has serde attributes of its own).
pub fn yes_no<T: BoolParam + ?Sized, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    YesNo(value).serialize(s)
}

/// [`OneZero`] as a serde `serialize_with` function.
pub fn one_zero<T: BoolParam + ?Sized, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    OneZero(value).serialize(s)
}

/// Writes a boolean as `1` or `0`.
#[derive(Debug, Clone, Copy)]
pub struct OneZero<'a, T: ?Sized>(pub &'a T);

impl<T: BoolParam + ?Sized> Serialize for OneZero<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_bool() {
            Some(b) => s.serialize_u8(u8::from(b)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings() {
        assert_eq!(serde_json::to_string(&YesNo(&true)).unwrap(), r#""Y""#);
        assert_eq!(
            serde_json::to_string(&YesNo(&Some(false))).unwrap(),
            r#""N""#
        );
        assert_eq!(serde_json::to_string(&OneZero(&true)).unwrap(), "1");
        assert_eq!(
            serde_json::to_string(&OneZero(&None::<bool>)).unwrap(),
            "null"
        );
    }
}
