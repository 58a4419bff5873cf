//! The network side of the hostile cases, through the real binary: token lifetimes and
//! `Retry-After` values that would overflow a clock, bodies whose JSON closed but whose
//! framing failed, answers that hold something else than what was asked, servers that
//! drip, drop answers that are not a recognised success, and a drop refused with 401.
//! Every run goes through `Attack::run`, which also checks that stdout and stderr carry
//! no raw control byte and no secret.

use std::time::{Duration, Instant};

use segura_hostile::{
    chunk, get_body, gzip, head, list_body, session_hash, Reply, Request, Step, DROP_PREFIX,
    GET_PREFIX, LAST_CHUNK, LIST_PATH, TOKEN_PATH,
};

use crate::adversary::{token_then, Attack};
use crate::support::Output;

/// Every stdout line of an `-o ndjson` run is a complete JSON object.
#[track_caller]
fn only_complete_records(o: &Output) {
    for line in o.stdout.lines() {
        let v: Result<serde_json::Value, _> = serde_json::from_str(line);
        assert!(
            matches!(v, Ok(serde_json::Value::Object(_))),
            "an incomplete record on stdout: {line:?}\n{}",
            o.stderr
        );
    }
}

/// The answer of the list, get or any other endpoint, by path.
fn by_path(
    list: impl Fn() -> Reply + Send + Sync + 'static,
    get: impl Fn() -> Reply + Send + Sync + 'static,
) -> impl Fn(&Request) -> Reply + Send + Sync + 'static {
    token_then(move |r: &Request| {
        if r.path().starts_with(GET_PREFIX) {
            get()
        } else {
            list()
        }
    })
}

// Item 1: no value from the network may panic.

const HUGE_LIFETIMES: [&str; 10] = [
    "18446744073709551615",
    "18446744073709551616",
    "1e19",
    "1e300",
    "\"18446744073709551615\"",
    "\"1e300\"",
    "-5",
    "\"NaN\"",
    "0",
    "\"soon\"",
];

#[test]
fn a_token_lifetime_of_any_size_never_panics_list_or_watch() {
    for expires_in in HUGE_LIFETIMES {
        let a = Attack::new(move |r: &Request| {
            if r.path() == TOKEN_PATH {
                Reply::token(segura_hostile::ACCESS_TOKEN, expires_in)
            } else {
                Reply::json(200, list_body(2))
            }
        });
        let o = a.run(&["sessions", "list", "-o", "ndjson"]);
        assert_eq!(o.code, 0, "list, expires_in {expires_in}: {}", o.stderr);
        assert_eq!(o.json_lines().len(), 2);
        let o = a.run(&["sessions", "watch", "--once", "-o", "ndjson"]);
        assert_eq!(o.code, 0, "watch, expires_in {expires_in}: {}", o.stderr);
        assert_eq!(o.json_lines().len(), 2);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
}

#[test]
fn a_huge_retry_after_never_panics() {
    let a = Attack::new(token_then(|_| {
        let mut bytes = head(
            503,
            &[
                ("Content-Type", "application/json"),
                ("Retry-After", "18446744073709551615"),
                ("Content-Length", "2"),
                ("Connection", "close"),
            ],
        );
        bytes.extend_from_slice(b"{}");
        Reply::raw(bytes)
    }));
    let mut cmd = a.cmd();
    cmd.args(["sessions", "list", "--retries", "2"]);
    let o = a.run_cmd(cmd);
    assert_eq!(o.code, 6, "{}", o.stderr);
    // The wait was out of bounds: no retry was made.
    assert_eq!(a.server.count(LIST_PATH), 1);
}

// Item 4: a body is complete only when its framing says so.

/// A reply that carries a given body.
type Framing = fn(&str) -> Reply;

/// The framing failures, each as a reply carrying `body` (the JSON is whole in all).
fn broken_framings() -> Vec<(&'static str, Framing)> {
    vec![
        ("gzip CRC mismatch", |body| {
            let mut z = gzip(body.as_bytes());
            let crc = z.len() - 8;
            z[crc] ^= 0xff;
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", &z.len().to_string()),
                    ("Connection", "close"),
                ],
            );
            bytes.extend_from_slice(&z);
            Reply::raw(bytes)
        }),
        ("Content-Length longer than sent", |body| {
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Length", &(body.len() + 100).to_string()),
                    ("Connection", "close"),
                ],
            );
            bytes.extend_from_slice(body.as_bytes());
            Reply::steps(vec![Step::Write(bytes), Step::Close])
        }),
        ("no last chunk", |body| {
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Transfer-Encoding", "chunked"),
                ],
            );
            bytes.extend_from_slice(&chunk(body.as_bytes()));
            Reply::steps(vec![Step::Write(bytes), Step::Close])
        }),
        ("a chunk size larger than its data", |body| {
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Transfer-Encoding", "chunked"),
                ],
            );
            bytes.extend_from_slice(format!("{:x}\r\n", body.len() + 4096).as_bytes());
            bytes.extend_from_slice(body.as_bytes());
            Reply::steps(vec![Step::Write(bytes), Step::Close])
        }),
    ]
}

