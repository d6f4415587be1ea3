//! A small reader of the docs' YFM markdown: headings, paragraphs, notes, code blocks and
//! `#| … |#` tables, in page order. Only what the schema needs; everything else is skipped.

/// One block of a page, in page order.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// `## Text {#anchor}`.
    Heading {
        level: usize,
        text: String,
        anchor: Option<String>,
    },
    /// Consecutive non-empty text lines.
    Para(String),
    /// A fenced code block with its language tag.
    Code { lang: String, text: String },
    /// A `#| … |#` table: rows of cells, raw markdown.
    Table(Table),
    /// `{% note kind "title" %}`.
    NoteStart { title: String },
    /// `{% endnote %}`.
    NoteEnd,
}

/// A YFM table: its rows, each a list of raw cells (the header row included).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
}

/// Splits a page into blocks.
pub fn blocks(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut para: Vec<&str> = Vec::new();
    let mut i = 0;
    let flush = |para: &mut Vec<&str>, out: &mut Vec<Block>| {
        if !para.is_empty() {
            out.push(Block::Para(para.join("\n")));
            para.clear();
        }
    };
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if let Some(fence) = fence_of(t) {
            flush(&mut para, &mut out);
            let lang = t[fence.len()..].trim().to_owned();
            let mut body = Vec::new();
            i += 1;
            while i < lines.len() && !lines[i].trim().starts_with(fence) {
                body.push(lines[i]);
                i += 1;
            }
            out.push(Block::Code {
                lang,
                text: dedent(&body.join("\n")),
            });
            i += 1;
            continue;
        }
        if t.starts_with("#|") {
            flush(&mut para, &mut out);
            let start = i;
            let mut depth = 0usize;
            let mut in_fence: Option<&str> = None;
            let mut end = lines.len();
            while i < lines.len() {
                let l = lines[i].trim();
                if let Some(f) = in_fence {
                    if l.starts_with(f) {
                        in_fence = None;
                    }
                } else if let Some(f) = fence_of(l) {
                    in_fence = Some(f);
                } else {
                    depth += l.matches("#|").count();
                    depth = depth.saturating_sub(l.matches("|#").count());
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                i += 1;
            }
            let raw = lines[start..end.min(lines.len() - 1) + 1].join("\n");
            out.push(Block::Table(parse_table(&raw)));
            i = end + 1;
            continue;
        }
        if let Some(h) = heading(t) {
            flush(&mut para, &mut out);
            out.push(h);
        } else if t.starts_with("{%") {
            flush(&mut para, &mut out);
            let inner = t.trim_start_matches("{%").trim_end_matches("%}").trim();
            if let Some(rest) = inner.strip_prefix("note") {
                let title = rest
                    .split('"')
                    .nth(1)
                    .map(str::to_owned)
                    .unwrap_or_default();
                out.push(Block::NoteStart { title });
            } else if inner.starts_with("endnote") {
                out.push(Block::NoteEnd);
            }
        } else if t.is_empty() {
            flush(&mut para, &mut out);
        } else {
            para.push(t);
        }
        i += 1;
    }
    flush(&mut para, &mut out);
    out
}

/// The fence a line opens (```` ``` ```` or `~~~`), if it opens one.
fn fence_of(t: &str) -> Option<&'static str> {
    if t.starts_with("```") {
        Some("```")
    } else if t.starts_with("~~~") {
        Some("~~~")
    } else {
        None
    }
}

fn heading(t: &str) -> Option<Block> {
    let level = t.chars().take_while(|c| *c == '#').count();
    if level == 0 || level > 6 || !t[level..].starts_with(' ') {
        return None;
    }
    let mut text = t[level..].trim().to_owned();
    let mut anchor = None;
    if let Some(pos) = text.rfind("{#") {
        if let Some(close) = text[pos..].find('}') {
            anchor = Some(text[pos + 2..pos + close].trim().to_owned());
            text = format!("{}{}", &text[..pos], &text[pos + close + 1..])
                .trim()
                .to_owned();
        }
    }
    Some(Block::Heading {
        level,
        text,
        anchor,
    })
}

