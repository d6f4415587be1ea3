//! One docs page → a [`Method`], an [`Event`], or the reason it is neither.
//!
//! The rules are general (no page is named here):
//! - a page is an **event** page when a directory of its path starts with `events` or its title
//!   ends with an `on…` word; its name is the `event` of its JSON example, else that title word;
//! - a page is a **method** page when it has `> Scope:` or a parameters section (index pages
//!   excluded); its name is the dotted word of its title, else the method of its cURL URL;
//! - parameters: the first table of the first `##` section whose title says "parameter" (or,
//!   without one, the first table above the first `##` whose header starts "Parameter"/"Name");
//! - the result: the `result` row of the first table after a "Returned Data" heading (or, without
//!   such a row, that table's rows are the result's fields);
//! - nested objects: the table under the heading a type links to (`[object](#anchor)`), or a
//!   description links to, or whose title names the field (`### Parameter fields`), in the same
//!   section; `a.b` rows nest under `a`;
//! - errors: the rows of every table with a "Code" column in a section about errors;
//! - examples: cURL `-d '…'` bodies; JSON blocks with `result` (success) or `error` (errors).

use serde_json::Value;

use crate::schema::{ErrorDoc, Event, Examples, Field, Method};
use crate::yfm::{self, Block, Table};

/// What a page is.
#[derive(Debug)]
pub enum Page {
    Method(Method),
    Event(Event),
    /// Neither a method nor an event page (overviews, guides): not counted.
    Other,
    /// A method page that could not be used, with the reason.
    Skipped(String),
    /// An event page that could not be used, with the reason.
    SkippedEvent(String),
}

/// The deepest nesting of sub-tables followed.
const MAX_DEPTH: usize = 8;

/// A table with where it stands.
struct Placed<'a> {
    table: &'a Table,
    /// Index of its `##` section.
    section: usize,
    /// The nearest heading above it (text, anchor).
    heading: Option<(&'a str, Option<&'a str>)>,
    /// Whether it comes right after its heading (first table under it).
    first_under_heading: bool,
}

struct Ctx<'a> {
    tables: Vec<Placed<'a>>,
    sections: Vec<String>,
}

/// Parses one page; `path` is relative to the docs root (`api-reference/…`).
pub fn page(path: &str, text: &str) -> Page {
    let blocks = yfm::blocks(text);
    let title = blocks
        .iter()
        .find_map(|b| match b {
            Block::Heading { level: 1, text, .. } => Some(yfm::plain(text)),
            _ => None,
        })
        .unwrap_or_default();
    let file = path.rsplit('/').next().unwrap_or(path);
    let scopes = scopes(text);
    let ctx = context(&blocks);
    let examples = json_examples(&blocks);

    // A page under `events/` whose title names a dotted method (`event.bind`, `event.offline.get`)
    // documents a method about events, not an event.
    // (Dotted event names have an `on` part: `CATALOG.PRODUCT.ON.ADD`.)
    let names_method = title_word(&title).is_some_and(|w| {
        w.contains('.')
            && !w
                .split('.')
                .any(|part| part.eq_ignore_ascii_case("on") || is_event_word(part))
    });
    let is_event = (path
        .split('/')
        .rev()
        .skip(1)
        .any(|d| d.starts_with("events"))
        && !names_method)
        || title_word(&title).is_some_and(|w| is_event_word(&w));
    if is_event {
        if file == "index.md" {
            return Page::Other;
        }
        let from_example = examples.iter().find_map(|v| {
            v.get("event")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        });
        let Some(name) = from_example.or_else(|| title_word(&title).filter(|w| is_event_word(w)))
        else {
            return Page::SkippedEvent(
                "event page without an event name (title word or example `event`)".into(),
            );
        };
        let payload = ctx
            .section_tables(|s| {
                let s = s.to_lowercase();
                s.contains("handler") || s.contains("receive") || s.contains("event parameters")
            })
            .first()
            .map(|i| ctx.fields(*i, 0, &mut Vec::new()))
            .unwrap_or_default();
        return Page::Event(Event {
            name,
            scopes,
            docs_path: path.to_owned(),
            title,
            description: description(&blocks),
            deprecated: deprecated(path, &blocks),
            payload,
            examples: examples
                .into_iter()
                .filter(|v| v.get("event").is_some() || v.get("data").is_some())
                .collect(),
        });
    }

    let has_params = ctx.sections.iter().any(|s| is_params_section(s));
    if file == "index.md" || (scopes.is_empty() && !has_params) {
        return Page::Other;
    }
    let curls = curl_calls(&blocks);
    let name = title_word(&title)
        .filter(|w| w.contains('.'))
        .or_else(|| curls.iter().find_map(|(url, _)| method_of_url(url)));
    let Some(name) = name else {
        return Page::Skipped(
            "no method name: no dotted word in the title and no cURL call".to_owned(),
        );
    };
    if !valid_method_name(&name) {
        return Page::Skipped(format!("`{name}` is not a method name"));
    }
    let rest_version = if text.contains("belongs to REST 3.0")
        || curls.iter().any(|(url, _)| url.contains("/rest/api/"))
    {
        3
    } else {
        2
    };

    let params = ctx
        .section_tables(is_params_section)
        .first()
        .copied()
        .or_else(|| ctx.preamble_params())
        .map(|i| ctx.fields(i, 0, &mut Vec::new()))
        .unwrap_or_default();
    let result = ctx.result();
    let errors = ctx.errors();

    let mut requests: Vec<Value> = Vec::new();
    for (_, body) in curls {
        if let Some(Value::Object(mut map)) = body {
            map.remove("auth");
            let value = Value::Object(map);
            if !requests.contains(&value) {
                requests.push(value);
            }
        }
    }
    let mut success = Vec::new();
    let mut error_examples = Vec::new();
    for v in examples {
        if v.get("result").is_some() {
            push_unique(&mut success, v);
        } else if v.get("error").is_some() {
            push_unique(&mut error_examples, v);
        }
    }

    Page::Method(Method {
        name,
        rest_version,
        scopes,
        docs_path: path.to_owned(),
        title,
        description: description(&blocks),
        deprecated: deprecated(path, &blocks),
        params,
        result,
        errors,
        examples: Examples {
            requests,
            success,
            errors: error_examples,
        },
    })
}

