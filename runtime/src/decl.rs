//! Support for the code `#[b24_object]` and `#[b24_method]` generate, shared so that each
//! declaration expands to little: the field loop of an object's decoder, its key lookup, its
//! missing-field and flatten handling, and the error-code table of a method's error enum live
//! here, compiled once, instead of in every declaration.
//!
//! Not public API (reached through `__private`): names here may change in any release.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

/// A `#[b24_object]` struct, decoded field by field by [`ObjectVisitor`].
///
/// The generated impl holds only what depends on the struct: its wire names, the slots that
/// collect field values, the decoding of one field, and the assembly of the struct.
pub trait Object: Sized {
    /// `struct Name`, for "expected struct Name".
    const EXPECTING: &'static str;
    /// The wire name of each field (not of `flatten` fields), in slot order.
    const FIELDS: &'static [&'static str];
    /// Whether a `flatten` field takes the keys no other field takes.
    const FLATTEN: bool;
    /// The values decoded so far, one `Option` per field.
    type Slots;

    /// Empty slots.
    fn slots() -> Self::Slots;

    /// Decodes field `index` (of [`FIELDS`](Self::FIELDS)) from `value` into its slot.
    fn field<'de, D: Deserializer<'de>>(
        slots: &mut Self::Slots,
        index: usize,
        value: D,
    ) -> Result<(), D::Error>;

    /// The struct from its slots and, with [`FLATTEN`](Self::FLATTEN), the other keys.
    fn finish(slots: Self::Slots, rest: Rest) -> Result<Self, Finish>;
}

/// The keys of an object that no named field takes, for its `flatten` fields.
pub type Rest = serde_json::Map<String, serde_json::Value>;

/// Why [`Object::finish`] failed.
#[derive(Debug)]
pub enum Finish {
    /// A field without a default was missing.
    Missing(&'static str),
    /// A `flatten` field did not accept the other keys.
    Flatten(serde_json::Error),
}

impl Finish {
    fn into_error<E: de::Error>(self) -> E {
        match self {
            Finish::Missing(name) => E::missing_field(name),
            Finish::Flatten(e) => E::custom(e),
        }
    }
}

/// Decodes a field leniently into its slot.
pub fn slot_lenient<'de, T: crate::de::Lenient, D: Deserializer<'de>>(
    slot: &mut Option<T>,
    value: D,
) -> Result<(), D::Error> {
    *slot = Some(T::deserialize_lenient(value)?);
    Ok(())
}

/// Decodes a `strict` field into its slot, by its own `Deserialize`.
pub fn slot_strict<'de, T: serde::Deserialize<'de>, D: Deserializer<'de>>(
    slot: &mut Option<T>,
    value: D,
) -> Result<(), D::Error> {
    *slot = Some(T::deserialize(value)?);
    Ok(())
}

/// `slot.ok_or(Missing(name))`: the value of a required field.
pub fn required<T>(slot: Option<T>, name: &'static str) -> Result<T, Finish> {
    slot.ok_or(Finish::Missing(name))
}

/// A `flatten` field, decoded by its `Deserialize` from the keys no other field took.
pub fn flatten<T: serde::de::DeserializeOwned>(rest: &Rest) -> Result<T, Finish> {
    T::deserialize(RestDeserializer(rest)).map_err(Finish::Flatten)
}

/// A deserializer of the rest map as an object, without copying it into a `Value`.
struct RestDeserializer<'a>(&'a Rest);

impl<'de> Deserializer<'de> for RestDeserializer<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let mut map = de::value::MapDeserializer::new(self.0.iter().map(|(k, v)| {
            (
                k.as_str(),
                serde::de::IntoDeserializer::into_deserializer(v),
            )
        }));
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// Decodes an [`Object`]: `deserialize_struct`, then each known key into its slot.
pub fn deserialize_object<'de, T: Object, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_struct(
        // Only a hint to self-describing formats (JSON ignores it).
        "",
        T::FIELDS,
        ObjectVisitor(PhantomData),
    )
}

/// The visitor of an [`Object`]: a JSON object by its keys, or an array by position (as serde's
/// derive reads one, so that PHP's `[]` for an empty object decodes an object of defaults).
pub struct ObjectVisitor<T>(PhantomData<T>);

/// Which fields have been seen, to report a key given twice.
struct Seen {
    low: u64,
    high: Vec<bool>,
}

impl Seen {
    fn new() -> Self {
        Seen {
            low: 0,
            high: Vec::new(),
        }
    }

