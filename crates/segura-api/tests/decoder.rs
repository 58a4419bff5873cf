//! The streaming decoder against the documented body, every tolerated variant and every
//! malformed case, each at every chunk size: the result must not depend on how the body
//! was split.

use segura_api::{DecoderConfig, Error, ListDecoder, Step};
use segura_model::{Protocol, Proxy, RemoteSession};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../docs/examples/list-response.json");

type Outcome = (Vec<RemoteSession>, Result<(), Error>);

fn decode_with(body: &[u8], chunk: usize, mut d: ListDecoder) -> Outcome {
    let mut out = Vec::new();
    let mut chunks = body.chunks(chunk.max(1));
    loop {
        match d.advance() {
            Ok(Step::Session) => out.push(d.take_session()),
            Ok(Step::NeedInput) => match chunks.next() {
                Some(c) => d.feed(c),
                None => d.finish(),
            },
            Ok(Step::Done) => return (out, Ok(())),
            Err(e) => return (out, Err(e)),
        }
    }
}

fn decode(body: &[u8], chunk: usize) -> Outcome {
    decode_with(body, chunk, ListDecoder::new())
}

/// Decodes at every chunk size from one byte up and checks they all agree.
fn decode_all_ways(body: &[u8]) -> Outcome {
    let reference = decode(body, body.len());
    let sizes: Vec<usize> = if body.len() <= 3000 {
        (1..=body.len()).collect()
    } else {
        (1..=97).chain([256, 1000, 4096, 65536]).collect()
    };
    for size in sizes {
        let got = decode(body, size);
        assert_eq!(got, reference, "chunk size {size} disagrees with one chunk");
    }
    reference
}

fn ok_sessions(body: &str) -> Vec<RemoteSession> {
    let (sessions, result) = decode_all_ways(body.as_bytes());
    if let Err(e) = result {
        panic!("unexpected error: {e}\nbody: {body}");
    }
    sessions
}

fn err_of(body: &[u8]) -> (usize, Error) {
    let (sessions, result) = decode_all_ways(body);
    match result {
        Err(e) => (sessions.len(), e),
        Ok(()) => panic!("expected an error for {:?}", String::from_utf8_lossy(body)),
    }
}

fn session_json(i: u64) -> String {
    format!(
        r#"{{"id":"{i}","user":"user{i}","origin_ip":"10.0.0.{}","credential":"cred","device":"host:22","protocol":"ssh","proxy":"Terminal Proxy","session_id":"{:040x}","start":"2024-05-06 16:05:07","end":"2024-05-06 16:07:59","time":"00:02:52","prevent_purge":"No","request":null,"ITSM":null}}"#,
        i % 250,
        i
    )
}

fn list_body(n: u64) -> String {
    let items: Vec<String> = (1..=n).map(session_json).collect();
    format!(
        r#"{{"code":200,"response":{{"status":200,"message":"","error":false,"error_code":0,"detail":"","mensagem":"","erro":false,"cod_erro":0}},"tenant":"Segura","remote_sessions":[{}]}}"#,
        items.join(",")
    )
}

#[test]
fn vendor_example_decodes_to_the_two_documented_sessions() {
    let sessions = ok_sessions(EXAMPLE);
    assert_eq!(sessions.len(), 2);
    let s = &sessions[0];
    assert_eq!(s.id.get(), 3);
    assert_eq!(s.user, "Admin");
    assert_eq!(s.origin_ip, "172.16.20.125");
    assert_eq!(s.credential, "usrdomadm01");
    assert_eq!(s.device, "10.66.33.15:3389");
    assert_eq!(s.protocol, Protocol::Rdp);
    assert_eq!(s.proxy, Proxy::WebProxy);
    assert_eq!(
        s.session_id.as_str(),
        "e7acacb6aedbab70073456da5744166939b77527"
    );
    assert_eq!(s.start.to_string(), "2024-05-06 16:05:07");
    assert_eq!(
        s.end.map(|e| e.to_string()).as_deref(),
        Some("2024-05-06 16:07:59")
    );
    assert_eq!(s.time.map(|t| t.as_secs()), Some(172));
    assert!(!s.prevent_purge);
    assert_eq!((s.request.as_deref(), s.itsm.as_deref()), (None, None));
    assert_eq!(sessions[1].id.get(), 6);
    assert_eq!(sessions[1].protocol, Protocol::Ssh);
    assert_eq!(sessions[1].time.map(|t| t.as_secs()), Some(13));
}