fn push_unique(list: &mut Vec<Value>, v: Value) {
    if !list.contains(&v) {
        list.push(v);
    }
}

fn is_params_section(s: &str) -> bool {
    let s = s.to_lowercase();
    s.contains("parameter") && !s.contains("handler") && !s.contains("subscription")
}

/// The scopes of the `> Scope:` line: the backticked words.
fn scopes(text: &str) -> Vec<String> {
    let Some(line) = text
        .lines()
        .find(|l| l.trim_start().starts_with("> Scope:"))
    else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for (i, part) in line.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        for word in part.split(',').map(str::trim) {
            let ok = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
            if ok && !out.iter().any(|w| w == word) {
                out.push(word.to_owned());
            }
        }
    }
    out
}

/// The last word of the title that looks like an identifier (dotted or not).
fn title_word(title: &str) -> Option<String> {
    title
        .split_whitespace()
        .rev()
        .map(|w| w.trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .find(|w| {
            w.contains('.')
                || (w.len() > 2
                    && w.starts_with(|c: char| c.is_ascii_alphabetic())
                    && w.chars().any(|c| c.is_ascii_uppercase())
                    && w.chars().skip(1).any(|c| c.is_ascii_lowercase())
                    && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        })
        .filter(|w| valid_method_name(w))
        .map(str::to_owned)
}

fn is_event_word(w: &str) -> bool {
    let lower = w.to_ascii_lowercase();
    lower.starts_with("on") && w.len() > 3 && !w.contains('.') && {
        let third = w.chars().nth(2).unwrap_or('x');
        third.is_ascii_uppercase() || w.chars().all(|c| !c.is_ascii_lowercase())
    }
}

fn valid_method_name(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.split('.').all(|s| !s.is_empty())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The method a REST URL calls: its last path segment, without `.json`.
fn method_of_url(url: &str) -> Option<String> {
    let last = url.trim_end_matches('/').rsplit('/').next()?;
    let last = last.split('?').next()?;
    let last = last.strip_suffix(".json").unwrap_or(last);
    (url.contains("/rest/") && valid_method_name(last)).then(|| last.to_owned())
}

/// Every cURL call of the page: its URL and its `-d` body when it is JSON.
fn curl_calls(blocks: &[Block]) -> Vec<(String, Option<Value>)> {
    let mut out = Vec::new();
    for b in blocks {
        let Block::Code { text, .. } = b else {
            continue;
        };
        if !text.contains("curl") {
            continue;
        }
        let url = text
            .split_whitespace()
            .rev()
            .find(|w| w.contains("http") || w.contains("/rest/"))
            .map(|w| w.trim_matches(|c| c == '\'' || c == '"').to_owned())
            .unwrap_or_default();
        let body = text.find("-d '").and_then(|start| {
            let rest = &text[start + 4..];
            let end = rest.find("' ").or_else(|| rest.rfind('\''))?;
            serde_json::from_str::<Value>(&rest[..end]).ok()
        });
        out.push((url, body));
    }
    out
}

/// Every JSON code block that parses, in page order.
fn json_examples(blocks: &[Block]) -> Vec<Value> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::Code { lang, text } if lang.starts_with("json") || lang.is_empty() => {
                serde_json::from_str::<Value>(text)
                    .ok()
                    .filter(Value::is_object)
            }
            _ => None,
        })
        .collect()
}