    /// Marks `index`; `false` when it was marked already.
    fn mark(&mut self, index: usize) -> bool {
        if index < 64 {
            let bit = 1u64 << index;
            let fresh = self.low & bit == 0;
            self.low |= bit;
            return fresh;
        }
        let i = index - 64;
        if self.high.len() <= i {
            self.high.resize(i + 1, false);
        }
        !std::mem::replace(&mut self.high[i], true)
    }
}

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut slots = T::slots();
        let mut seen = Seen::new();
        let mut rest = Rest::new();
        while let Some(key) = map.next_key_seed(KeySeed { fields: T::FIELDS })? {
            match key {
                Key::Field(index) => {
                    if !seen.mark(index) {
                        return Err(de::Error::duplicate_field(T::FIELDS[index]));
                    }
                    map.next_value_seed(FieldSeed::<T> {
                        slots: &mut slots,
                        index,
                    })?;
                }
                Key::Other(name) if T::FLATTEN => {
                    let value: serde_json::Value = map.next_value()?;
                    rest.insert(name, value);
                }
                Key::Other(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        T::finish(slots, rest).map_err(Finish::into_error)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        let mut slots = T::slots();
        for index in 0..T::FIELDS.len() {
            let seed = FieldSeed::<T> {
                slots: &mut slots,
                index,
            };
            if seq.next_element_seed(seed)?.is_none() {
                break;
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(T::FIELDS.len() + 1, &self));
        }
        T::finish(slots, Rest::new()).map_err(Finish::into_error)
    }
}

/// A key of an object: one of its fields, or another key.
enum Key {
    Field(usize),
    Other(String),
}

struct KeySeed {
    fields: &'static [&'static str],
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match field_index(self.fields, v) {
            Some(index) => Key::Field(index),
            None => Key::Other(v.to_owned()),
        })
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
        match std::str::from_utf8(v) {
            Ok(s) => self.visit_str(s),
            Err(_) => Ok(Key::Other(String::from_utf8_lossy(v).into_owned())),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Key, E> {
        self.visit_str(&v.to_string())
    }
}

/// The position of `key` among `fields`.
fn field_index(fields: &[&str], key: &str) -> Option<usize> {
    fields.iter().position(|f| *f == key)
}

struct FieldSeed<'a, T: Object> {
    slots: &'a mut T::Slots,
    index: usize,
}

impl<'de, T: Object> DeserializeSeed<'de> for FieldSeed<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        T::field(self.slots, self.index, d)
    }
}

/// Writes the entries of a `flatten` field into the object being written.
pub fn serialize_flatten<M: SerializeMap, T: Serialize>(
    map: &mut M,
    value: &T,
) -> Result<(), M::Error> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(entries)) => {
            for (k, v) in &entries {
                map.serialize_entry(k, v)?;
            }
            Ok(())
        }
        Ok(serde_json::Value::Null) => Ok(()),
        Ok(_) => Err(serde::ser::Error::custom(
            "a `flatten` field must write an object",
        )),
        Err(e) => Err(serde::ser::Error::custom(e)),
    }
}

/// Starts writing an object: `serializer.serialize_map(None)`.
pub fn serialize_object<S: Serializer>(serializer: S) -> Result<S::SerializeMap, S::Error> {
    serializer.serialize_map(None)
}

// ---------------------------------------------------------------------------------------------
// alternative parameters

/// A group of alternative parameters, exactly one of which is sent: an enum declared with
/// `#[b24_object(one_of)]`, each variant holding the value of one parameter. A method's field
/// marked `#[b24(one_of)]` writes the one parameter its value names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a group of alternative parameters",
    label = "`#[b24(one_of)]` needs an enum declared with `#[b24_object(one_of)]`",
    note = "declare the alternatives as an enum with one variant per parameter, each holding its value: `#[b24_object(one_of)] pub enum Target {{ UserId(i64), QueueId(i64) }}`"
)]
pub trait OneOf {
    /// Writes the one parameter this value stands for.
    fn serialize_into<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
}

// ---------------------------------------------------------------------------------------------
// method error enums

/// One declared error code of a method: the code, the HTTP status it counts with (0: any), and
/// the name of its variant in the method's error enum.
pub type ErrorEntry = (&'static str, u16, &'static str);

/// The index in `table` of the declared code matching the portal's `code` (case-insensitively)
/// and `status` (0: unknown, as in a batch; then declared statuses are not checked).
pub fn find_error(table: &[ErrorEntry], code: &str, status: u16) -> Option<usize> {
    table.iter().position(|(c, s, _)| {
        (*s == 0 || status == 0 || status == *s) && c.eq_ignore_ascii_case(code)
    })
}

/// `Debug` of a method error, as derived: `Variant { description: "…" }`.
pub fn debug_error(f: &mut fmt::Formatter<'_>, variant: &str, description: &str) -> fmt::Result {
    f.debug_struct(variant)
        .field("description", &description)
        .finish()
}

/// `Display` of a method error: `CODE: description`.
pub fn fmt_error(f: &mut fmt::Formatter<'_>, code: &str, description: &str) -> fmt::Result {
    write!(f, "{code}: {description}")
}