#[test]
fn vendor_example_round_trips_to_equal_json_objects() {
    let original: Value = serde_json::from_str(EXAMPLE).unwrap();
    let sessions = ok_sessions(EXAMPLE);
    let expected = original["remote_sessions"].as_array().unwrap();
    assert_eq!(expected.len(), sessions.len());
    for (s, want) in sessions.iter().zip(expected) {
        assert_eq!(&serde_json::to_value(s).unwrap(), want);
        // And the serde path agrees with the fast path.
        let via_serde: RemoteSession = serde_json::from_value(want.clone()).unwrap();
        assert_eq!(&via_serde, s);
    }
}

#[test]
fn envelope_is_read_in_any_key_order() {
    let body = format!(
        r#"{{"remote_sessions":[{}],"tenant":"Acme","code":200,"response":{{"status":200,"error":false}}}}"#,
        session_json(1)
    );
    let mut d = ListDecoder::new();
    d.feed(body.as_bytes());
    d.finish();
    assert_eq!(d.advance().unwrap(), Step::Session);
    assert_eq!(d.advance().unwrap(), Step::Done);
    assert_eq!(d.envelope().tenant.as_deref(), Some("Acme"));
    assert_eq!(d.envelope().code, Some(200));
    assert_eq!(ok_sessions(&body).len(), 1);
}

