//! Parsing `application/x-www-form-urlencoded` text (query strings and form bodies) the way PHP fills
//! `$_GET`/`$_POST`, which is what a Bitrix24 portal sees.
//!
//! PHP rules reproduced here:
//! - pairs are split on `&`; a pair without `=` has the value `""`; key and value are URL-decoded
//!   (`+` is a space, `%XX` a byte, a malformed `%` stays as it is) before the key is looked at, so
//!   `a%5Bb%5D=1` is the same as `a[b]=1`;
//! - leading spaces of a name are dropped, and in the name before the first `[` the characters ` `
//!   and `.` become `_` (`fields.title` arrives as `fields_title`); a name that is empty is ignored;
//! - `A[B][C]=1` builds nested arrays; `ID[]=x` appends with the next integer key (one above the
//!   largest integer key so far); keys such as `"0"` or `"-3"` are integer keys, `"01"` stays a string;
//! - a `[` without a closing `]` right after the name is not an index: it becomes `_` and the rest is
//!   part of the name (`a[b=1` sets `a_b`); deeper down, the unclosed rest is dropped; text after a
//!   `]` that is not another `[` is ignored (`a[b]x=1` sets `a[b]`);
//! - a later pair overwrites an earlier one; a scalar met where an array is needed is replaced by an
//!   empty array;
//! - a name nested deeper than 64 levels removes the whole top-level variable
//!   (`max_input_nesting_level`).
//!
//! The result is JSON: a PHP array whose keys are exactly `0, 1, …, n-1` in order becomes a JSON
//! array (as `json_encode` does), any other array a JSON object; every leaf is a string, as in PHP.
//! The only failure is text that is not UTF-8 once decoded, which the portal answers with
//! `WRONG_ENCODING`.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// PHP's default `max_input_nesting_level`.
const MAX_NESTING: usize = 64;

/// Decoded text that is not valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the decoded query is not valid UTF-8")]
pub struct NotUtf8;

/// Parses PHP-style `application/x-www-form-urlencoded` text into a JSON object.
///
/// ```
/// use b24_emulator::wire::php_query::parse;
/// let params = parse(b"FIELDS[TITLE]=New+deal&ID[]=1&ID[]=2").unwrap();
/// assert_eq!(params["FIELDS"]["TITLE"], "New deal");
/// assert_eq!(params["ID"], serde_json::json!(["1", "2"]));
/// ```
pub fn parse(input: &[u8]) -> Result<Map<String, Value>, NotUtf8> {
    let mut form = FormBuilder::new();
    for pair in input.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = match pair.iter().position(|&b| b == b'=') {
            Some(eq) => (&pair[..eq], &pair[eq + 1..]),
            None => (pair, &b""[..]),
        };
        let key = String::from_utf8(url_decode(raw_key, true)).map_err(|_| NotUtf8)?;
        let value = String::from_utf8(url_decode(raw_value, true)).map_err(|_| NotUtf8)?;
        form.insert(&key, value);
    }
    Ok(form.finish())
}

/// Builds parameters from already decoded `name=value` pairs with PHP's rules for names
/// (`A[B][C]`, `ID[]`, …); used for query strings, form bodies and multipart fields alike.
#[derive(Debug, Default)]
pub struct FormBuilder {
    top: PhpArray,
}

impl FormBuilder {
    /// No parameters yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stores one pair as PHP would: `name` may carry `[...]` indices.
    pub fn insert(&mut self, name: &str, value: String) {
        register(&mut self.top, name, value);
    }

    /// The parameters as a JSON object (top-level names are always object keys).
    pub fn finish(self) -> Map<String, Value> {
        self.top
            .entries
            .into_iter()
            .map(|(key, node)| (key.to_string(), node.into_json()))
            .collect()
    }
}

/// URL-decodes bytes as PHP's `urldecode` (with `plus_as_space`) or `rawurldecode` (without):
/// `%XX` with two hex digits becomes that byte, any other `%` is kept.
pub fn url_decode(input: &[u8], plus_as_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let byte = input[i];
        if byte == b'+' && plus_as_space {
            out.push(b' ');
        } else if byte == b'%' {
            if let Some(decoded) = input.get(i + 1..i + 3).and_then(hex_pair) {
                out.push(decoded);
                i += 3;
                continue;
            }
            out.push(byte);
        } else {
            out.push(byte);
        }
        i += 1;
    }
    out
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    let hi = digit(*pair.first()?)?;
    let lo = digit(*pair.get(1)?)?;
    u8::try_from(hi * 16 + lo).ok()
}

