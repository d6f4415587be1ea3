//! Reading the `time` block of an envelope: whole ([`Time`], for a caller who asks for the
//! envelope), or only the numbers the operating-time accounting reads ([`Usage`]), which a plain
//! call takes in the envelope's own pass ([`LazyTime`]) without parsing the rest of the block.

use std::fmt;

use serde::de::DeserializeSeed;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::Time;
use crate::de::{Lenient, Tolerant};

/// The numbers of a `time` block the operating-time accounting reads, decoded on every call
/// (the rest of the block, dates included, only for a caller who asks for the envelope).
///
/// Its numbers pass the same checks as [`Time`]'s (finite, or the block is dropped); the other
/// keys of the block are skipped unread.
///
/// An [`OperatingTime`](crate::limits::OperatingTime) backend is fed these numbers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Usage {
    /// [`Time::start`].
    pub start: f64,
    /// [`Time::finish`].
    pub finish: f64,
    /// [`Time::operating`].
    pub operating: Option<f64>,
    /// [`Time::operating_reset_at`].
    pub operating_reset_at: Option<f64>,
}

impl From<&Time> for Usage {
    fn from(time: &Time) -> Self {
        Usage {
            start: time.start,
            finish: time.finish,
            operating: time.operating,
            operating_reset_at: time.operating_reset_at,
        }
    }
}

impl Lenient for Usage {
    fn deserialize_lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(UsageVisitor)
    }
}

struct UsageVisitor;

/// The keys of a `time` block, as far as [`Usage`] cares.
enum UsageKey {
    Start,
    Finish,
    Operating,
    OperatingResetAt,
    Other,
}

impl<'de> Deserialize<'de> for UsageKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        KeySeed::<false>.deserialize(d)
    }
}

/// How a key of the block is read: as raw bytes (serde_json then compares the key without
/// checking its UTF-8 or its control characters: a key that is not one of the four is skipped
/// whatever it holds), or, `TEXT`, as text, for an answer already known to be UTF-8 and read
/// as such (serde_json's word-at-a-time scan, cheaper on short keys; it refuses control
/// characters, so that reading is tried first and the bytes one after it).
struct KeySeed<const TEXT: bool>;

impl<'de, const TEXT: bool> serde::de::DeserializeSeed<'de> for KeySeed<TEXT> {
    type Value = UsageKey;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<UsageKey, D::Error> {
        if TEXT {
            d.deserialize_str(KeyVisitor)
        } else {
            d.deserialize_bytes(KeyVisitor)
        }
    }
}

struct KeyVisitor;

impl serde::de::Visitor<'_> for KeyVisitor {
    type Value = UsageKey;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key of the `time` block")
    }

    fn visit_bytes<E: serde::de::Error>(self, key: &[u8]) -> Result<UsageKey, E> {
        Ok(match key {
            b"start" => UsageKey::Start,
            b"finish" => UsageKey::Finish,
            b"operating" => UsageKey::Operating,
            b"operating_reset_at" => UsageKey::OperatingResetAt,
            _ => UsageKey::Other,
        })
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<UsageKey, E> {
        self.visit_bytes(key.as_bytes())
    }
}

impl<'de> serde::de::Visitor<'de> for UsageVisitor {
    type Value = Usage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `time` block")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Usage, A::Error> {
        fn once<T, E: serde::de::Error>(slot: &mut Option<T>, key: &'static str) -> Result<(), E> {
            match slot {
                Some(_) => Err(E::duplicate_field(key)),
                None => Ok(()),
            }
        }
        let (mut start, mut finish, mut operating, mut reset_at) = (None, None, None, None);
        // Bounded by the block's length: each key is read once.
        while let Some(key) = map.next_key::<UsageKey>()? {
            match key {
                UsageKey::Start => {
                    once(&mut start, "start")?;
                    start = Some(map.next_value::<Tolerant<f64>>()?.0);
                }
                UsageKey::Finish => {
                    once(&mut finish, "finish")?;
                    finish = Some(map.next_value::<Tolerant<f64>>()?.0);
                }
                UsageKey::Operating => {
                    once(&mut operating, "operating")?;
                    operating = Some(map.next_value::<Tolerant<Option<f64>>>()?.0);
                }
                UsageKey::OperatingResetAt => {
                    once(&mut reset_at, "operating_reset_at")?;
                    reset_at = Some(map.next_value::<Tolerant<Option<f64>>>()?.0);
                }
                UsageKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(Usage {
            start: start.unwrap_or_default(),
            finish: finish.unwrap_or_default(),
            operating: operating.flatten(),
            operating_reset_at: reset_at.flatten(),
        })
    }
}

/// What of the `time` block to decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimeBlock {
    /// Only the numbers the operating-time accounting reads ([`Usage`]): a call whose caller
    /// gets the result alone.
    Usage,
    /// The whole [`Time`], dates included: a caller who gets the envelope.
    Full,
}

