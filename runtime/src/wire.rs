//! How parameter values are written on the wire where Bitrix24 wants something other than plain
//! JSON. The declaration of a field picks the encoding: `#[b24(yn)]` writes booleans as `"Y"`/`"N"`,
//! `#[b24(int_bool)]` as `1`/`0`; without either a `bool` is a JSON `true`/`false`.

use serde::{Serialize, Serializer};

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
