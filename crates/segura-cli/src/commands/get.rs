//! `segura sessions get ID`.

use std::io::Write;

use segura_api::SessionApi;
use tokio::runtime::Runtime;

use crate::cli::GetArgs;
use crate::exit::CliError;
use crate::output::sessions::print_session;
use crate::output::OutputOpts;

/// Fetches one session and prints it.
pub fn run(
    rt: &Runtime,
    api: &dyn SessionApi,
    args: &GetArgs,
    out: impl Write,
    opts: &OutputOpts,
) -> Result<(), CliError> {
    let session = rt.block_on(api.get_session(args.id))?;
    print_session(out, &session, opts).map_err(CliError::output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;
    use segura_api::{classify_response, MockSessionApi};
    use segura_model::{parse_datetime, RemoteSession, SessionHash, SessionId};

    fn args(id: u64) -> GetArgs {
        GetArgs {
            id: SessionId::new(id),
            fields: None,
        }
    }

    #[test]
    fn prints_the_session_asked_for() {
        let rt = crate::feed::runtime().unwrap();
        let mut api = MockSessionApi::new();
        api.expect_get_session()
            .withf(|id| id.get() == 42)
            .times(1)
            .returning(|id| {
                let mut s = RemoteSession::new(
                    id,
                    SessionHash::from_wire("e7acacb6aedbab70073456da5744166939b77527"),
                    parse_datetime("2024-05-06 16:05:07").unwrap(),
                );
                s.user = "admin".into();
                Ok(s)
            });
        let opts = OutputOpts {
            format: Format::Ndjson,
            ..OutputOpts::default()
        };
        let mut out = Vec::new();
        run(&rt, &api, &args(42), &mut out, &opts).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["id"], "42");
        assert_eq!(v["user"], "admin");
        assert_eq!(v["end"], serde_json::Value::Null);
    }

    #[test]
    fn not_found_is_exit_5_and_prints_nothing() {
        let rt = crate::feed::runtime().unwrap();
        let mut api = MockSessionApi::new();
        api.expect_get_session().times(1).returning(|_| {
            Err(classify_response(
                400,
                br#"{"code":400,"response":{"status":400,"message":"1002: Session not found","error":true},"exception":{"code":1002,"message":"1002: Session not found"}}"#,
                None,
            ))
        });
        let mut out = Vec::new();
        let e = run(&rt, &api, &args(7), &mut out, &OutputOpts::default()).unwrap_err();
        assert_eq!(e.exit_code(), 5);
        assert!(out.is_empty());
        assert!(e.report().contains("Session not found"), "{}", e.report());
    }
}
