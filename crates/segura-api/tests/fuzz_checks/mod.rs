//! Properties checked by the fuzz targets (`fuzz/`) and, on their seeds and crash
//! reproducers, by the regular test suite (`fuzz_regressions.rs`). One file, included by
//! both, so the two can never check different things.

use chrono::Timelike;
use segura_api::{DecoderConfig, Error, ListDecoder, Step};
use segura_model::{
    format_datetime, parse_datetime, parse_optional_datetime, RemoteSession, SessionDuration,
};

type Outcome = (Vec<RemoteSession>, Option<Error>, usize);

fn decode(body: &[u8], mut next_chunk: impl FnMut() -> usize) -> Outcome {
    let config = DecoderConfig::default().max_element_size(64 * 1024);
    let mut d = ListDecoder::with_config(config);
    let mut out = Vec::new();
    let mut pos = 0;
    loop {
        match d.advance() {
            Ok(Step::Session) => out.push(d.take_session()),
            Ok(Step::NeedInput) if pos < body.len() => {
                let end = body.len().min(pos + next_chunk().max(1));
                d.feed(&body[pos..end]);
                pos = end;
            }
            Ok(Step::NeedInput) => d.finish(),
            Ok(Step::Done) => return (out, None, d.buffer_high_water()),
            Err(e) => return (out, Some(e), d.buffer_high_water()),
        }
    }
}

/// The decoder never panics, and splitting the body into random chunks gives the same
/// sessions and the same error as one chunk. The first byte seeds the chunk sizes.
pub fn decoder_chunking(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let (whole, whole_err, _) = decode(body, || body.len());
    let mut state = u32::from(seed) | 1;
    let (parts, parts_err, high_water) = decode(body, || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 97) as usize + 1
    });
    assert_eq!(whole, parts, "sessions differ between one chunk and many");
    assert_eq!(
        whole_err, parts_err,
        "errors differ between one chunk and many"
    );
    // Small chunks: the buffer holds at most one element (64 KiB limit) plus a chunk,
    // or a not-JSON sample.
    assert!(
        high_water <= 64 * 1024 + 2 * 97 + 4096,
        "buffer grew to {high_water}"
    );
    if let Some(Error::InvalidResponse {
        sessions_before, ..
    }) = &whole_err
    {
        assert_eq!(*sessions_before as usize, whole.len());
    }
}

/// Date-time parsing never panics, and what it accepts formats back to itself.
pub fn datetime(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(dt) = parse_datetime(s) {
        let mut buf = [0u8; 19];
        let text = format_datetime(&dt, &mut buf).to_owned();
        let again = parse_datetime(&text).expect("canonical text parses");
        assert_eq!(
            again,
            dt.with_nanosecond(0).expect("zero nanoseconds"),
            "{s:?} -> {text}"
        );
        assert_eq!(parse_optional_datetime(s), Ok(Some(dt)));
    } else {
        let _ = parse_optional_datetime(s);
    }
}

/// Duration parsing never panics, and what it accepts prints back to an equal value.
pub fn duration(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = s.parse::<SessionDuration>() {
        let text = d.to_string();
        assert_eq!(text.parse::<SessionDuration>(), Ok(d), "{s:?} -> {text}");
    }
}

/// Undoes [`segura_api::sanitize`] on text that held no backslash.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let hex: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The sanitiser and the redactor never panic; the sanitiser's output holds no
/// character that must be escaped, leaves text without one unchanged, and (on text
/// without a backslash) can be undone, so two different inputs never look alike; a
/// registered secret never survives redaction. The first byte picks the secret: that
/// many characters from the start of the text.
pub fn sanitize(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let out = segura_api::sanitize(&text);
    assert!(
        !out.chars().any(segura_api::text::needs_escape),
        "{text:?} -> {out:?}"
    );
    let dangerous = text
        .chars()
        .filter(|c| segura_api::text::needs_escape(*c))
        .count();
    if dangerous == 0 {
        assert_eq!(out, text, "text without a control character changed");
    }
    if !text.contains('\\') {
        assert_eq!(
            unescape(&out).as_deref(),
            Some(&*text),
            "{text:?} -> {out:?} cannot be undone"
        );
        assert_eq!(out.matches('\\').count(), dangerous, "{text:?} -> {out:?}");
    }
    // Idempotent: sanitised text is safe already.
    assert_eq!(segura_api::sanitize(&out), out);

    let secret: String = text.chars().take(usize::from(pick % 24)).collect();
    let r = segura_api::Redactor::new();
    r.add(&secret);
    r.add_basic("id", &secret);
    let redacted = r.redact(&text);
    let registered = secret.len() >= segura_api::Redactor::MIN_LEN && secret == secret.trim();
    if registered
        && !secret.contains(['[', ']'])
        && !segura_api::Redactor::MARK.contains(secret.as_str())
    {
        assert!(
            !redacted.contains(secret.as_str()),
            "{secret:?} survives in {redacted:?}"
        );
        assert!(redacted.contains(segura_api::Redactor::MARK));
    }
    let cleaned = r.clean(&text);
    assert!(!cleaned.chars().any(segura_api::text::needs_escape));
}

/// The token-answer parser never panics, and a lifetime it accepts is at most
/// `MAX_TOKEN_LIFETIME`, so that adding it to the clock cannot overflow. The first byte
/// picks the HTTP status (200 or 201), the rest is the body.
pub fn token_answer(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = if pick % 2 == 0 { 200 } else { 201 };
    if let Ok(answer) = segura_api::parse_token_answer(status, body) {
        assert!(!answer.access_token.trim().is_empty(), "an empty token");
        if let Some(lifetime) = answer.expires_in {
            assert!(
                lifetime <= segura_api::MAX_TOKEN_LIFETIME,
                "lifetime {lifetime:?} not clamped"
            );
            assert!(std::time::Instant::now().checked_add(lifetime).is_some());
            assert!(std::time::SystemTime::now().checked_add(lifetime).is_some());
        }
        // `Debug` is the same whatever the token (a short token may well be a substring
        // of the field names, so "does not contain it" would be the wrong check).
        assert_eq!(
            format!("{answer:?}"),
            format!(
                "TokenAnswer {{ access_token: \"[redacted]\", expires_in: {:?} }}",
                answer.expires_in
            )
        );
    }
}