#[test]
fn tolerated_variants_come_out_canonical() {
    let canonical: Value = serde_json::from_str(&session_json(1)).unwrap();
    let variants = [
        // id as a number, T in date-times, legacy keys, Portuguese flag, unknown fields.
        r#"{"id":1,"user":"user1","origin_ip":"10.0.0.1","credencial":"cred","dispositivo":"host:22","protocol":"SSH","proxy":"terminal proxy","session_id":"0000000000000000000000000000000000000001","start":"2024-05-06T16:05:07","end":"2024-05-06T16:07:59","time":"00:02:52","prevent_purge":"Não","request":null,"ITSM":null,"extra":{"nested":[1,{"a":"}]"}]},"more":null}"#,
        // Pretty-printed with every kind of white space, keys in another order.
        "{\n\t\"ITSM\" : null ,\r\n \"request\":null, \"prevent_purge\":\"no\",\"time\":\"00:02:52\",\"end\":\"2024-05-06 16:07:59\",\"start\":\"2024-05-06 16:05:07\",\"session_id\":\"0000000000000000000000000000000000000001\",\"proxy\":\"Terminal Proxy\",\"protocol\":\"ssh\",\"device\":\"host:22\",\"credential\":\"cred\",\"origin_ip\":\"10.0.0.1\",\"user\":\"user1\",\"id\":\"1\"}",
        // Escaped characters where plain ones would do, and a duplicated key (last wins).
        r#"{"id":"1","user":"first","user":"user\u0031","origin_ip":"10.0.0.1","credential":"cred","device":"host:22","protocol":"ssh","proxy":"Terminal Proxy","session_id":"0000000000000000000000000000000000000001","start":"2024-05-06 16:05:07","end":"2024-05-06 16:07:59","time":"00:02:52","prevent_purge":"No","request":null,"ITSM":null}"#,
    ];
    for v in variants {
        let body = format!(r#"{{"code":200,"remote_sessions":[{v}]}}"#);
        let sessions = ok_sessions(&body);
        assert_eq!(sessions.len(), 1, "{v}");
        assert_eq!(
            serde_json::to_value(&sessions[0]).unwrap(),
            canonical,
            "{v}"
        );
    }
}

#[test]
fn open_sessions_long_durations_and_unknown_values() {
    let base = session_json(9);
    let cases = [
        (r#""end":"2024-05-06 16:07:59""#, r#""end":null"#),
        (
            r#""end":"2024-05-06 16:07:59""#,
            r#""end":"0000-00-00 00:00:00""#,
        ),
        (r#""end":"2024-05-06 16:07:59","#, ""),
    ];
    for (from, to) in cases {
        let s = base
            .replace(from, to)
            .replace(r#""time":"00:02:52""#, r#""time":null"#);
        let got = ok_sessions(&format!(r#"{{"remote_sessions":[{s}]}}"#));
        assert!(got[0].is_open(), "{s}");
        let out = serde_json::to_value(&got[0]).unwrap();
        assert_eq!(out["end"], Value::Null);
        assert_eq!(out["time"], Value::Null);
    }
    let long = base
        .replace("00:02:52", "123:04:05")
        .replace("\"ssh\"", "\"kerberos\"")
        .replace("Terminal Proxy", "Quantum Proxy")
        .replace("\"No\"", "\"Sim\"")
        .replace(r#""request":null"#, r#""request":42"#);
    let got = ok_sessions(&format!(r#"{{"remote_sessions":[{long}]}}"#));
    let out = serde_json::to_value(&got[0]).unwrap();
    assert_eq!(out["time"], "123:04:05");
    assert_eq!(out["protocol"], "kerberos");
    assert_eq!(out["proxy"], "Quantum Proxy");
    assert_eq!(out["prevent_purge"], "Yes");
    assert_eq!(out["request"], "42");
}

#[test]
fn bom_null_list_and_empty_list() {
    let bom = format!("\u{feff}{}", list_body(2));
    assert_eq!(ok_sessions(&bom).len(), 2);
    assert!(ok_sessions(r#"{"code":200,"remote_sessions":null}"#).is_empty());
    assert!(ok_sessions(r#"{"code":200,"remote_sessions":[]}"#).is_empty());
    assert!(ok_sessions(" {\"remote_sessions\" : [ ] } \n").is_empty());
}

#[test]
fn not_fooled_by_brackets_quotes_and_escapes_in_strings() {
    let tricky = r#"}]{[\"\\\"\\\\\u0022,:\n"#;
    let s = session_json(5)
        .replace("user5", tricky)
        .replace("\"cred\"", "\"a\\\"}],{[b\"");
    let body = format!(
        r#"{{"zz":"]}}[{{\"","remote_sessions":[{s},{}],"tenant":"x\"]}}"}}"#,
        session_json(6)
    );
    let got = ok_sessions(&body);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].user, "}]{[\"\\\"\\\\\",:\n");
    assert_eq!(got[0].credential, "a\"}],{[b");
}

#[test]
fn unknown_members_are_skipped_even_huge_or_deep() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let body = format!(
        r#"{{"meta":{deep},"blob":"{}","remote_sessions":[{}],"after":{{"x":[1,2,{{"y":"]"}}]}}}}"#,
        "x".repeat(3 << 20),
        session_json(1)
    );
    // One chunk and small chunks agree; unknown members never count against the limit.
    let (sessions, result) = decode(body.as_bytes(), body.len());
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sessions.len(), 1);
    for chunk in [1, 7, 4096] {
        assert_eq!(decode(body.as_bytes(), chunk), (sessions.clone(), Ok(())));
    }
    let mut d = ListDecoder::new();
    for c in body.as_bytes().chunks(4096) {
        d.feed(c);
        while let Ok(Step::Session) = d.advance() {}
    }
    assert!(
        d.buffer_high_water() < 3 * 4096,
        "{}",
        d.buffer_high_water()
    );
}

#[test]
fn error_envelope_is_reported_after_the_sessions() {
    let with_exception = r#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true,"error_code":1,"detail":"","mensagem":"1002: Session not found","erro":true,"cod_erro":1},"exception":{"code":1002,"message":"1002: Session not found","detail":null}}"#;
    let (n, e) = err_of(with_exception.as_bytes());
    assert_eq!(n, 0);
    assert!(
        matches!(
            e,
            Error::NotFound {
                code: Some(1002),
                ..
            }
        ),
        "{e:?}"
    );

    let in_200 = format!(
        r#"{{"remote_sessions":[{}],"code":500,"response":{{"status":500,"message":"Unexpected error.","error":true}}}}"#,
        session_json(1)
    );
    let (n, e) = err_of(in_200.as_bytes());
    assert_eq!(n, 1);
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");

    let no_exception = r#"{"code":403,"response":{"status":403,"message":"You are not authorized to access this resource.","error":true}}"#;
    let (_, e) = err_of(no_exception.as_bytes());
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
}

#[test]
fn truncation_at_every_position_keeps_complete_sessions() {
    let body = list_body(3);
    let bytes = body.as_bytes();
    let starts: Vec<usize> = body.match_indices("{\"id\"").map(|(i, _)| i).collect();
    let ends: Vec<usize> = body
        .match_indices("\"ITSM\":null}")
        .map(|(i, m)| i + m.len())
        .collect();
    for cut in 0..bytes.len() {
        let (sessions, result) = decode_all_ways_limited(&bytes[..cut]);
        let e = result.expect_err("a truncated body must be an error");
        let complete = ends.iter().filter(|&&end| end <= cut).count();
        assert_eq!(sessions.len(), complete, "cut at {cut}");
        match e {
            Error::InvalidResponse {
                truncated,
                sessions_before,
                offset,
                ..
            } => {
                assert!(truncated, "cut at {cut}: {e}");
                assert_eq!(sessions_before as usize, complete);
                assert!(offset as usize <= cut);
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert_eq!(starts.len(), 3);
}

/// Every chunk size is too slow for every truncation point; a spread of sizes suffices.
fn decode_all_ways_limited(body: &[u8]) -> Outcome {
    let reference = decode(body, body.len());
    for size in [1, 2, 3, 5, 8, 13, 64, 333] {
        assert_eq!(decode(body, size), reference, "chunk size {size}");
    }
    reference
}

#[test]
fn malformed_bodies_are_typed_errors_with_offsets() {
    let two = list_body(2);
    let cases: Vec<(String, usize, &str)> = vec![
        (String::new(), 0, "empty"),
        ("   \n".into(), 0, "empty"),
        ("<html><head><title>502 Bad Gateway</title></head><body>An invalid response was received from the upstream server</body></html>".into(), 0, "HTML page"),
        ("Internal Server Error".into(), 0, "not JSON"),
        ("null".into(), 0, "not JSON"),
        (r#"{"remote_sessions":{"id":"1"}}"#.into(), 0, "not an array"),
        (r#"{"remote_sessions":"none"}"#.into(), 0, "not an array"),
        (r#"{"remote_sessions":[null]}"#.into(), 0, "expected a session object"),
        (format!(r#"{{"remote_sessions":[{},7]}}"#, session_json(1)), 1, "expected a session object"),
        (format!("{two}garbage"), 2, "trailing data"),
        (format!("{two}{{}}"), 2, "trailing data"),
        (r#"{"code":200}"#.into(), 0, "no `remote_sessions`"),
        (r#"{"code":200,"remote_sessions":[],}"#.into(), 0, "expected a string key"),
        (format!(r#"{{"remote_sessions":[{},]}}"#, session_json(1)), 1, "expected a session object"),
        (session_json(1), 0, "no `remote_sessions`"),
        (format!(r#"{{"remote_sessions":[{}]}}"#, session_json(1).replace("\"2024-05-06 16:05:07\"", "\"06/05/2024\"")), 0, "invalid date-time"),
        (format!(r#"{{"remote_sessions":[{}]}}"#, session_json(1).replace("\"00:02:52\"", "172")), 0, "expected an HH:MM:SS string"),
        (format!(r#"{{"remote_sessions":[{}]}}"#, session_json(1).replace("\"user1\"", "[\"a\"]")), 0, "found an array"),
        (format!(r#"{{"remote_sessions":[{}]}}"#, session_json(1).replace("\"id\":\"1\",", "")), 0, "missing required field"),
        (r#"{"code":"abc","remote_sessions":[]}"#.into(), 0, "invalid `code`"),
        (r#"{"response":[1,2],"remote_sessions":[]}"#.into(), 0, "invalid `response`"),
    ];
    for (body, before, needle) in cases {
        let (n, e) = err_of(body.as_bytes());
        assert_eq!(n, before, "{body}: {e}");
        assert!(matches!(e, Error::InvalidResponse { .. }), "{body}: {e:?}");
        assert!(e.to_string().contains(needle), "{body}: {e}");
        assert_eq!(e.sessions_before(), Some(before as u64));
    }
}

#[test]
fn errors_name_the_json_path_and_offset() {
    let bad = session_json(2).replace("\"2024-05-06 16:07:59\"", "\"soon\"");
    let body = format!(r#"{{"remote_sessions":[{},{bad}]}}"#, session_json(1));
    let (n, e) = err_of(body.as_bytes());
    assert_eq!(n, 1);
    match &e {
        Error::InvalidResponse { path, offset, .. } => {
            assert_eq!(path.as_deref(), Some("remote_sessions[1].end"));
            assert_eq!(&body[*offset as usize..*offset as usize + 6], "\"soon\"");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_utf8_is_an_error_at_its_offset() {
    let body = list_body(2);
    let pos = body.find("user2").unwrap();
    let mut bytes = body.into_bytes();
    bytes[pos] = 0xC3;
    bytes[pos + 1] = 0x28;
    let (n, e) = err_of(&bytes);
    assert_eq!(n, 1);
    assert!(e.to_string().contains("invalid UTF-8"), "{e}");
    match e {
        Error::InvalidResponse { offset, .. } => assert_eq!(offset as usize, pos),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_oversized_session_is_an_error_not_an_allocation() {
    let huge = session_json(2).replace("user2", &"u".repeat(5000));
    let body = format!(
        r#"{{"remote_sessions":[{},{huge},{}]}}"#,
        session_json(1),
        session_json(3)
    );
    let config = DecoderConfig::default().max_element_size(4096);
    let reference = decode_with(
        body.as_bytes(),
        body.len(),
        ListDecoder::with_config(config),
    );
    for chunk in [1, 10, 100, 1000, 4096, 5000] {
        let got = decode_with(body.as_bytes(), chunk, ListDecoder::with_config(config));
        assert_eq!(got, reference, "chunk {chunk}");
    }
    let (sessions, result) = reference;
    assert_eq!(sessions.len(), 1);
    let e = result.unwrap_err();
    assert!(e.to_string().contains("larger than the size limit"), "{e}");
    // The decoder never held much more than the limit plus a chunk.
    let mut d = ListDecoder::with_config(config);
    for c in body.as_bytes().chunks(100) {
        d.feed(c);
        if d.advance().is_err() {
            break;
        }
        while let Ok(Step::Session) = d.advance() {}
    }
    assert!(
        d.buffer_high_water() <= 4096 + 2 * 100 + 500,
        "{}",
        d.buffer_high_water()
    );
}

#[test]
fn sessions_are_yielded_as_soon_as_their_closing_brace_arrives() {
    let body = list_body(2);
    let end_first = body.find("\"ITSM\":null}").unwrap() + "\"ITSM\":null}".len();
    let mut d = ListDecoder::new();
    d.feed(&body.as_bytes()[..end_first - 1]);
    assert_eq!(d.advance().unwrap(), Step::NeedInput);
    d.feed(&body.as_bytes()[end_first - 1..end_first]);
    assert_eq!(d.advance().unwrap(), Step::Session);
    assert_eq!(d.session().id.get(), 1);
}

#[test]
fn invalid_utf8_in_an_envelope_key_is_reported_at_its_byte() {
    let body = b"{\"messa\x8ee\":\"x\",\"remote_sessions\":[]}";
    let (n, e) = err_of(body);
    assert_eq!(n, 0);
    match e {
        Error::InvalidResponse { offset, .. } => assert_eq!(offset, 7),
        other => panic!("{other:?}"),
    }
}

#[test]
fn remote_sessions_twice_is_an_error_not_a_guess() {
    let one = session_json(1);
    let two = session_json(2);
    for body in [
        format!(r#"{{"code":200,"remote_sessions":[{one}],"remote_sessions":[{two}]}}"#),
        format!(r#"{{"remote_sessions":[],"tenant":"Segura","remote_sessions":[{two}]}}"#),
        format!(r#"{{"remote_sessions":null,"remote_sessions":[{two}]}}"#),
    ] {
        let (before, e) = err_of(body.as_bytes());
        match &e {
            Error::InvalidResponse {
                message,
                path,
                truncated,
                ..
            } => {
                assert!(message.contains("more than once"), "{e}");
                assert_eq!(path.as_deref(), Some("remote_sessions"));
                assert!(!truncated);
            }
            other => panic!("{other:?}"),
        }
        assert!(before <= 1, "{body}");
    }
    // The get body's key, likewise.
    let body = format!(r#"{{"remote_session":[{one}],"remote_session":[{two}]}}"#);
    for size in [1, 7, body.len()] {
        let (_, result) = decode_with(body.as_bytes(), size, ListDecoder::for_get());
        assert!(
            matches!(&result, Err(Error::InvalidResponse { message, .. }) if message.contains("`remote_session` more than once")),
            "{result:?}"
        );
    }
}

/// Decodes a snapshot at every chunk size; they must all agree.
fn snapshot_all_ways(body: &[u8]) -> Outcome {
    let snap = |chunk| {
        decode_with(
            body,
            chunk,
            ListDecoder::for_snapshot(DecoderConfig::default()),
        )
    };
    let reference = snap(body.len());
    for size in 1..=body.len().min(400) {
        assert_eq!(snap(size), reference, "chunk size {size} disagrees");
    }
    reference
}

#[test]
fn a_snapshot_is_read_in_every_shape_from_its_bytes() {
    let sessions: Vec<String> = (1..=3).map(session_json).collect();
    let (reference, r) = decode(list_body(3).as_bytes(), 4096);
    r.unwrap();
    let shapes = [
        list_body(3),
        format!("{}\n", sessions.join("\n")),
        sessions.join(""),
        format!("[\n{}\n]\n", sessions.join(",\n")),
        format!("\u{feff}[{}]", sessions.join(",")),
    ];
    for body in &shapes {
        let (got, r) = snapshot_all_ways(body.as_bytes());
        assert!(r.is_ok(), "{r:?} for {body}");
        assert_eq!(got, reference, "{body}");
    }
    let get = format!(r#"{{"code":200,"remote_session":[{}]}}"#, sessions[1]);
    let (got, r) = snapshot_all_ways(get.as_bytes());
    r.unwrap();
    assert_eq!(got, reference[1..2]);
    for empty in ["[]", "[ ]\n", r#"{"code":200,"remote_sessions":[]}"#] {
        let (got, r) = snapshot_all_ways(empty.as_bytes());
        assert!(r.is_ok() && got.is_empty(), "{empty:?}: {r:?}");
    }
    // An empty file is more likely a failed save than an empty list.
    for empty in ["", "\n"] {
        assert!(snapshot_all_ways(empty.as_bytes()).1.is_err(), "{empty:?}");
    }
}

#[test]
fn a_broken_snapshot_keeps_its_complete_sessions_and_names_the_place() {
    let a = session_json(1);
    let lines = format!("{a}\n{a}\n42\n");
    let (got, r) = snapshot_all_ways(lines.as_bytes());
    assert_eq!(got.len(), 2);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("$[2]"), "{e}");
    let cut = format!("[{a},{}", &a[..20]);
    let (got, r) = snapshot_all_ways(cut.as_bytes());
    assert_eq!(got.len(), 1);
    assert!(
        matches!(
            r,
            Err(Error::InvalidResponse {
                truncated: true,
                ..
            })
        ),
        "{r:?}"
    );
    let trailing = format!("[{a}] x");
    assert!(snapshot_all_ways(trailing.as_bytes()).1.is_err());
    // The plain list decoder still wants the envelope.
    assert!(decode(format!("[{a}]").as_bytes(), 64).1.is_err());
    assert!(decode(a.as_bytes(), 64).1.is_err());
}

const OK_STATUS: &str = r#"{"status":200,"message":"","error":false,"error_code":0,"detail":"","mensagem":"","erro":false,"cod_erro":0}"#;

/// The nested form: the outer envelope's `remote_sessions` holds inner envelopes.
fn nested_body(groups: &[&[u64]]) -> String {
    let inner: Vec<String> = groups
        .iter()
        .map(|ids| {
            let items: Vec<String> = ids.iter().copied().map(session_json).collect();
            format!(
                r#"{{"code":200,"response":{OK_STATUS},"tenant":"senhasegura","remote_sessions":[{}]}}"#,
                items.join(",")
            )
        })
        .collect();
    format!(
        r#"{{"code":200,"response":{OK_STATUS},"remote_sessions":[{}]}}"#,
        inner.join(",")
    )
}

#[test]
fn the_nested_form_yields_the_inner_sessions_at_every_chunking() {
    let flat = ok_sessions(&list_body(5));
    assert_eq!(ok_sessions(&nested_body(&[&[1, 2, 3, 4, 5]])), flat);
    // Several inner envelopes, one empty, in order.
    assert_eq!(ok_sessions(&nested_body(&[&[1, 2], &[], &[3, 4, 5]])), flat);
    // Inner keys in any order, the list first; whitespace everywhere.
    let body = format!(
        "{{ \"remote_sessions\" : [ {{ \"remote_sessions\" : [ {} ] , \"tenant\" : \"T\" , \"code\" : 200 }} ] }}",
        session_json(1)
    );
    assert_eq!(ok_sessions(&body), flat[..1].to_vec());
    // The inner tenant stands in for a missing outer one.
    let mut d = ListDecoder::new();
    d.feed(nested_body(&[&[1]]).as_bytes());
    d.finish();
    while let Ok(Step::Session) = d.advance() {}
    assert_eq!(d.envelope().tenant.as_deref(), Some("senhasegura"));
}

#[test]
fn the_vendor_nested_example_decodes() {
    let flat: Value = serde_json::from_str(EXAMPLE).unwrap();
    let nested = serde_json::json!({
        "code": 200,
        "response": flat["response"],
        "remote_sessions": [{
            "code": 200,
            "response": flat["response"],
            "tenant": "senhasegura",
            "remote_sessions": flat["remote_sessions"],
        }],
    });
    assert_eq!(ok_sessions(&nested.to_string()), ok_sessions(EXAMPLE));
}

#[test]
fn an_inner_error_envelope_ends_the_stream_after_its_sessions() {
    let body = format!(
        r#"{{"code":200,"remote_sessions":[{{"code":200,"remote_sessions":[{}]}},{{"remote_sessions":[{}],"code":500,"response":{{"status":500,"message":"Unexpected error.","error":true}}}},{{"remote_sessions":[{}]}}]}}"#,
        session_json(1),
        session_json(2),
        session_json(3)
    );
    let (n, e) = err_of(body.as_bytes());
    assert_eq!(n, 2, "the sessions before the error are kept, none after");
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");

    let refused = r#"{"remote_sessions":[{"code":403,"response":{"status":403,"message":"You are not authorized to access this resource.","error":true},"remote_sessions":[]}]}"#;
    let (_, e) = err_of(refused.as_bytes());
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
}

#[test]
fn the_nested_form_has_one_level_and_every_inner_envelope_a_list() {
    let deeper = format!(
        r#"{{"remote_sessions":[{{"code":200,"remote_sessions":[{},{{"code":200,"remote_sessions":[{}]}}]}}]}}"#,
        session_json(1),
        session_json(2)
    );
    let (n, e) = err_of(deeper.as_bytes());
    assert_eq!(n, 1);
    let text = e.to_string();
    assert!(text.contains("nested deeper than documented"), "{text}");
    assert!(
        text.contains("remote_sessions[0].remote_sessions[1]"),
        "{text}"
    );

    let (_, e) = err_of(br#"{"remote_sessions":[{"code":200,"tenant":"x"}]}"#);
    assert!(e.to_string().contains("has no `remote_sessions`"), "{e}");
    let (_, e) =
        err_of(br#"{"remote_sessions":[{"code":200,"remote_sessions":[],"remote_sessions":[]}]}"#);
    assert!(e.to_string().contains("more than once"), "{e}");
    // Cut inside an inner envelope: a truncation, with the sessions before it.
    let body = nested_body(&[&[1, 2]]);
    let cut = &body.as_bytes()[..body.len() - 3];
    let (n, e) = err_of(cut);
    assert_eq!(n, 2);
    assert!(
        matches!(
            e,
            Error::InvalidResponse {
                truncated: true,
                ..
            }
        ),
        "{e:?}"
    );
    // A session and an inner envelope side by side: each read for what it is.
    let mixed = format!(
        r#"{{"remote_sessions":[{},{{"code":200,"remote_sessions":[{}]}}]}}"#,
        session_json(1),
        session_json(2)
    );
    assert_eq!(ok_sessions(&mixed), ok_sessions(&list_body(2)));
}

#[test]
fn a_nested_snapshot_is_read_like_the_answer() {
    let body = nested_body(&[&[1, 2], &[3]]);
    let (sessions, result) = snapshot_all_ways(body.as_bytes());
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(sessions, ok_sessions(&list_body(3)));
}