/// Stores one decoded `name=value` pair, following `php_register_variable_ex`.
fn register(top: &mut PhpArray, raw_name: &str, value: String) {
    // The name is a C string in PHP: a NUL ends it.
    let name = raw_name.split('\0').next().unwrap_or_default();
    let name = name.trim_start_matches(' ');

    let mut base = String::with_capacity(name.len());
    let mut after_bracket = None;
    for (at, c) in name.char_indices() {
        match c {
            ' ' | '.' => base.push('_'),
            '[' => {
                after_bracket = Some(&name[at + 1..]);
                break;
            }
            other => base.push(other),
        }
    }
    if base.is_empty() {
        return;
    }
    let Some(mut rest) = after_bracket else {
        top.set(Key::from_php(&base), Node::leaf(value));
        return;
    };

    // Each item is one `[...]`; `None` is `[]` (append).
    let mut indices: Vec<Option<&str>> = Vec::new();
    loop {
        if indices.len() + 1 > MAX_NESTING {
            top.remove(&Key::from_php(&base));
            return;
        }
        if let Some(after) = rest.strip_prefix(']') {
            indices.push(None);
            rest = after;
        } else if let Some(end) = rest.find(']') {
            indices.push(Some(&rest[..end]));
            rest = &rest[end + 1..];
        } else if indices.is_empty() {
            // Not an index: the `[` is part of the name.
            let tail: String = rest
                .chars()
                .map(|c| if matches!(c, ' ' | '.' | '[') { '_' } else { c })
                .collect();
            base.push('_');
            base.push_str(&tail);
            top.set(Key::from_php(&base), Node::leaf(value));
            return;
        } else {
            break;
        }
        match rest.strip_prefix('[') {
            Some(after) => rest = after,
            None => break,
        }
    }

    // Walk down: the base name, then every index but the last, names an array.
    let mut table = top;
    let mut index = Some(base.as_str());
    for next in indices {
        table = table.child_array(index.map(Key::from_php));
        index = next;
    }
    match index {
        Some(key) => table.set(Key::from_php(key), Node::leaf(value)),
        None => table.push(Node::leaf(value)),
    };
}

/// A key of a PHP array: integer-like strings are integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Int(i64),
    Str(String),
}

impl Key {
    /// PHP's `zend_symtable` rule: a canonical decimal integer (no `+`, no leading zero, no `-0`)
    /// that fits in 64 bits is an integer key.
    fn from_php(text: &str) -> Self {
        let digits = text.strip_prefix('-').unwrap_or(text);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && text != "-0";
        match text.parse::<i64>() {
            Ok(n) if canonical => Key::Int(n),
            _ => Key::Str(text.to_owned()),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Int(n) => write!(f, "{n}"),
            Key::Str(s) => f.write_str(s),
        }
    }
}

/// A value in a PHP array: a string leaf or a nested array.
#[derive(Debug, Default)]
struct Node {
    /// `Some` for a leaf; then `children` is empty.
    leaf: Option<String>,
    children: PhpArray,
}

impl Node {
    fn leaf(value: String) -> Self {
        Self {
            leaf: Some(value),
            children: PhpArray::default(),
        }
    }

    /// This node as an array, replacing a leaf by an empty array.
    fn as_array(&mut self) -> &mut PhpArray {
        if self.leaf.take().is_some() {
            self.children = PhpArray::default();
        }
        &mut self.children
    }

    fn into_json(self) -> Value {
        match self.leaf {
            Some(text) => Value::String(text),
            None => self.children.into_json(),
        }
    }
}

/// An insertion-ordered PHP array.
#[derive(Debug, Default)]
struct PhpArray {
    entries: Vec<(Key, Node)>,
    positions: HashMap<Key, usize>,
    next_free: i64,
}

impl PhpArray {
    fn note_key(&mut self, key: &Key) {
        if let Key::Int(n) = key {
            if *n >= self.next_free {
                self.next_free = n.saturating_add(1);
            }
        }
    }

    /// Sets `key` (overwriting in place, keeping its position) and returns the stored node.
    fn set(&mut self, key: Key, node: Node) -> &mut Node {
        let at = match self.positions.get(&key) {
            Some(&at) => {
                self.entries[at].1 = node;
                at
            }
            None => {
                self.note_key(&key);
                self.positions.insert(key.clone(), self.entries.len());
                self.entries.push((key, node));
                self.entries.len() - 1
            }
        };
        &mut self.entries[at].1
    }

