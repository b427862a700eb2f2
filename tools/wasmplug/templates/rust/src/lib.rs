//! {{name}} — a wasmplug transform plugin (scaffolded by `wasmplug new`).
//!
//! Adds `"tagged_by":"{{name}}"` to every JSON object it is given:
//!
//! ```text
//! {"user":"ann","action":"login"}  ->  {"user":"ann","action":"login","tagged_by":"{{name}}"}
//! ```
//!
//! A blank record is dropped; a record that is not a JSON object fails the
//! call (the host reports GuestError with the message below). Replace the
//! body of `tag` with your own transform: the SDK reference is the doc
//! comment of `wasmplug-sdk/src/lib.rs` and wasmplug's
//! docs/writing-plugins/rust.md.

const TAG: &[u8] = br#""tagged_by":"{{name}}""#;

pub fn tag(input: &[u8]) -> Result<Option<Vec<u8>>, &'static str> {
    let text = input.trim_ascii();
    if text.is_empty() {
        return Ok(None); // dropped
    }
    if text.len() < 2 || text[0] != b'{' || text[text.len() - 1] != b'}' {
        return Err("record is not a JSON object");
    }
    // Everything before the closing brace, without trailing blanks.
    let body = text[..text.len() - 1].trim_ascii_end();
    let mut out = Vec::with_capacity(text.len() + TAG.len() + 1);
    out.extend_from_slice(body);
    if body.len() > 1 {
        out.push(b','); // the object had members
    }
    out.extend_from_slice(TAG);
    out.push(b'}');
    Ok(Some(out))
}

wasmplug::export_transform!(tag);

// Optional: the SDK's bump allocator makes a fresh call (a new instance per
// call, the default isolation) about 3x cheaper than Rust's default allocator.
// Use it only while no heap allocation outlives a call (no caches or growing
// collections in statics), or a warm instance grows to its memory limit.
// #[global_allocator]
// static ALLOC: wasmplug::FreshAlloc = wasmplug::FreshAlloc;

#[cfg(test)]
mod tests {
    #[test]
    fn tags_objects() {
        assert_eq!(super::tag(b"{ }").unwrap().unwrap(), br#"{"tagged_by":"{{name}}"}"#);
        assert_eq!(super::tag(b"  ").unwrap(), None);
        assert!(super::tag(b"[1]").is_err());
    }
}