/// The first paragraph outside notes and quotes, after the title.
fn description(blocks: &[Block]) -> String {
    let mut in_note = 0usize;
    for b in blocks.iter().skip(1) {
        match b {
            Block::NoteStart { .. } => in_note += 1,
            Block::NoteEnd => in_note = in_note.saturating_sub(1),
            Block::Heading { level, .. } if *level >= 2 => break,
            Block::Para(p) if in_note == 0 && !p.starts_with('>') => return yfm::plain(p),
            _ => {}
        }
    }
    String::new()
}

/// The text of a `DEPRECATED` note, or a note for pages under an `outdated` directory.
fn deprecated(path: &str, blocks: &[Block]) -> Option<String> {
    let mut inside = false;
    let mut text: Vec<String> = Vec::new();
    for b in blocks {
        match b {
            Block::NoteStart { title } if title.to_lowercase().contains("deprecated") => {
                inside = true
            }
            Block::NoteEnd if inside => {
                let note = text.join(" ");
                return Some(if note.is_empty() {
                    "Deprecated.".to_owned()
                } else {
                    note
                });
            }
            Block::Para(p) if inside => text.push(yfm::plain(p)),
            _ => {}
        }
    }
    path.split('/')
        .any(|d| d == "outdated")
        .then(|| "The page is in the docs' `outdated` section.".to_owned())
}

fn context(blocks: &[Block]) -> Ctx<'_> {
    let mut tables = Vec::new();
    let mut sections = vec![String::new()];
    let mut heading: Option<(&str, Option<&str>)> = None;
    let mut first = false;
    for b in blocks {
        match b {
            Block::Heading {
                level,
                text,
                anchor,
            } => {
                if *level <= 2 {
                    sections.push(text.clone());
                }
                heading = Some((text.as_str(), anchor.as_deref()));
                first = true;
            }
            Block::Table(t) => {
                tables.push(Placed {
                    table: t,
                    section: sections.len() - 1,
                    heading,
                    first_under_heading: first,
                });
                first = false;
            }
            _ => {}
        }
    }
    Ctx { tables, sections }
}

/// A row's first cell: name, type, required, and the anchor its type links to.
struct Head {
    name: String,
    ty: String,
    required: bool,
    anchor: Option<String>,
}

fn row_head(cell: &str) -> Option<Head> {
    let cell = &cell.replacen("^*^", "*", 1);
    let (name, required, rest) = if let Some(start) = cell.find("**") {
        let after = &cell[start + 2..];
        let end = after.find("**")?;
        let name = &after[..end];
        let rest = &after[end + 2..];
        let required = rest.starts_with('*');
        (name.to_owned(), required, rest.trim_start_matches('*'))
    } else {
        let mut lines = cell.splitn(2, '\n');
        let first = lines.next()?.to_owned();
        (first, false, lines.next().unwrap_or(""))
    };
    let name = name
        .replace(['`', '\\'], "")
        .trim()
        .trim_end_matches('*')
        .trim()
        .to_owned();
    if name.is_empty() {
        return None;
    }
    let anchor = link_anchor(rest);
    let ty = yfm::plain(rest).replace('`', "").trim().to_owned();
    Some(Head {
        name,
        ty,
        required,
        anchor,
    })
}