#[test]
fn a_broken_framing_after_the_json_closed_is_exit_8_for_list_stats_and_watch() {
    for (name, reply) in broken_framings() {
        let a = Attack::new(token_then(move |_| reply(&list_body(3))));
        for args in [
            &["sessions", "list", "-o", "ndjson"][..],
            &["sessions", "stats", "-o", "ndjson"],
            &["sessions", "watch", "--once", "-o", "ndjson"],
        ] {
            let o = a.run(args);
            assert_eq!(o.code, 8, "{name}, {args:?}: {}\n{}", o.stderr, o.stdout);
            assert!(
                o.stderr.contains("incomplete"),
                "{name}, {args:?}: {}",
                o.stderr
            );
            only_complete_records(&o);
            if args[1] == "stats" {
                assert!(o.stdout.is_empty(), "{name}: stats of a broken body");
            }
        }
    }
}

#[test]
fn a_broken_framing_after_the_json_closed_is_exit_8_for_get() {
    for (name, reply) in broken_framings() {
        let a = Attack::new(token_then(move |_| reply(&get_body(1))));
        let o = a.run(&["sessions", "get", "1", "-o", "ndjson"]);
        assert_eq!(o.code, 8, "{name}: {}\n{}", o.stderr, o.stdout);
        assert!(o.stdout.is_empty(), "{name}: {}", o.stdout);
    }
}

