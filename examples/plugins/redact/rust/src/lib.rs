//! redact — masks credit-card-like digit runs and e-mail addresses inside
//! JSON string values (keys are left alone). The same logic as
//! `examples/plugins/redact/redact.c`, byte for byte the same output.
//!
//! ```text
//! {"user":"ann@example.com","card":"4111 1111 1111 1111"}
//! -> {"user":"[email]","card":"************1111"}
//! ```
//!
//! A digit run of 13..19 digits (spaces and dashes between digits allowed)
//! keeps its last four digits. An e-mail is local@domain.tld. Input that is
//! not a JSON text is passed through byte for byte.

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

fn is_email_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+')
}

/// Length of a card-like run at the start of `s` (which starts with a digit)
/// and its digit count; the length is 0 if it is not a card number.
fn card_run(s: &[u8]) -> (usize, usize) {
    let (mut i, mut digits, mut end) = (0, 0, 0);
    while i < s.len() {
        if is_digit(s[i]) {
            digits += 1;
            i += 1;
            end = i;
        } else if (s[i] == b' ' || s[i] == b'-') && i + 1 < s.len() && is_digit(s[i + 1]) {
            i += 1;
        } else {
            break;
        }
    }
    (if (13..=19).contains(&digits) { end } else { 0 }, digits)
}

/// Length of an e-mail at the start of `s`, or 0.
fn email_len(s: &[u8]) -> usize {
    let n = s.len();
    let mut at = 0;
    while at < n && is_email_char(s[at]) && s[at] != b'.' {
        at += 1;
    }
    while at < n && is_email_char(s[at]) {
        at += 1;
    }
    if at == 0 || at >= n || s[at] != b'@' {
        return 0;
    }
    let (mut i, mut dot) = (at + 1, 0);
    while i < n && is_email_char(s[i]) && s[i] != b'+' && s[i] != b'_' {
        if s[i] == b'.' {
            dot = i;
        }
        i += 1;
    }
    while i > at + 1 && s[i - 1] == b'.' {
        i -= 1; // a trailing dot ends the sentence
    }
    if dot > at + 1 && dot + 2 < i + 1 && i - dot >= 3 {
        i
    } else {
        0
    }
}

/// Copies a string body (without quotes) with redactions.
fn redact_string(s: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'\\' && i + 1 < s.len() {
            out.extend_from_slice(&s[i..i + 2]); // keep escapes intact
            i += 2;
            continue;
        }
        let boundary = i == 0 || !is_email_char(s[i - 1]);
        if boundary && is_digit(s[i]) {
            let (run, digits) = card_run(&s[i..]);
            if run > 0 {
                let mut seen = 0;
                for &c in s[i..i + run].iter().filter(|c| is_digit(**c)) {
                    seen += 1;
                    out.push(if seen + 4 > digits { c } else { b'*' });
                }
                i += run;
                continue;
            }
        }
        let mail = if boundary { email_len(&s[i..]) } else { 0 };
        if mail > 0 {
            out.extend_from_slice(b"[email]");
            i += mail;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
}

/// The transform: every JSON string value redacted, everything else copied.
pub fn redact(input: &[u8]) -> Vec<u8> {
    let len = input.len();
    let mut out = Vec::with_capacity(len + 16);
    let mut i = 0;
    while i < len {
        if input[i] != b'"' {
            out.push(input[i]);
            i += 1;
            continue;
        }
        let mut end = i + 1;
        while end < len && input[end] != b'"' {
            end += if input[end] == b'\\' { 2 } else { 1 };
        }
        if end >= len {
            out.extend_from_slice(&input[i..]); // unterminated string: the rest unchanged
            break;
        }
        let mut next = end + 1;
        while next < len && (input[next] == b' ' || input[next] == b'\t') {
            next += 1;
        }
        let is_key = next < len && input[next] == b':';
        out.push(b'"');
        if is_key {
            out.extend_from_slice(&input[i + 1..end]);
        } else {
            redact_string(&input[i + 1..end], &mut out);
        }
        out.push(b'"');
        i = end + 1;
    }
    out
}

wasmplug::export_transform!(redact);

// No heap allocation outlives a call, so the SDK's bump allocator is safe with
// warm isolation too, and it makes a fresh call about 3x cheaper than Rust's
// default allocator (docs/benchmarks.md).
#[global_allocator]
static ALLOC: wasmplug::FreshAlloc = wasmplug::FreshAlloc;

#[cfg(test)]
mod tests {
    #[test]
    fn masks_cards_and_emails_in_values_only() {
        let out = super::redact(br#"{"user":"ann@example.com","card":"4111 1111 1111 1111"}"#);
        assert_eq!(out, br#"{"user":"[email]","card":"************1111"}"#);
    }
}