/// The first in-page anchor a text links to (`](#anchor)`).
fn link_anchor(text: &str) -> Option<String> {
    let start = text.find("](#")?;
    let rest = &text[start + 3..];
    let end = rest.find(')')?;
    Some(rest[..end].trim().to_owned()).filter(|a| !a.is_empty())
}

/// The words a heading names a table by: its anchor, its text and its words without the usual
/// filler ("Parameter fields" → `fields`).
fn heading_keys(text: &str, anchor: Option<&str>) -> Vec<String> {
    const FILLER: &[&str] = &[
        "parameter",
        "parameters",
        "object",
        "type",
        "the",
        "of",
        "structure",
        "field",
        "description",
        "array",
        "element",
        "elements",
    ];
    let plain = yfm::plain(text).replace('`', "");
    let mut keys: Vec<String> = anchor.map(|a| a.to_lowercase()).into_iter().collect();
    keys.push(plain.to_lowercase());
    let words: Vec<String> = plain
        .split_whitespace()
        .map(|w| w.to_lowercase())
        .filter(|w| !FILLER.contains(&w.as_str()))
        .collect();
    if words.len() == 1 {
        keys.push(words[0].clone());
    }
    keys
}

fn base_type(ty: &str) -> String {
    ty.split('|')
        .next()
        .unwrap_or("")
        .trim()
        .trim_end_matches("[]")
        .to_lowercase()
}

impl<'a> Ctx<'a> {
    /// Indices of the tables in `##` sections whose title satisfies `pick`.
    fn section_tables(&self, pick: impl Fn(&str) -> bool) -> Vec<usize> {
        let Some(section) = self.sections.iter().position(|s| pick(s)) else {
            return Vec::new();
        };
        (0..self.tables.len())
            .filter(|i| self.tables[*i].section == section)
            .collect()
    }

    /// Without a parameters section: the first table above the first `##` heading whose header
    /// starts with "Parameter" or "Name".
    fn preamble_params(&self) -> Option<usize> {
        (0..self.tables.len()).find(|i| {
            let t = &self.tables[*i];
            t.section <= 1
                && t.table
                    .rows
                    .first()
                    .and_then(|r| r.first())
                    .is_some_and(|h| {
                        let h = yfm::plain(h).to_lowercase();
                        h.starts_with("parameter") || h.starts_with("name")
                    })
        })
    }

    /// The fields of table `index`, with their nested objects.
    fn fields(&self, index: usize, depth: usize, path: &mut Vec<usize>) -> Vec<Field> {
        let table = self.tables[index].table;
        path.push(index);
        let header: Vec<String> = table
            .rows
            .first()
            .map(|r| r.iter().map(|h| yfm::plain(h).to_lowercase()).collect())
            .unwrap_or_default();
        let type_col = (1..header.len()).find(|i| header[*i].trim() == "type");
        let desc_col = header
            .iter()
            .position(|h| h.contains("description"))
            .unwrap_or(header.len().saturating_sub(1).max(1));
        let mut out: Vec<Field> = Vec::new();
        for row in table.rows.iter().skip(1) {
            let Some(mut head) = row.first().and_then(|c| row_head(c)) else {
                continue;
            };
            if let Some(cell) = type_col.and_then(|c| row.get(c)) {
                head.anchor = link_anchor(cell);
                head.ty = yfm::plain(cell).replace('`', "").trim().to_owned();
            }
            let description = row.get(desc_col).map(|d| yfm::plain(d)).unwrap_or_default();
            let desc_anchor = row.get(desc_col).and_then(|d| link_anchor(d));
            let mut field = Field {
                name: head.name,
                ty: head.ty,
                required: head.required,
                description,
                fields: Vec::new(),
            };
            if depth < MAX_DEPTH {
                if let Some(sub) = self.nested(index, &field, head.anchor, desc_anchor, path) {
                    field.fields = self.fields(sub, depth + 1, path);
                }
            }
            // `a.b` rows nest under `a`.
            if let Some((parent, child)) = field.name.rsplit_once('.') {
                if let Some(p) = find_path(&mut out, parent) {
                    field.name = child.to_owned();
                    p.fields.push(field);
                    continue;
                }
            }
            out.push(field);
        }
        path.pop();
        out
    }