#[test]
fn the_same_bodies_well_framed_succeed() {
    let a = Attack::new(by_path(
        || {
            let body = list_body(3);
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Transfer-Encoding", "chunked"),
                ],
            );
            bytes.extend_from_slice(&chunk(body.as_bytes()));
            bytes.extend_from_slice(LAST_CHUNK);
            Reply::raw(bytes)
        },
        || {
            let z = gzip(get_body(1).as_bytes());
            let mut bytes = head(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Encoding", "gzip"),
                    ("Content-Length", &z.len().to_string()),
                ],
            );
            bytes.extend_from_slice(&z);
            Reply::raw(bytes)
        },
    ));
    let o = a.run(&["sessions", "list", "-o", "ndjson"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.json_lines().len(), 3);
    let o = a.run(&["sessions", "get", "1", "-o", "ndjson"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn a_get_answered_with_another_session_is_exit_8() {
    let a = Attack::new(by_path(
        || Reply::json(200, list_body(1)),
        || Reply::json(200, get_body(2)),
    ));
    let o = a.run(&["sessions", "get", "1", "-o", "ndjson"]);
    assert_eq!(o.code, 8, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert!(o.stderr.contains("holds session 2"), "{}", o.stderr);
}

fn encoded(encoding: &'static str, body: Vec<u8>) -> Reply {
    let mut bytes = head(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", encoding),
            ("Content-Length", &body.len().to_string()),
        ],
    );
    bytes.extend_from_slice(&body);
    Reply::raw(bytes)
}

#[test]
fn a_content_encoding_the_client_never_asked_for_is_exit_8() {
    for encoding in ["br", "zstd", "compress", "x-anything"] {
        let a = Attack::new(by_path(
            move || encoded(encoding, list_body(2).into_bytes()),
            move || encoded(encoding, get_body(1).into_bytes()),
        ));
        for args in [
            &["sessions", "list", "-o", "ndjson"][..],
            &["sessions", "get", "1", "-o", "ndjson"],
        ] {
            let o = a.run(args);
            assert_eq!(o.code, 8, "{encoding} {args:?}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{encoding}: {}", o.stdout);
            assert!(o.stderr.contains("content encoding"), "{}", o.stderr);
        }
    }
    // gzip while compression is off: not asked for either.
    let a = Attack::new(token_then(|_| {
        encoded("gzip", gzip(list_body(2).as_bytes()))
    }));
    let o = a.run(&["sessions", "list", "--no-compression", "-o", "ndjson"]);
    assert_eq!(o.code, 8, "{}", o.stderr);
    assert!(o.stdout.is_empty());
    let asked = a.server.requests();
    let list = asked.iter().find(|r| r.path() == LIST_PATH);
    assert!(
        list.is_some_and(|r| r
            .header("accept-encoding")
            .is_none_or(|v| !v.contains("gzip"))),
        "{asked:?}"
    );
}

#[test]
fn an_envelope_with_remote_sessions_twice_is_exit_8() {
    let a = Attack::new(token_then(|_| {
        Reply::json(
            200,
            format!(
                r#"{{"code":200,"remote_sessions":[{}],"remote_sessions":[{}]}}"#,
                segura_hostile::session_json(1),
                segura_hostile::session_json(2)
            ),
        )
    }));
    let o = a.run(&["sessions", "list", "-o", "ndjson"]);
    assert_eq!(o.code, 8, "{}", o.stderr);
    assert!(o.stderr.contains("more than once"), "{}", o.stderr);
    only_complete_records(&o);
}

// Item 6: a total deadline per request.

/// A reply that sends its head at once and then one byte of `body` a second.
fn drip(body: String) -> Reply {
    let mut steps = vec![Step::Write(head(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &body.len().to_string()),
        ],
    ))];
    for b in body.bytes().take(20) {
        steps.push(Step::Write(vec![b]));
        steps.push(Step::Sleep(Duration::from_secs(1)));
    }
    Reply::steps(steps)
}

#[test]
fn a_dripping_server_meets_the_timeout_for_list_get_drop_and_token() {
    let hash = session_hash(1);
    let cases: Vec<(&str, Vec<String>, Attack)> = vec![
        (
            "list",
            vec!["sessions".into(), "list".into()],
            Attack::new(token_then(|_| drip(list_body(3)))),
        ),
        (
            "get",
            vec!["sessions".into(), "get".into(), "1".into()],
            Attack::new(token_then(|_| drip(get_body(1)))),
        ),
        (
            "drop",
            vec![
                "sessions".into(),
                "drop".into(),
                hash.clone(),
                "--yes".into(),
                "--no-lookup".into(),
            ],
            Attack::new(token_then(|_| drip(segura_hostile::drop_ok_body()))),
        ),
        (
            "token",
            vec!["sessions".into(), "list".into()],
            Attack::new(|r: &Request| {
                if r.path() == TOKEN_PATH {
                    drip(format!(
                        r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"{}"}}"#,
                        segura_hostile::ACCESS_TOKEN
                    ))
                } else {
                    Reply::json(200, list_body(1))
                }
            }),
        ),
    ];
    for (name, args, a) in cases {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.extend(["--timeout", "2s", "-o", "ndjson"]);
        let started = Instant::now();
        let o = a.run(&args);
        let took = started.elapsed();
        assert_eq!(o.code, 7, "{name}: {}", o.stderr);
        assert!(o.stderr.contains("deadline"), "{name}: {}", o.stderr);
        assert!(took < Duration::from_secs(8), "{name} took {took:?}");
        assert!(o.stdout.is_empty(), "{name}: {}", o.stdout);
    }
}

#[test]
fn the_timeout_also_comes_from_the_environment() {
    let a = Attack::new(token_then(|_| drip(get_body(1))));
    let mut cmd = a.cmd();
    cmd.env("SEGURA_TIMEOUT", "1s")
        .args(["sessions", "get", "1", "--retries", "0"]);
    let started = Instant::now();
    let o = a.run_cmd(cmd);
    assert_eq!(o.code, 7, "{}", o.stderr);
    assert!(started.elapsed() < Duration::from_secs(6));
}

// Item 8: a drop succeeds only when the server said so.

const NOT_SUCCESSES: [&str; 6] = [
    "{}",
    r#"{"code":200}"#,
    r#"{"hello":"world"}"#,
    r#"{"code":200,"response":{"status":200,"message":"Session could not be dropped","error":false},"tenant":"Segura"}"#,
    r#"{"code":200,"response":{"status":200,"message":"","error":false},"tenant":"Segura"}"#,
    "[]",
];

