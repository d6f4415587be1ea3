//! Tolerant decoding of what Bitrix24 really sends.
//!
//! The portal is written in PHP and its JSON shows it: integers arrive as strings (`"ID": "123"`),
//! booleans as `"Y"`/`"N"` or `0`/`1`, empty maps as empty arrays (`[]`), missing values as `null`,
//! `""` or `false`. [`Lenient`] is the decoding every `#[b24_object]` field and every method result
//! goes through: it accepts those spellings for the type the declaration asked for, and still fails
//! with a clear message on anything else.
//!
//! ```
//! use b24_runtime::de::from_str_lenient;
//! use std::collections::HashMap;
//!
//! let id: u64 = from_str_lenient(r#""123""#).unwrap();
//! assert_eq!(id, 123);
//! let flag: bool = from_str_lenient(r#""Y""#).unwrap();
//! assert!(flag);
//! let map: HashMap<String, u64> = from_str_lenient("[]").unwrap();
//! assert!(map.is_empty());
//! let missing: Option<u64> = from_str_lenient(r#""""#).unwrap();
//! assert_eq!(missing, None);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A type that decodes tolerantly from the portal's JSON. See the [module docs](self).
///
/// `#[b24_object]` implements it for declared structs and enums (by their `Deserialize` impl);
/// the runtime implements it for integers, floats, `bool`, `String`, dates, `Option`, `Vec`,
/// maps, `Box` and `serde_json::Value`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be decoded from a Bitrix24 answer",
    note = "declare it with `#[b24_object]`, or use a type the runtime decodes (integers, floats, bool, String, b24::DateTime, Option, Vec, maps, serde_json::Value)"
)]
pub trait Lenient: Sized {
    /// Decodes `Self` from `deserializer`, accepting the portal's alternative spellings.
    fn deserialize_lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// `#[serde(deserialize_with = "…")]` entry point for a [`Lenient`] field.
pub fn lenient<'de, D: Deserializer<'de>, T: Lenient>(deserializer: D) -> Result<T, D::Error> {
    T::deserialize_lenient(deserializer)
}

/// Decodes a JSON text leniently (mainly for tests and examples).
pub fn from_str_lenient<T: Lenient>(json: &str) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let value = T::deserialize_lenient(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Wraps a [`Lenient`] type so that it can be used wherever serde wants [`Deserialize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tolerant<T>(pub T);

impl<'de, T: Lenient> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize_lenient(deserializer).map(Tolerant)
    }
}

/// Implements [`Lenient`] as plain serde decoding, for types that need no tolerance.
#[macro_export]
macro_rules! lenient_by_serde {
    ($($ty:ty),* $(,)?) => {$(
        impl $crate::de::Lenient for $ty {
            fn deserialize_lenient<'de, D: $crate::__private::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> ::core::result::Result<Self, D::Error> {
                <$ty as $crate::__private::serde::Deserialize<'de>>::deserialize(deserializer)
            }
        }
    )*};
}

lenient_by_serde!(
    serde_json::Value,
    serde_json::Map<String, serde_json::Value>,
    ()
);

// ---------------------------------------------------------------------------------------------
// integers

struct IntVisitor<T>(PhantomData<T>);

impl<'de, T> Visitor<'de> for IntVisitor<T>
where
    T: TryFrom<i128> + std::str::FromStr,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an integer or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        T::try_from(i128::from(v)).map_err(|_| E::custom(format_args!("integer {v} out of range")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        T::try_from(i128::from(v)).map_err(|_| E::custom(format_args!("integer {v} out of range")))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if v.fract() == 0.0 && v.abs() < 1e18 {
            self.visit_i64(v as i64)
        } else {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let s = v.trim();
        if let Ok(n) = s.parse::<T>() {
            return Ok(n);
        }
        match s.parse::<f64>() {
            Ok(f) if f.fract() == 0.0 && f.abs() < 1e18 => self.visit_i64(f as i64),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

macro_rules! lenient_int {
    ($($t:ty),*) => {$(
        impl Lenient for $t {
            fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(IntVisitor::<$t>(PhantomData))
            }
        }
    )*};
}

lenient_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

// ---------------------------------------------------------------------------------------------
// floats: always finite. JSON has no NaN or infinity, but Rust's float parsing reads `"NaN"`,
// `"inf"` and `"1e999"` (as infinity) from strings; a non-finite value would panic the first
// `Duration::from_secs_f64` it met.

struct FloatVisitor;

impl FloatVisitor {
    fn finite<E: de::Error>(self, v: f64) -> Result<f64, E> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }
}

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a finite number or a string holding one")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        self.finite(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v.trim().parse() {
            Ok(f) => self.finite(f),
            Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl Lenient for f64 {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FloatVisitor)
    }
}

impl Lenient for f32 {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(FloatVisitor)?;
        let narrow = v as f32;
        if narrow.is_finite() {
            Ok(narrow)
        } else {
            Err(de::Error::invalid_value(
                de::Unexpected::Float(v),
                &"a number in f32's range",
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// booleans

struct BoolVisitor;

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean: true/false, \"Y\"/\"N\", 1/0 or \"1\"/\"0\"")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v.trim() {
            "Y" | "y" | "1" | "true" | "TRUE" | "True" => Ok(true),
            "N" | "n" | "0" | "false" | "FALSE" | "False" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

impl Lenient for bool {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BoolVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// strings

struct StringVisitor;

impl Visitor<'_> for StringVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

impl Lenient for String {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StringVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// dates

/// Dates with offsets (`2026-03-16T14:31:58+01:00`), or Unix timestamps (as numbers or strings),
/// which are read as UTC.
impl Lenient for chrono::DateTime<chrono::FixedOffset> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl Visitor<'_> for DateVisitor {
            type Value = chrono::DateTime<chrono::FixedOffset>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 date with offset, or a Unix timestamp")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if let Ok(date) = chrono::DateTime::parse_from_rfc3339(v.trim()) {
                    return Ok(date);
                }
                match v.trim().parse::<i64>() {
                    Ok(secs) => self.visit_i64(secs),
                    Err(_) => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                chrono::DateTime::from_timestamp(v, 0)
                    .map(|d| d.fixed_offset())
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                self.visit_i64(v.trunc() as i64)
            }
        }
        d.deserialize_any(DateVisitor)
    }
}

// ---------------------------------------------------------------------------------------------
// Option: `null`, `""`, `false`, `[]` and `"undefined"` (what a portal's JavaScript writes for a
// missing object) all mean "no value" unless `T` itself accepts them.

impl<T: Lenient> Lenient for Option<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // One pass, no buffering: the visitor sees the value's kind and hands it to `T` through
        // a deserializer of that kind.
        d.deserialize_any(OptionVisitor(PhantomData))
    }
}

struct OptionVisitor<T>(PhantomData<T>);

/// A string that may stand for "no value": `""` (PHP), `"undefined"` (JavaScript).
fn nothing(v: &str) -> bool {
    v.is_empty() || v == "undefined"
}

impl<T: Lenient> OptionVisitor<T> {
    /// `T` from `d`, or `None` when `T` rejects a value that PHP uses for "nothing".
    fn empty_or<'de, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        Ok(T::deserialize_lenient(d).ok())
    }
}

impl<'de, T: Lenient> Visitor<'de> for OptionVisitor<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value or null")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        T::deserialize_lenient(d).map(Some)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Option<T>, E> {
        let d = de::value::BoolDeserializer::<E>::new(v);
        if v {
            T::deserialize_lenient(d).map(Some)
        } else {
            Self::empty_or(d)
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<T>, E> {
        T::deserialize_lenient(de::value::I64Deserializer::<E>::new(v)).map(Some)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<T>, E> {
        T::deserialize_lenient(de::value::U64Deserializer::<E>::new(v)).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<T>, E> {
        T::deserialize_lenient(de::value::F64Deserializer::<E>::new(v)).map(Some)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<T>, E> {
        let d = de::value::StrDeserializer::<E>::new(v);
        if nothing(v) {
            Self::empty_or(d)
        } else {
            T::deserialize_lenient(d).map(Some)
        }
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Option<T>, E> {
        let d = de::value::BorrowedStrDeserializer::<E>::new(v);
        if nothing(v) {
            Self::empty_or(d)
        } else {
            T::deserialize_lenient(d).map(Some)
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<T>, A::Error> {
        let mut counted = CountingSeq { seq, taken: 0 };
        match T::deserialize_lenient(de::value::SeqAccessDeserializer::new(&mut counted)) {
            Ok(v) => Ok(Some(v)),
            // `[]` for a `T` that is not a list: nothing.
            Err(e) if counted.taken == 0 => match counted.seq.next_element::<de::IgnoredAny>()? {
                None => Ok(None),
                Some(_) => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        T::deserialize_lenient(de::value::MapAccessDeserializer::new(map)).map(Some)
    }
}

/// A sequence that counts the elements taken from it.
struct CountingSeq<A> {
    seq: A,
    taken: usize,
}

impl<'de, A: SeqAccess<'de>> SeqAccess<'de> for &mut CountingSeq<A> {
    type Error = A::Error;

    fn next_element_seed<S: de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, A::Error> {
        let next = self.seq.next_element_seed(seed)?;
        if next.is_some() {
            self.taken += 1;
        }
        Ok(next)
    }

    fn size_hint(&self) -> Option<usize> {
        self.seq.size_hint()
    }
}

impl<T: Lenient> Lenient for Box<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_lenient(d).map(Box::new)
    }
}

// ---------------------------------------------------------------------------------------------
// Vec: a JSON array, or an object (a PHP array with gaps in its keys) read in order.

struct VecVisitor<T>(PhantomData<T>);

impl<'de, T: Lenient> Visitor<'de> for VecVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array (or an object whose values form one)")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Tolerant(item)) = seq.next_element::<Tolerant<T>>()? {
            out.push(item);
        }
        Ok(out)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
        Ok(Vec::new())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some((_, Tolerant(item))) = map.next_entry::<de::IgnoredAny, Tolerant<T>>()? {
            out.push(item);
        }
        Ok(out)
    }
}

impl<T: Lenient> Lenient for Vec<T> {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(VecVisitor(PhantomData))
    }
}

// ---------------------------------------------------------------------------------------------
// Maps: a JSON object, or `[]` (how PHP encodes an empty map).

struct MapVisitor<M, K, V>(PhantomData<(M, K, V)>);

impl<'de, M, K, V> Visitor<'de> for MapVisitor<M, K, V>
where
    M: Default + Extend<(K, V)>,
    K: DeserializeOwned,
    V: Lenient,
{
    type Value = M;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object (or an empty array)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
        let mut out = M::default();
        while let Some((k, Tolerant(v))) = map.next_entry::<K, Tolerant<V>>()? {
            out.extend(std::iter::once((k, v)));
        }
        Ok(out)
    }

    fn visit_unit<E: de::Error>(self) -> Result<M, E> {
        Ok(M::default())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<M, A::Error> {
        match seq.next_element::<de::IgnoredAny>()? {
            None => Ok(M::default()),
            Some(_) => Err(de::Error::invalid_type(de::Unexpected::Seq, &self)),
        }
    }
}

impl<K, V, S> Lenient for HashMap<K, V, S>
where
    K: DeserializeOwned + Eq + Hash,
    V: Lenient,
    S: std::hash::BuildHasher + Default,
{
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MapVisitor::<Self, K, V>(PhantomData))
    }
}

impl<K, V> Lenient for BTreeMap<K, V>
where
    K: DeserializeOwned + Ord,
    V: Lenient,
{
    fn deserialize_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MapVisitor::<Self, K, V>(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset};

    fn ok<T: Lenient>(json: &str) -> T {
        from_str_lenient(json).unwrap_or_else(|e| panic!("{json}: {e}"))
    }

    #[test]
    fn integers_from_numbers_and_strings() {
        assert_eq!(ok::<i64>("123"), 123);
        assert_eq!(ok::<i64>(r#""123""#), 123);
        assert_eq!(ok::<u32>(r#"" 7 ""#), 7);
        assert_eq!(ok::<i64>("12.0"), 12);
        assert_eq!(ok::<i64>(r#""-5""#), -5);
        assert!(from_str_lenient::<u8>("300").is_err());
        assert!(from_str_lenient::<i64>(r#""12a""#).is_err());
        assert!(from_str_lenient::<i64>("1.5").is_err());
        assert!(from_str_lenient::<i64>(r#""""#).is_err());
    }

    #[test]
    fn floats_are_finite() {
        assert_eq!(ok::<f64>(r#""1.5""#), 1.5);
        assert_eq!(ok::<f64>("1e308"), 1e308);
        for bad in [
            r#""NaN""#,
            r#""inf""#,
            r#""-infinity""#,
            r#""1e999""#,
            "1e999",
        ] {
            assert!(from_str_lenient::<f64>(bad).is_err(), "{bad}");
        }
        assert!(from_str_lenient::<f32>("1e300").is_err());
        assert!(from_str_lenient::<Option<f64>>(r#""NaN""#).is_err());
    }

    #[test]
    fn bools_in_every_spelling() {
        for t in ["true", r#""Y""#, "1", r#""1""#, r#""true""#] {
            assert!(ok::<bool>(t), "{t}");
        }
        for f in ["false", r#""N""#, "0", r#""0""#, r#""false""#] {
            assert!(!ok::<bool>(f), "{f}");
        }
        assert!(from_str_lenient::<bool>(r#""maybe""#).is_err());
        assert!(from_str_lenient::<bool>("2").is_err());
    }

    #[test]
    fn strings_from_numbers() {
        assert_eq!(ok::<String>("1763"), "1763");
        assert_eq!(ok::<String>(r#""x""#), "x");
    }

    #[test]
    fn options_treat_php_empties_as_none() {
        assert_eq!(ok::<Option<i64>>("null"), None);
        assert_eq!(ok::<Option<i64>>(r#""""#), None);
        assert_eq!(ok::<Option<String>>("false"), None);
        assert_eq!(ok::<Option<bool>>("false"), Some(false));
        assert_eq!(ok::<Option<i64>>(r#""8644""#), Some(8644));
        assert_eq!(ok::<Option<Vec<i64>>>("[]"), Some(vec![]));
        assert!(from_str_lenient::<Option<i64>>(r#""abc""#).is_err());
        // JavaScript's word for nothing, where the portal's scripts write one: nothing for a
        // type that refuses it, the text itself for a string.
        assert_eq!(ok::<Option<i64>>(r#""undefined""#), None);
        assert_eq!(ok::<Option<BTreeMap<String, i64>>>(r#""undefined""#), None);
        assert_eq!(
            ok::<Option<String>>(r#""undefined""#).as_deref(),
            Some("undefined")
        );
        assert!(from_str_lenient::<i64>(r#""undefined""#).is_err());
    }

    #[test]
    fn maps_accept_empty_arrays() {
        let m: HashMap<u64, Vec<i64>> = ok(r#"{"1763": [103, "587"]}"#);
        assert_eq!(m[&1763], vec![103, 587]);
        assert!(ok::<BTreeMap<String, bool>>("[]").is_empty());
        assert!(ok::<BTreeMap<String, bool>>("null").is_empty());
        assert!(ok::<Vec<bool>>("null").is_empty());
        let from_value: BTreeMap<u64, bool> =
            Lenient::deserialize_lenient(serde_json::json!({"12": "Y"})).unwrap();
        assert!(from_value[&12]);
        assert!(from_str_lenient::<BTreeMap<String, bool>>("[1]").is_err());
    }

    #[test]
    fn vecs_accept_php_sparse_arrays() {
        assert_eq!(ok::<Vec<u64>>(r#"{"0": "1", "2": 3}"#), vec![1, 3]);
    }

    #[test]
    fn dates_with_offsets_and_timestamps() {
        let d: DateTime<FixedOffset> = ok(r#""2026-03-16T14:31:58+01:00""#);
        assert_eq!(d.offset().local_minus_utc(), 3600);
        assert_eq!(d.timestamp(), 1773667918);
        let t: DateTime<FixedOffset> = ok("1773660718");
        assert_eq!(t.timestamp(), 1773660718);
        assert!(from_str_lenient::<DateTime<FixedOffset>>(r#""yesterday""#).is_err());
    }
}