    /// The table describing the fields of `field`, if the page has one.
    fn nested(
        &self,
        from: usize,
        field: &Field,
        type_anchor: Option<String>,
        desc_anchor: Option<String>,
        path: &[usize],
    ) -> Option<usize> {
        let usable = |i: &usize| !path.contains(i) && self.tables[*i].first_under_heading;
        for anchor in [type_anchor, desc_anchor].into_iter().flatten() {
            let anchor = anchor.to_lowercase();
            if let Some(i) = (0..self.tables.len()).filter(usable).find(|i| {
                self.tables[*i]
                    .heading
                    .and_then(|(_, a)| a)
                    .is_some_and(|a| a.to_lowercase() == anchor)
            }) {
                return Some(i);
            }
        }
        let base = base_type(&field.ty);
        let objectish = matches!(base.as_str(), "object" | "array") || base.ends_with("object");
        if !objectish {
            return None;
        }
        let name = field
            .name
            .rsplit('.')
            .next()
            .unwrap_or(&field.name)
            .to_lowercase();
        let section = self.tables[from].section;
        (0..self.tables.len())
            .filter(usable)
            .filter(|i| self.tables[*i].section == section && *i != from)
            .find(|i| {
                self.tables[*i]
                    .heading
                    .is_some_and(|(t, a)| heading_keys(t, a).contains(&name))
            })
    }

    /// `result` from the first table after a "Returned Data" heading.
    fn result(&self) -> Option<Field> {
        let index = (0..self.tables.len()).find(|i| {
            self.tables[*i]
                .heading
                .is_some_and(|(t, _)| t.to_lowercase().contains("returned data"))
        })?;
        let fields = self.fields(index, 0, &mut Vec::new());
        if let Some(result) = fields.iter().find(|f| f.name == "result") {
            return Some(result.clone());
        }
        let rest: Vec<Field> = fields
            .into_iter()
            .filter(|f| !matches!(f.name.as_str(), "time" | "next" | "total"))
            .collect();
        (!rest.is_empty()).then(|| Field {
            name: "result".to_owned(),
            ty: "object".to_owned(),
            required: false,
            description: String::new(),
            fields: rest,
        })
    }

    /// The rows of every error table: tables with a "Code" column in sections about errors.
    fn errors(&self) -> Vec<ErrorDoc> {
        let mut out: Vec<ErrorDoc> = Vec::new();
        for placed in &self.tables {
            let section = self.sections[placed.section].to_lowercase();
            if !section.contains("error") {
                continue;
            }
            let Some(header) = placed.table.rows.first() else {
                continue;
            };
            let col = |word: &str| {
                header
                    .iter()
                    .position(|h| yfm::plain(h).to_lowercase().contains(word))
            };
            let Some(code_col) = col("code") else {
                continue;
            };
            let status_col = col("status");
            let desc_col = col("description")
                .or_else(|| col("message"))
                .or_else(|| col("reason"));
            for row in placed.table.rows.iter().skip(1) {
                let Some(raw) = row.get(code_col) else {
                    continue;
                };
                let code = yfm::plain(raw).replace('`', "").trim().to_owned();
                let code_ok = !code.is_empty()
                    && code
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
                if !code_ok {
                    continue;
                }
                let status = status_col
                    .and_then(|c| row.get(c))
                    .and_then(|s| yfm::plain(s).replace('`', "").trim().parse::<u16>().ok())
                    .filter(|s| (100..=599).contains(s));
                let description = desc_col
                    .and_then(|c| row.get(c))
                    .map(|d| yfm::plain(d))
                    .unwrap_or_default();
                if !out.iter().any(|e| e.code == code && e.status == status) {
                    out.push(ErrorDoc {
                        code,
                        status,
                        description,
                    });
                }
            }
        }
        out
    }
}

/// The field at dotted `path` among `fields`.
fn find_path<'f>(fields: &'f mut [Field], path: &str) -> Option<&'f mut Field> {
    let mut parts = path.split('.');
    let first = parts.next()?;
    let mut cur = fields.iter_mut().find(|f| f.name == first)?;
    for part in parts {
        cur = cur.fields.iter_mut().find(|f| f.name == part)?;
    }
    Some(cur)
}