#[test]
fn a_drop_answer_that_is_not_a_recognised_success_is_exit_8() {
    let hash = session_hash(1);
    for body in NOT_SUCCESSES {
        let a = Attack::new(token_then(move |_| Reply::json(200, body)));
        for format in ["table", "json"] {
            let o = a.run(&[
                "sessions",
                "drop",
                &hash,
                "--yes",
                "--no-lookup",
                "-o",
                format,
            ]);
            assert_eq!(o.code, 8, "{body}: {}", o.stderr);
            assert!(o.stdout.is_empty(), "{body}: {}", o.stdout);
            assert!(
                o.stderr
                    .contains("the session may or may not have been dropped"),
                "{body}: {}",
                o.stderr
            );
            assert!(o.stderr.contains("sessions get"), "{body}: {}", o.stderr);
            assert!(
                !o.stderr.contains("Session dropped successfully"),
                "{}",
                o.stderr
            );
        }
    }
}

#[test]
fn the_documented_and_the_legacy_drop_successes_print_the_servers_own_message() {
    let hash = session_hash(1);
    let legacy = r#"{"response":{"status":200,"message":"Sessão interrompida com sucesso","error":false,"mensagem":"Sessão interrompida com sucesso","erro":false}}"#;
    for (body, message) in [
        (
            segura_hostile::drop_ok_body(),
            "Session dropped successfully",
        ),
        (legacy.to_owned(), "Sessão interrompida com sucesso"),
    ] {
        let a = Attack::new(token_then(move |_| Reply::json(200, body.clone())));
        let o = a.run(&[
            "sessions",
            "drop",
            &hash,
            "--yes",
            "--no-lookup",
            "-o",
            "json",
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let v: serde_json::Value = serde_json::from_str(o.stdout.trim()).expect("json");
        assert_eq!(v["dropped"], true);
        assert_eq!(v["message"], message);
    }
}

// Item 11: a DELETE refused with 401 is sent again once, with a renewed token.

#[test]
fn a_drop_refused_with_401_is_sent_exactly_twice() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let deletes = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&deletes);
    let a = Attack::new(token_then(move |r: &Request| {
        if r.method == "DELETE" && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::json(
                401,
                r#"{"message":"The access token is invalid or has expired"}"#,
            )
        } else {
            Reply::json(200, segura_hostile::drop_ok_body())
        }
    }));
    let hash = session_hash(1);
    let o = a.run(&["sessions", "drop", &hash, "--yes", "--no-lookup"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let requests = a.server.requests();
    let sent: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(a.server.count(DROP_PREFIX), 2, "{sent:?}");
    assert_eq!(
        a.server.count(TOKEN_PATH),
        2,
        "one token, one renewal: {sent:?}"
    );
    assert_eq!(sent, ["POST", "DELETE", "POST", "DELETE"]);
}

#[test]
fn a_drop_refused_with_401_twice_is_not_sent_a_third_time() {
    let a = Attack::new(token_then(|_| {
        Reply::json(
            401,
            r#"{"message":"The access token is invalid or has expired"}"#,
        )
    }));
    let hash = session_hash(1);
    let o = a.run(&["sessions", "drop", &hash, "--yes", "--no-lookup"]);
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert_eq!(a.server.count(DROP_PREFIX), 2);
}

/// An error envelope inside an HTTP 200 names the envelope's code as such, never as
/// an HTTP status the server did not send, for the list, get and drop.
#[test]
fn an_error_inside_http_200_is_not_called_an_http_status() {
    let body = r#"{"code":500,"response":{"status":500,"message":"Unexpected error.","error":true,"error_code":1,"detail":"","mensagem":"Unexpected error.","erro":true,"cod_erro":1}}"#;
    let a = Attack::new(token_then(move |_| Reply::json(200, body)));
    let hash = session_hash(1);
    for args in [
        vec!["sessions", "list", "-o", "ndjson"],
        vec!["sessions", "get", "1"],
        vec!["sessions", "drop", "--yes", hash.as_str()],
    ] {
        let o = a.run(&args);
        assert_ne!(o.code, 0, "{args:?}");
        assert!(
            o.stderr.contains("inside an HTTP 200 answer"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(!o.stderr.contains("HTTP 500"), "{args:?}: {}", o.stderr);
    }
}