/// Removes the common leading whitespace of the non-empty lines.
fn dedent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    s.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses `#| || a | b || … |#`. Rows open and close with `||`, cells are split on `|`;
/// pipes inside code (inline or fenced) and inside nested tables do not count.
pub fn parse_table(raw: &str) -> Table {
    let raw = raw.trim();
    let body = raw
        .strip_prefix("#|")
        .unwrap_or(raw)
        .strip_suffix("|#")
        .unwrap_or(raw);
    let b = body.as_bytes();
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut cell_start = 0usize;
    let mut in_row = false;
    let mut ticks = 0usize; // length of the open backtick run, 0 when outside code
    let mut depth = 0usize; // nested tables
    let mut i = 0usize;
    while i < b.len() {
        let c = b[i];
        if c == b'`' {
            let run = b[i..].iter().take_while(|x| **x == b'`').count();
            if ticks == 0 {
                ticks = run;
            } else if run == ticks {
                ticks = 0;
            }
            i += run;
            continue;
        }
        if ticks > 0 {
            i += 1;
            continue;
        }
        if c == b'\\' {
            i += 2;
            continue;
        }
        if c == b'#' && b.get(i + 1) == Some(&b'|') {
            depth += 1;
            i += 2;
            continue;
        }
        if c == b'|' && b.get(i + 1) == Some(&b'#') && depth > 0 {
            depth -= 1;
            i += 2;
            continue;
        }
        if depth == 0 && c == b'|' {
            if b.get(i + 1) == Some(&b'|') {
                if in_row {
                    row.push(clean_cell(&body[cell_start..i]));
                    rows.push(std::mem::take(&mut row));
                    in_row = false;
                } else {
                    in_row = true;
                }
                i += 2;
                cell_start = i;
                continue;
            }
            if in_row {
                row.push(clean_cell(&body[cell_start..i]));
                cell_start = i + 1;
            }
        }
        i += 1;
    }
    Table { rows }
}

fn clean_cell(s: &str) -> String {
    dedent(s.trim_matches('\n')).trim().to_owned()
}

/// `[text](url)` → `text`, `**x**` → `x`, `\_` → `_`, `{#T}` links dropped, whitespace folded.
pub fn plain(md: &str) -> String {
    let mut out = String::with_capacity(md.len());
    let chars: Vec<char> = md.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '[' {
            // the matching `]`, then `(`
            let mut depth = 0usize;
            let close = chars[i..].iter().position(|x| {
                match x {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    _ => {}
                }
                depth == 0
            });
            if let Some(close) = close {
                let close = i + close;
                if chars.get(close + 1) == Some(&'(') {
                    if let Some(end) = chars[close..].iter().position(|x| *x == ')') {
                        let text: String = chars[i + 1..close].iter().collect();
                        if text != "{#T}" {
                            out.push_str(&text);
                        }
                        i = close + end + 1;
                        continue;
                    }
                }
            }
        }
        if c == '\\' && chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) {
            out.push(chars[i + 1]);
            i += 2;
            continue;
        }
        if c == '*' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            continue;
        }
        out.push(c);
        i += 1;
    }
    let folded: Vec<&str> = out.split_whitespace().collect();
    folded.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_with_code_pipes_and_nested_table() {
        let t = parse_table(
            "#|\n|| **Name**\n`type` | **Description** ||\n|| **A***\n[`string`](x.md) | one ```a | b``` two ||\n|| **B**\n`object` | #|\n|| x | y ||\n|# ||\n|#",
        );
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[1][1], "one ```a | b``` two");
        assert_eq!(t.rows[2][1], "#|\n|| x | y ||\n|#");
    }

    #[test]
    fn plain_text() {
        assert_eq!(
            plain("The **method** [x.y](./a.md) `z`\\_w\n  and"),
            "The method x.y `z`_w and"
        );
    }

    #[test]
    fn headings_and_notes() {
        let b = blocks("# T a.b\n\n{% note warning \"DEPRECATED\" %}\n\nOld.\n\n{% endnote %}\n\n### R {#res}\n");
        assert_eq!(
            b,
            vec![
                Block::Heading {
                    level: 1,
                    text: "T a.b".into(),
                    anchor: None
                },
                Block::NoteStart {
                    title: "DEPRECATED".into()
                },
                Block::Para("Old.".into()),
                Block::NoteEnd,
                Block::Heading {
                    level: 3,
                    text: "R".into(),
                    anchor: Some("res".into())
                },
            ]
        );
    }
}
