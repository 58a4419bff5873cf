//! The model through serde alone, as a user who only wants the types would use it.

use segura_model::wire::SessionParser;
use segura_model::{Field, GetResponse, ListResponse, RemoteSession};
use serde_json::Value;

const EXAMPLE: &str = include_str!("../../../docs/examples/list-response.json");

#[test]
fn vendor_example_through_serde_round_trips() {
    let body: ListResponse = serde_json::from_str(EXAMPLE).unwrap();
    assert_eq!(body.remote_sessions.len(), 2);
    assert!(!body.envelope.is_error());
    assert_eq!(body.envelope.tenant.as_deref(), Some("Segura"));
    let original: Value = serde_json::from_str(EXAMPLE).unwrap();
    assert_eq!(serde_json::to_value(&body).unwrap(), original);
}

#[test]
fn get_body_holds_an_array_of_one() {
    let original: Value = serde_json::from_str(EXAMPLE).unwrap();
    let one = &original["remote_sessions"][0];
    let body = format!(r#"{{"code":200,"tenant":"Segura","remote_session":[{one}]}}"#);
    let get: GetResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(get.remote_session.len(), 1);
    assert_eq!(get.remote_session[0].id.get(), 3);
}

#[test]
fn serde_and_the_fast_reader_agree_on_every_field_variant() {
    let variants = [
        r#"{"id":3,"user":null,"origin_ip":"::1","credencial":"root","dispositivo":"[2001:db8::1]:22","protocol":"SSH","proxy":"ssh tunneling","session_id":"ABC","start":"2024-05-06T16:05:07Z","end":"0000-00-00 00:00:00","time":"","prevent_purge":"SIM","request":"REQ-1","itsm":"INC-2","x":[{"y":null}]}"#,
        r#"{"session_id":"e7acacb6aedbab70073456da5744166939b77527","start":"2024-05-06 16:05:07.250","id":"0042","prevent_purge":true,"request":17,"ITSM":null,"time":"240:00:01","end":"2024-05-16 16:05:08"}"#,
    ];
    for v in variants {
        let via_serde: RemoteSession = serde_json::from_str(v).unwrap();
        let mut fast = RemoteSession::default();
        SessionParser::new()
            .parse_into(v.as_bytes(), &mut fast)
            .unwrap();
        assert_eq!(via_serde, fast, "{v}");
        // Canonical output has the 14 keys, whatever came in.
        let out = serde_json::to_value(&fast).unwrap();
        let keys: Vec<&str> = out
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: Vec<&str> = Field::ALL.iter().map(|f| f.wire_name()).collect();
        expected.sort_unstable();
        let mut got = keys.clone();
        got.sort_unstable();
        assert_eq!(got, expected);
    }
}

#[test]
fn serde_rejects_what_the_fast_reader_rejects() {
    for bad in [
        r#"{"id":"x","session_id":"a","start":"2024-05-06 16:05:07"}"#,
        r#"{"id":"1","session_id":"a","start":"2024-05-06"}"#,
        r#"{"id":"1","session_id":"a","start":"2024-05-06 16:05:07","prevent_purge":"maybe"}"#,
        r#"{"id":"1","session_id":"a","start":"2024-05-06 16:05:07","user":{"a":1}}"#,
        r#"{"id":"1","start":"2024-05-06 16:05:07"}"#,
    ] {
        let serde_err = serde_json::from_str::<RemoteSession>(bad)
            .unwrap_err()
            .to_string();
        let mut s = RemoteSession::default();
        let fast_err = SessionParser::new()
            .parse_into(bad.as_bytes(), &mut s)
            .unwrap_err();
        let field = fast_err.field.unwrap();
        assert!(
            serde_err.contains(field),
            "{bad}: serde said {serde_err}, fast reader {fast_err}"
        );
    }
}