    /// Appends with the next free integer key, as `$a[] = …`.
    fn push(&mut self, node: Node) -> &mut Node {
        let key = Key::Int(self.next_free);
        self.set(key, node)
    }

    /// The array stored at `key` (or appended for `None`), created or replacing a leaf as needed.
    fn child_array(&mut self, key: Option<Key>) -> &mut PhpArray {
        let existing = key.as_ref().and_then(|k| self.positions.get(k).copied());
        let node = match (existing, key) {
            (Some(at), _) => &mut self.entries[at].1,
            (None, Some(key)) => self.set(key, Node::default()),
            (None, None) => self.push(Node::default()),
        };
        node.as_array()
    }

    fn remove(&mut self, key: &Key) {
        if self.positions.remove(key).is_some() {
            self.entries.retain(|(k, _)| k != key);
            self.positions = self
                .entries
                .iter()
                .enumerate()
                .map(|(at, (k, _))| (k.clone(), at))
                .collect();
        }
    }

    /// `json_encode`: a list when the keys are `0..n` in order, an object otherwise.
    fn into_json(self) -> Value {
        let is_list = self
            .entries
            .iter()
            .enumerate()
            .all(|(at, (key, _))| matches!(key, Key::Int(n) if usize::try_from(*n) == Ok(at)));
        if is_list {
            Value::Array(
                self.entries
                    .into_iter()
                    .map(|(_, node)| node.into_json())
                    .collect(),
            )
        } else {
            Value::Object(
                self.entries
                    .into_iter()
                    .map(|(key, node)| (key.to_string(), node.into_json()))
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parsed(input: &str) -> Value {
        Value::Object(parse(input.as_bytes()).expect("valid UTF-8"))
    }

    #[test]
    fn flat_pairs() {
        assert_eq!(
            parsed("CHAT_ID=2043&ACTIVATE=N"),
            json!({"CHAT_ID": "2043", "ACTIVATE": "N"})
        );
    }

    #[test]
    fn empty_input_and_empty_segments() {
        assert_eq!(parsed(""), json!({}));
        assert_eq!(parsed("&&a=1&&"), json!({"a": "1"}));
    }

    #[test]
    fn pair_without_equals_is_empty_string() {
        assert_eq!(parsed("flag&x="), json!({"flag": "", "x": ""}));
    }

    #[test]
    fn empty_name_is_ignored() {
        assert_eq!(parsed("=x&[a]=1&a=2"), json!({"a": "2"}));
    }

    #[test]
    fn plus_is_space_and_percent_decodes() {
        assert_eq!(
            parsed("TITLE=John+%26+Martin&Q=100%25"),
            json!({"TITLE": "John & Martin", "Q": "100%"})
        );
    }

    #[test]
    fn encoded_plus_stays_plus() {
        assert_eq!(parsed("phone=%2B1234"), json!({"phone": "+1234"}));
    }

    #[test]
    fn malformed_percent_is_kept() {
        assert_eq!(
            parsed("a=%zz&b=50%&c=%4"),
            json!({"a": "%zz", "b": "50%", "c": "%4"})
        );
    }

    #[test]
    fn unicode_raw_and_encoded() {
        assert_eq!(
            parsed("name=%D0%98%D0%B2%D0%B0%D0%BD&city=Zürich&emoji=%F0%9F%98%80"),
            json!({"name": "Иван", "city": "Zürich", "emoji": "😀"})
        );
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        assert_eq!(parse(b"a=%FF%FE"), Err(NotUtf8));
        assert_eq!(parse(b"%C3=1"), Err(NotUtf8));
        assert_eq!(parse(&[b'a', b'=', 0xff]), Err(NotUtf8));
    }

    #[test]
    fn nested_keys() {
        assert_eq!(
            parsed("FIELDS[TITLE]=x&A[B][C]=1&A[B][D]=2"),
            json!({"FIELDS": {"TITLE": "x"}, "A": {"B": {"C": "1", "D": "2"}}})
        );
    }

    #[test]
    fn encoded_brackets_nest_too() {
        assert_eq!(parsed("a%5Bb%5D=1"), json!({"a": {"b": "1"}}));
    }

    #[test]
    fn appended_list() {
        assert_eq!(parsed("ID[]=1&ID[]=2"), json!({"ID": ["1", "2"]}));
    }

    #[test]
    fn indexed_list_in_order_is_array() {
        assert_eq!(parsed("ID[0]=1&ID[1]=2"), json!({"ID": ["1", "2"]}));
    }

    #[test]
    fn indexed_out_of_order_is_object() {
        assert_eq!(
            parsed("ID[1]=a&ID[0]=b"),
            json!({"ID": {"1": "a", "0": "b"}})
        );
    }

    #[test]
    fn append_continues_after_largest_integer_key() {
        assert_eq!(
            parsed("ID[]=a&ID[5]=b&ID[]=c"),
            json!({"ID": {"0": "a", "5": "b", "6": "c"}})
        );
    }

    #[test]
    fn leading_zero_key_is_a_string() {
        assert_eq!(parsed("ID[00]=a"), json!({"ID": {"00": "a"}}));
        assert_eq!(
            parsed("ID[0]=a&ID[01]=b"),
            json!({"ID": {"0": "a", "01": "b"}})
        );
    }

    #[test]
    fn list_of_objects() {
        assert_eq!(
            parsed("fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK&fields[PHONE][1][VALUE]=555"),
            json!({"fields": {"PHONE": [{"VALUE": "112233", "VALUE_TYPE": "WORK"}, {"VALUE": "555"}]}})
        );
    }

    #[test]
    fn appended_nested_arrays() {
        assert_eq!(
            parsed("a[][x]=1&a[][x]=2"),
            json!({"a": [{"x": "1"}, {"x": "2"}]})
        );
    }

    #[test]
    fn positional_parameters() {
        assert_eq!(
            parsed("0=123&1[POST_MESSAGE]=test"),
            json!({"0": "123", "1": {"POST_MESSAGE": "test"}})
        );
    }

    #[test]
    fn dots_and_spaces_in_the_name_become_underscores() {
        assert_eq!(
            parsed("fields.title=1&my+name=2&%20%20lead=3&a.b[c.d]=4"),
            json!({"fields_title": "1", "my_name": "2", "lead": "3", "a_b": {"c.d": "4"}})
        );
    }

    #[test]
    fn unclosed_first_bracket_is_part_of_the_name() {
        assert_eq!(parsed("a[b=1"), json!({"a_b": "1"}));
        assert_eq!(parsed("a[b.c[d=1"), json!({"a_b_c_d": "1"}));
    }

    #[test]
    fn unclosed_deeper_bracket_is_dropped() {
        assert_eq!(parsed("a[b][c=1"), json!({"a": {"b": "1"}}));
    }

    #[test]
    fn text_after_closing_bracket_is_ignored() {
        assert_eq!(parsed("a[b]x=1"), json!({"a": {"b": "1"}}));
        assert_eq!(parsed("a[b]x[c]=1"), json!({"a": {"b": "1"}}));
    }

    #[test]
    fn later_pairs_overwrite() {
        assert_eq!(parsed("a=1&a=2"), json!({"a": "2"}));
        assert_eq!(parsed("a=1&a[b]=2"), json!({"a": {"b": "2"}}));
        assert_eq!(parsed("a[b]=2&a=1"), json!({"a": "1"}));
        assert_eq!(parsed("a[b]=1&a[b][c]=2"), json!({"a": {"b": {"c": "2"}}}));
    }

    #[test]
    fn nul_ends_the_name() {
        assert_eq!(parsed("ab%00cd=1"), json!({"ab": "1"}));
    }

    #[test]
    fn value_may_contain_equals_and_brackets() {
        assert_eq!(parsed("q=a=b[c]"), json!({"q": "a=b[c]"}));
    }

    #[test]
    fn too_deep_nesting_drops_the_variable() {
        let ok = format!("keep=1&a{}=x", "[k]".repeat(64));
        let parsed_ok = parsed(&ok);
        assert_eq!(parsed_ok["keep"], "1");
        assert!(parsed_ok.get("a").is_some());

        let deep = format!("keep=1&a[k]=y&a{}=x", "[k]".repeat(65));
        assert_eq!(parsed(&deep), json!({"keep": "1"}));
    }

    #[test]
    fn url_decode_raw_keeps_plus() {
        assert_eq!(url_decode(b"a+b%20c", false), b"a+b c".to_vec());
        assert_eq!(url_decode(b"a+b%20c", true), b"a b c".to_vec());
    }
}
