//! What list methods share (`list-methods-pecularities.md`, `performance/huge-data.md`): pages of
//! [`PAGE_SIZE`] rows, `start` as an offset with `next` and `total` in the answer, and `start=-1`
//! to skip the row count (no `total`, no `next`).

use crate::handlers::CallContext;
use crate::params::Params;

/// Rows per page.
pub const PAGE_SIZE: usize = 50;

/// How a list call pages, from its `start` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// Skip this many rows, and report `total` (and `next` when more rows follow).
    Offset(usize),
    /// `start` < 0: the first page, without counting the rows.
    NoCount,
}

impl Start {
    /// Reads `start` with PHP's `intval`: absent is 0, negative is [`Start::NoCount`].
    pub fn read(params: &Params) -> Self {
        match params.int("start") {
            Some(start) if start < 0 => Start::NoCount,
            Some(start) => Start::Offset(usize::try_from(start).unwrap_or(usize::MAX)),
            None => Start::Offset(0),
        }
    }

    /// The rows to skip.
    pub fn offset(self) -> usize {
        match self {
            Start::Offset(offset) => offset,
            Start::NoCount => 0,
        }
    }

    /// Sets `total` and `next` on the answer for `total` matching rows.
    pub fn report(self, ctx: &mut CallContext<'_>, total: usize) {
        if let Start::Offset(offset) = self {
            ctx.set_total(total as u64);
            if let Some(next) = offset.checked_add(PAGE_SIZE).filter(|next| *next < total) {
                ctx.set_next(next as u64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn start(value: serde_json::Value) -> Start {
        let serde_json::Value::Object(map) = json!({ "start": value }) else {
            return Start::NoCount;
        };
        Start::read(&Params::new(map))
    }

    #[test]
    fn reads_start() {
        assert_eq!(start(json!("-1")), Start::NoCount);
        assert_eq!(start(json!(-5)), Start::NoCount);
        assert_eq!(start(json!("100")), Start::Offset(100));
        assert_eq!(start(json!("abc")), Start::Offset(0));
        assert_eq!(Start::read(&Params::default()), Start::Offset(0));
        assert_eq!(Start::NoCount.offset(), 0);
    }
}
