//! The body Bitrix24 POSTs to an application (`application/x-www-form-urlencoded`, PHP style:
//! `event=ONSESSIONSTART&data[DATA][0][chat][id]=10585&auth[member_id]=…`), read into JSON the way
//! PHP fills `$_POST`, within bounds.
//!
//! - Pairs split on `&`, `+` is a space, `%XX` a byte; a pair without `=` has the value `""`.
//! - `a[b][c]=1` nests, `a[]=x` appends with the next integer key; a later pair overwrites an
//!   earlier one; a map whose keys are exactly `0, 1, …, n-1` in order becomes a JSON array.
//!   Every leaf is a string, as in PHP.
//! - Hostile input is refused, never a panic or an unbounded walk: text that is not UTF-8 once
//!   decoded, more than [`FormLimits::max_fields`] pairs, names nested deeper than
//!   [`FormLimits::max_depth`] or longer than [`FormLimits::max_name`] bytes. The body's size is
//!   the caller's bound (see [`Receiver::max_body`](super::Receiver::max_body)).

use indexmap::IndexMap;
use serde_json::{Map, Value};

/// The bounds a form is read within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormLimits {
    /// The most `name=value` pairs (default 4096; an event carries a few dozen).
    pub max_fields: usize,
    /// The most `[…]` levels in one name (default 8; `data[DATA][0][connector][line_id]` has 4).
    pub max_depth: usize,
    /// The longest name, decoded, in bytes (default 512).
    pub max_name: usize,
}

impl Default for FormLimits {
    fn default() -> Self {
        FormLimits {
            max_fields: 4096,
            max_depth: 8,
            max_name: 512,
        }
    }
}

/// Why a form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A name or value is not UTF-8 once decoded.
    #[error("the form is not valid UTF-8 once decoded")]
    NotUtf8,
    /// More pairs than [`FormLimits::max_fields`].
    #[error("the form has more than {limit} fields")]
    TooManyFields {
        /// The bound.
        limit: usize,
    },
    /// A name nested deeper than [`FormLimits::max_depth`].
    #[error("a field name is nested deeper than {limit} levels")]
    TooDeep {
        /// The bound.
        limit: usize,
    },
    /// A name longer than [`FormLimits::max_name`].
    #[error("a field name is longer than {limit} bytes")]
    NameTooLong {
        /// The bound.
        limit: usize,
    },
}

/// Reads a PHP-style form into a JSON object.
///
/// ```
/// use b24_runtime::app::form::{parse, FormLimits};
/// let form = parse(b"event=ONAPPTEST&data[QUERY][any]=x+y&ID[]=1&ID[]=2", FormLimits::default()).unwrap();
/// assert_eq!(form["event"], "ONAPPTEST");
/// assert_eq!(form["data"]["QUERY"]["any"], "x y");
/// assert_eq!(form["ID"], serde_json::json!(["1", "2"]));
/// ```
pub fn parse(input: &[u8], limits: FormLimits) -> Result<Map<String, Value>, FormError> {
    let mut top = Node::default();
    let pairs = input.split(|&b| b == b'&').filter(|p| !p.is_empty());
    for (count, pair) in pairs.enumerate() {
        if count >= limits.max_fields {
            return Err(FormError::TooManyFields {
                limit: limits.max_fields,
            });
        }
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        let name = String::from_utf8(url_decode(name)).map_err(|_| FormError::NotUtf8)?;
        if name.len() > limits.max_name {
            return Err(FormError::NameTooLong {
                limit: limits.max_name,
            });
        }
        let value = String::from_utf8(url_decode(value)).map_err(|_| FormError::NotUtf8)?;
        let (base, indices) = split_name(&name);
        if base.is_empty() {
            continue;
        }
        if indices.len() > limits.max_depth {
            return Err(FormError::TooDeep {
                limit: limits.max_depth,
            });
        }
        top.insert(base, &indices, value);
    }
    Ok(top
        .entries
        .into_iter()
        .map(|(key, entry)| (key, entry.into_value()))
        .collect())
}

/// `name[a][b]` → (`name`, [`a`, `b`]); `[]` is an empty index (append). A `[` without its `]`
/// is part of the name; text after a `]` that is not another `[` is ignored, as PHP does.
fn split_name(name: &str) -> (&str, Vec<&str>) {
    let Some(open) = name.find('[') else {
        return (name, Vec::new());
    };
    let base = &name[..open];
    let mut rest = &name[open..];
    let mut indices = Vec::new();
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            break;
        };
        indices.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    if indices.is_empty() {
        return (name, indices);
    }
    (base, indices)
}

/// A map being filled: its entries in the order their keys first came, and PHP's next free
/// integer key (one above the largest integer key so far), kept as keys come so that an append
/// costs the same however long the list.
#[derive(Default)]
struct Node {
    entries: IndexMap<String, Entry>,
    next: u64,
}

enum Entry {
    Leaf(String),
    Node(Node),
}

impl Node {
    /// Stores `value` at `base[indices…]`, turning a leaf met on the way into a map.
    fn insert(&mut self, base: &str, indices: &[&str], value: String) {
        let Some((last, path)) = indices.split_last() else {
            self.put(base.to_owned(), Entry::Leaf(value));
            return;
        };
        let mut node = self.child(base.to_owned());
        for index in path {
            let key = node.key(index);
            node = node.child(key);
        }
        let key = node.key(last);
        node.put(key, Entry::Leaf(value));
    }

    /// `index`, or the next free integer key for `[]`.
    fn key(&self, index: &str) -> String {
        if index.is_empty() {
            self.next.to_string()
        } else {
            index.to_owned()
        }
    }

