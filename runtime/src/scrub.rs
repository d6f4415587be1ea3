//! The one step every string from the server takes on its way into an error, a `Debug`/`Display`
//! or a log: secrets redacted, then cut to a bound.
//!
//! A portal (or a man in the middle) may echo the webhook code or a token in any string it sends
//! back (an error code, a description, a map key a decode error quotes), and may send megabytes
//! where a few bytes are expected. [`scrub`] copies only a window of the text, replaces the
//! client's secrets in it, and cuts the result to the limit at a character boundary, with `…`.
//! Redaction comes before the cut, so that a secret across the cut leaves no prefix behind.

/// Replaces the secrets a client holds by `***` (the client's `redact`).
pub(crate) type Redact<'a> = &'a dyn Fn(String) -> String;

/// The shortest start of a secret redacted at the very end of a text (a body cut short, a
/// window cut in the middle of a secret).
const PARTIAL_MIN: usize = 6;

/// `text` with every occurrence of each of `secrets` replaced by `***`, and a start of one of
/// them (at least [`PARTIAL_MIN`] bytes) at the very end of `text` too: a body cut short in
/// the middle of an echoed secret must not leave its first half behind. The client's `redact`.
pub(crate) fn redact_secrets<S: AsRef<str>>(
    mut text: String,
    secrets: impl IntoIterator<Item = S>,
) -> String {
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.is_empty() {
            continue;
        }
        if text.contains(secret) {
            text = text.replace(secret, "***");
        }
        let partial = secret
            .char_indices()
            .map(|(i, _)| i)
            .filter(|&i| i >= PARTIAL_MIN.min(secret.len()))
            .rev()
            .find(|&i| text.ends_with(&secret[..i]));
        if let Some(len) = partial {
            text.truncate(text.len() - len);
            text.push_str("***");
        }
    }
    text
}

/// How much text past the limit is redacted before the cut: more than any secret is long, so
/// that a secret that starts before the limit is seen whole.
pub(crate) const SECRET_WINDOW: usize = 4096;

/// The mark left where text was cut.
const MARK: &str = "…";

/// `text` with its secrets redacted and cut to at most `limit` bytes. See the [module docs](self).
pub(crate) fn scrub(text: &str, limit: usize, redact: Redact<'_>) -> String {
    let window = &text[..floor_char_boundary(text, limit.saturating_add(SECRET_WINDOW))];
    cut(redact(window.to_owned()), limit)
}

/// [`scrub`] for bytes that may not be UTF-8 (invalid sequences are replaced).
pub(crate) fn scrub_bytes(bytes: &[u8], limit: usize, redact: Redact<'_>) -> String {
    let window = &bytes[..bytes.len().min(limit.saturating_add(SECRET_WINDOW))];
    cut(redact(String::from_utf8_lossy(window).into_owned()), limit)
}

/// `text` cut to at most `limit` bytes at a character boundary, ending in `…` if it was cut.
/// For text that holds no secret (or was redacted already).
pub(crate) fn cut(mut text: String, limit: usize) -> String {
    if text.len() > limit {
        let end = floor_char_boundary(&text, limit.saturating_sub(MARK.len()));
        text.truncate(end);
        if limit >= MARK.len() {
            text.push_str(MARK);
        }
    }
    text
}

/// The largest index `<= at` that is a character boundary of `text`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    let mut at = at;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hide(s: String) -> String {
        s.replace("s3cret", "***")
    }

    #[test]
    fn redacts_then_cuts_at_a_char_boundary() {
        assert_eq!(scrub("a s3cret b", 100, &hide), "a *** b");
        let long = "é".repeat(1000);
        let short = scrub(&long, 101, &hide);
        assert!(
            short.len() <= 101 && short.ends_with('…'),
            "{}",
            short.len()
        );
        // A secret across the limit leaves no prefix.
        let across = format!("{}s3cret{}", "x".repeat(94), "y".repeat(50));
        let short = scrub(&across, 100, &hide);
        assert!(!short.contains("s3c"), "{short}");
        // Megabytes in, the limit out.
        let huge = "s3cret".repeat(1 << 20);
        let short = scrub(&huge, 256, &hide);
        assert!(short.len() <= 256 && !short.contains("s3c"));
        assert_eq!(scrub_bytes(b"\xff s3cret", 100, &hide), "\u{fffd} ***");
        assert_eq!(cut("abc".into(), 0), "");
    }

    #[test]
    fn secrets_and_their_start_at_the_end_are_redacted() {
        let secrets = ["s3cretc0de", ""];
        for (text, redacted) in [
            ("a s3cretc0de b s3cretc0de", "a *** b ***"),
            ("cut short: s3cret", "cut short: ***"),
            ("cut short: s3cretc0d", "cut short: ***"),
            ("too short to tell: s3cre", "too short to tell: s3cre"),
            ("s3cret in the middle", "s3cret in the middle"),
        ] {
            assert_eq!(redact_secrets(text.into(), secrets), redacted, "{text}");
        }
    }
}
