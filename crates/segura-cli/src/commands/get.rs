//! `segura sessions get ID|HASH...`: sessions by numeric id (the get endpoint) or by
//! 40-hex session_id (found by reading the list until each appears).

use std::io::Write;

use segura_api::lookup::find_all;
use segura_api::SessionApi;
use segura_model::{RemoteSession, SessionHash};
use tokio::runtime::Runtime;

use crate::cli::{GetArgs, SessionRef};
use crate::exit::CliError;
use crate::output::sessions::{print_session, session_sink};
use crate::output::OutputOpts;

/// Fetches the sessions asked for and prints them: one with the `get` layout, several
/// as a list. A missing one is reported on stderr; the exit code is the highest.
pub fn run(
    rt: &Runtime,
    api: &dyn SessionApi,
    args: &GetArgs,
    out: impl Write,
    opts: &OutputOpts,
) -> Result<(), CliError> {
    let results = fetch(rt, api, &args.ids);
    if let [one] = results.as_slice() {
        return match one {
            Ok(session) => print_session(out, session, opts).map_err(CliError::output),
            Err(_) => Err(results
                .into_iter()
                .next()
                .and_then(Result::err)
                .unwrap_or(CliError::Local("no result".into()))),
        };
    }
    let mut sink = session_sink(out, opts).map_err(CliError::output)?;
    let mut worst = 0u8;
    let mut missing = 0usize;
    for (id, result) in args.ids.iter().zip(&results) {
        match result {
            Ok(session) => sink.write(session).map_err(CliError::output)?,
            Err(e) => {
                worst = worst.max(e.exit_code());
                missing += 1;
                let report = e.report();
                let report = report
                    .strip_prefix("error: ")
                    .map(|rest| format!("error: session {id}: {rest}"))
                    .unwrap_or(report);
                crate::diag::emit(&report);
            }
        }
    }
    sink.finish().map_err(CliError::output)?;
    if worst == 0 {
        return Ok(());
    }
    Err(CliError::Worst {
        code: worst,
        message: format!(
            "{missing} of {} sessions could not be shown (each is reported above)",
            args.ids.len()
        ),
    })
}

/// One result per id, in order: the ids through the get endpoint, the hashes in one
/// reading of the list that stops once all have appeared.
fn fetch(
    rt: &Runtime,
    api: &dyn SessionApi,
    ids: &[SessionRef],
) -> Vec<Result<RemoteSession, CliError>> {
    let hashes: Vec<SessionHash> = ids
        .iter()
        .filter_map(|r| match r {
            SessionRef::Hash(h) => Some(h.clone()),
            SessionRef::Id(_) => None,
        })
        .collect();
    let mut by_hash = if hashes.is_empty() {
        Ok(Vec::new().into_iter())
    } else {
        rt.block_on(async { find_all(api.list_sessions().await?, &hashes).await })
            .map(Vec::into_iter)
            .map_err(|e| (Some(e), 0u8))
    };
    ids.iter()
        .map(|r| match r {
            SessionRef::Id(id) => rt.block_on(api.get_session(*id)).map_err(CliError::from),
            SessionRef::Hash(h) => match &mut by_hash {
                Ok(found) => found.next().flatten().ok_or_else(|| {
                    CliError::from(segura_api::Error::NotFound {
                        status: None,
                        code: Some(segura_api::model::ApiException::SESSION_NOT_FOUND),
                        message: format!("no session in the list has session_id {h}"),
                    })
                }),
                // The list's error for the first hash, a reference to it for the others.
                Err((first, code)) => Err(match first.take() {
                    Some(e) => {
                        let e = CliError::from(e);
                        *code = e.exit_code();
                        e
                    }
                    None => CliError::Worst {
                        code: *code,
                        message: format!(
                            "cannot find session {h}: the list could not be read (see above)"
                        ),
                    },
                }),
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Format;
    use segura_api::{classify_response, MockSessionApi};
    use segura_model::{parse_datetime, RemoteSession, SessionHash, SessionId};

    fn args(id: u64) -> GetArgs {
        GetArgs {
            ids: vec![SessionRef::Id(SessionId::new(id))],
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