    /// Sets `key` (in its first place if it was there), counting it if it is an integer.
    fn put(&mut self, key: String, entry: Entry) {
        if let Ok(n) = key.parse::<u64>() {
            self.next = self.next.max(n.saturating_add(1));
        }
        self.entries.insert(key, entry);
    }

    /// The map at `key`, created (or replacing a leaf) when needed.
    fn child(&mut self, key: String) -> &mut Node {
        if !matches!(self.entries.get(&key), Some(Entry::Node(_))) {
            self.put(key.clone(), Entry::Node(Node::default()));
        }
        match self.entries.get_mut(&key) {
            Some(Entry::Node(child)) => child,
            _ => unreachable!("just made a map"),
        }
    }
}

impl Entry {
    /// As JSON: maps keyed exactly `0..n` in order become arrays, at every level.
    fn into_value(self) -> Value {
        let node = match self {
            Entry::Leaf(text) => return Value::String(text),
            Entry::Node(node) => node,
        };
        let is_list =
            !node.entries.is_empty()
                && node.entries.keys().enumerate().all(|(at, key)| {
                    key.parse::<usize>().ok() == Some(at) && *key == at.to_string()
                });
        if is_list {
            Value::Array(node.entries.into_values().map(Entry::into_value).collect())
        } else {
            Value::Object(
                node.entries
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            )
        }
    }
}

/// `urldecode`: `+` is a space, `%XX` a byte, any other `%` stays.
fn url_decode(input: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                if let (Some(hi), Some(lo)) = (
                    input.get(i + 1).copied().and_then(hex),
                    input.get(i + 2).copied().and_then(hex),
                ) {
                    // Two hex digits: at most 0xFF.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            other => out.push(other),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form(text: &str) -> Value {
        Value::Object(parse(text.as_bytes(), FormLimits::default()).unwrap())
    }

    #[test]
    fn an_event_as_bitrix24_sends_it() {
        let body = "event=ONSESSIONSTART&data%5BDATA%5D%5B0%5D%5Bchat%5D%5Bid%5D=10585\
            &data[DATA][0][session][closed]=N&ts=1714649632&auth[member_id]=a2&auth[application_token]=t%2B1";
        assert_eq!(
            form(body),
            json!({"event": "ONSESSIONSTART",
                   "data": {"DATA": [{"chat": {"id": "10585"}, "session": {"closed": "N"}}]},
                   "ts": "1714649632",
                   "auth": {"member_id": "a2", "application_token": "t+1"}})
        );
    }

    #[test]
    fn php_rules() {
        let cases = [
            ("a", json!({"a": ""})),
            ("a=1&a=2", json!({"a": "2"})),
            ("a=1&a[b]=2", json!({"a": {"b": "2"}})),
            ("a[]=x&a[]=y", json!({"a": ["x", "y"]})),
            ("a[5]=x&a[]=y", json!({"a": {"5": "x", "6": "y"}})),
            ("a[1]=x&a[0]=y", json!({"a": {"1": "x", "0": "y"}})),
            ("a[b=1", json!({"a[b": "1"})),
            ("a[b]x=1", json!({"a": {"b": "1"}})),
            ("=1&&[x]=2", json!({})),
            ("%zz=%4", json!({"%zz": "%4"})),
            ("a[01]=1", json!({"a": {"01": "1"}})),
            (
                "a[3]=x&a[1]=y&a[]=z",
                json!({"a": {"3": "x", "1": "y", "4": "z"}}),
            ),
            ("a[]=1&a=x&a[]=2", json!({"a": ["2"]})),
            ("a[x][]=1&a[x]=s&a[x][]=2", json!({"a": {"x": ["2"]}})),
            ("a[b][]=1&a[]=2", json!({"a": {"b": ["1"], "0": "2"}})),
            (
                "a[18446744073709551615]=m&a[]=n",
                json!({"a": {"18446744073709551615": "n"}}),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(form(text), want, "{text}");
        }
    }

    #[test]
    fn hostile_forms_are_refused() {
        let limits = FormLimits::default();
        let deep = format!("a{}=1", "[x]".repeat(9));
        assert_eq!(
            parse(deep.as_bytes(), limits),
            Err(FormError::TooDeep { limit: 8 })
        );
        let many = "a=1&".repeat(4097);
        assert_eq!(
            parse(many.as_bytes(), limits),
            Err(FormError::TooManyFields { limit: 4096 })
        );
        let long = format!("{}=1", "n".repeat(513));
        assert_eq!(
            parse(long.as_bytes(), limits),
            Err(FormError::NameTooLong { limit: 512 })
        );
        assert_eq!(parse(b"a=%ff", limits), Err(FormError::NotUtf8));
        // Many appends to one list stay within the field bound.
        let appends = "a[]=1&".repeat(4000);
        let parsed = parse(appends.as_bytes(), limits).unwrap();
        assert_eq!(parsed["a"].as_array().map(Vec::len), Some(4000));
        // Appends cost the same however long the list: 200,000 of them under a raised bound
        // (finding the next key by a walk over the list's keys made this 2·10¹⁰ steps), some
        // under a nested name, with explicit keys in between.
        let raised = FormLimits {
            max_fields: 300_000,
            ..limits
        };
        let mut long = "a[]=x&".repeat(100_000);
        long.push_str("a[100005]=y&a[]=z&");
        long.push_str(&"b[c][]=1&".repeat(100_000));
        let parsed = parse(long.as_bytes(), raised).unwrap();
        assert_eq!(parsed["a"]["100005"], "y");
        assert_eq!(parsed["a"]["100006"], "z");
        assert_eq!(parsed["a"]["99999"], "x");
        assert_eq!(parsed["b"]["c"].as_array().map(Vec::len), Some(100_000));
    }
}