/// The `time` block: the whole of it when asked for, and the accounting's numbers. A block that
/// does not decode is dropped with one warning; the accounting's numbers are still taken from
/// it when they alone are good (a bad `duration` spoils the block shown, not the accounting),
/// so both kinds of call feed the accounting alike.
fn time_block(raw: Option<&RawValue>, wanted: TimeBlock) -> (Option<Time>, Option<Usage>) {
    let Some(raw) = raw else {
        return (None, None);
    };
    if wanted == TimeBlock::Full {
        if let Ok(Tolerant(time)) = serde_json::from_str::<Tolerant<Option<Time>>>(raw.get()) {
            // A block that is an object holds the numbers `Usage` would read; `Time` also takes
            // a list of its fields in order, which `Usage` (and so a plain call) refuses.
            if raw.get().starts_with('{') || time.is_none() {
                let usage = time.as_ref().map(Usage::from);
                return (time, usage);
            }
            let usage = serde_json::from_str::<Tolerant<Option<Usage>>>(raw.get());
            return (time, usage.ok().and_then(|u| u.0));
        }
    }
    match serde_json::from_str::<Tolerant<Option<Usage>>>(raw.get()) {
        Ok(Tolerant(usage)) if wanted == TimeBlock::Usage => (None, usage),
        outcome => {
            // The value itself is not logged: it came from the server.
            tracing::warn!(
                field = "time",
                "dropping an unusable `time` beside the result"
            );
            (None, outcome.ok().and_then(|u| u.0))
        }
    }
}

/// How [`open`](super::open) reads the `time` block in the envelope's pass.
pub(super) trait TimeField<'a>: Deserialize<'a> {
    /// The block to show (if read) and the accounting's numbers.
    fn read(field: Option<Self>) -> (Option<Time>, Option<Usage>);
}

/// Kept as raw text, then decoded whole.
impl<'a> TimeField<'a> for &'a RawValue {
    fn read(field: Option<Self>) -> (Option<Time>, Option<Usage>) {
        time_block(field, TimeBlock::Full)
    }
}

/// The `time` block read in the envelope's own pass for the accounting's numbers alone: the
/// four values taken as they come ([`Scalar`]), the other keys skipped unread (dates are never
/// parsed). The values are decoded after the pass, by the same lenient decoding a [`Usage`] uses,
/// so that a bad one (`"NaN"`, a list) spoils only the block; what is accepted and refused is
/// exactly what decoding the raw block as a [`Usage`] would accept and refuse. The one value
/// this pass cannot take, a number literal beyond `f64` (`1e999`), fails it: [`open`](super::open) then
/// reads the answer again with the block as raw text ([`RawUsage`]).
///
/// `TEXT`: the answer is read as text (see [`KeySeed`]).
pub(super) enum LazyTime<'a, const TEXT: bool> {
    /// `""`, `false`, `[]`: PHP's "nothing".
    Nothing,
    /// Not a block of the accounting's shape (a duplicate key, a string, a list …).
    Bad,
    Block {
        start: Option<Scalar<'a>>,
        finish: Option<Scalar<'a>>,
        operating: Option<Scalar<'a>>,
        operating_reset_at: Option<Scalar<'a>>,
    },
}

impl<'a, const TEXT: bool> TimeField<'a> for LazyTime<'a, TEXT> {
    fn read(field: Option<Self>) -> (Option<Time>, Option<Usage>) {
        let usage = match field {
            None | Some(LazyTime::Nothing) => return (None, None),
            Some(LazyTime::Bad) => None,
            Some(LazyTime::Block {
                start,
                finish,
                operating,
                operating_reset_at,
            }) => (|| {
                Some(Usage {
                    start: Scalar::decode_or_default(start)?,
                    finish: Scalar::decode_or_default(finish)?,
                    operating: Scalar::decode_or_default(operating)?,
                    operating_reset_at: Scalar::decode_or_default(operating_reset_at)?,
                })
            })(),
        };
        if usage.is_none() {
            // The value itself is not logged: it came from the server.
            tracing::warn!(
                field = "time",
                "dropping an unusable `time` beside the result"
            );
        }
        (None, usage)
    }
}

impl<'de, const TEXT: bool> Deserialize<'de> for LazyTime<'de, TEXT> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LazyTimeVisitor::<TEXT>)
    }
}

struct LazyTimeVisitor<const TEXT: bool>;

/// Every well-formed value is taken: what [`Usage`] would refuse is [`LazyTime::Bad`], after its
/// contents are skipped.
impl<'de, const TEXT: bool> serde::de::Visitor<'de> for LazyTimeVisitor<TEXT> {
    type Value = LazyTime<'de, TEXT>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the `time` block")
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(LazyTime::Nothing)
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(if v { LazyTime::Bad } else { LazyTime::Nothing })
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(LazyTime::Bad)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(LazyTime::Bad)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LazyTime::Bad)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(if v.is_empty() {
            LazyTime::Nothing
        } else {
            LazyTime::Bad
        })
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(if drained_seq(seq)? {
            LazyTime::Nothing
        } else {
            LazyTime::Bad
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut start, mut finish, mut operating, mut reset_at) = (None, None, None, None);
        let mut duplicate = false;
        // Bounded by the block's length in the body.
        while let Some(key) = map.next_key_seed(KeySeed::<TEXT>)? {
            let slot = match key {
                UsageKey::Start => &mut start,
                UsageKey::Finish => &mut finish,
                UsageKey::Operating => &mut operating,
                UsageKey::OperatingResetAt => &mut reset_at,
                UsageKey::Other => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            duplicate |= slot.is_some();
            *slot = Some(map.next_value::<Scalar<'de>>()?);
        }
        Ok(if duplicate {
            LazyTime::Bad
        } else {
            LazyTime::Block {
                start,
                finish,
                operating,
                operating_reset_at: reset_at,
            }
        })
    }
}

/// Skips a list's elements; whether there were none. Bounded by the list's length in the body.
fn drained_seq<'de, A: serde::de::SeqAccess<'de>>(mut seq: A) -> Result<bool, A::Error> {
    let mut empty = true;
    while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
        empty = false;
    }
    Ok(empty)
}

/// One JSON value as the parser handed it over, for a lenient decoding after the pass: numbers
/// parsed once, strings borrowed from the body when they hold no escapes, lists and objects
/// skipped (only whether they were empty is kept).
pub(super) enum Scalar<'a> {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(std::borrow::Cow<'a, str>),
    EmptySeq,
    EmptyMap,
    /// A list or an object with something in it.
    Full,
}

impl Scalar<'_> {
    /// The value decoded leniently as `T` (as from its JSON text), `T::default()` when there is
    /// none; `None` when `T` refuses it.
    fn decode_or_default<T: Lenient + Default>(value: Option<Self>) -> Option<T> {
        use serde::de::value::{
            BoolDeserializer, BorrowedStrDeserializer, F64Deserializer, I64Deserializer,
            MapDeserializer, SeqDeserializer, U64Deserializer, UnitDeserializer,
        };
        type E = serde::de::value::Error;
        let decoded = match value {
            None => return Some(T::default()),
            Some(Scalar::Null) => T::deserialize_lenient(UnitDeserializer::<E>::new()),
            Some(Scalar::Bool(v)) => T::deserialize_lenient(BoolDeserializer::<E>::new(v)),
            Some(Scalar::I64(v)) => T::deserialize_lenient(I64Deserializer::<E>::new(v)),
            Some(Scalar::U64(v)) => T::deserialize_lenient(U64Deserializer::<E>::new(v)),
            Some(Scalar::F64(v)) => T::deserialize_lenient(F64Deserializer::<E>::new(v)),
            Some(Scalar::Str(v)) => T::deserialize_lenient(BorrowedStrDeserializer::<E>::new(&v)),
            Some(Scalar::EmptySeq) => {
                T::deserialize_lenient(SeqDeserializer::<_, E>::new(std::iter::empty::<u8>()))
            }
            Some(Scalar::EmptyMap) => {
                T::deserialize_lenient(MapDeserializer::<_, E>::new(std::iter::empty::<(u8, u8)>()))
            }
            Some(Scalar::Full) => return None,
        };
        decoded.ok()
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Null)
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Scalar::Str(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                // A string with escapes: bounded by the body.
                Ok(Scalar::Str(std::borrow::Cow::Owned(v.to_owned())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                seq: A,
            ) -> Result<Self::Value, A::Error> {
                Ok(if drained_seq(seq)? {
                    Scalar::EmptySeq
                } else {
                    Scalar::Full
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut empty = true;
                // Bounded by the object's length in the body.
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {
                    empty = false;
                }
                Ok(if empty {
                    Scalar::EmptyMap
                } else {
                    Scalar::Full
                })
            }
        }
        d.deserialize_any(ScalarVisitor)
    }
}

/// The `time` block kept as raw text and read for the accounting's numbers alone: [`open`](super::open)'s
/// second reading of an answer whose [`LazyTime`] pass failed.
pub(super) struct RawUsage<'a>(&'a RawValue);

impl<'de> Deserialize<'de> for RawUsage<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&RawValue>::deserialize(d).map(RawUsage)
    }
}

impl<'a> TimeField<'a> for RawUsage<'a> {
    fn read(field: Option<Self>) -> (Option<Time>, Option<Usage>) {
        time_block(field.map(|f| f.0), TimeBlock::Usage)
    }
}
