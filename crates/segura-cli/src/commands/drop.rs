//! `segura sessions drop SESSION_ID`: terminate a session, after a confirmation.

use std::io::{self, BufRead, Write};

use segura_api::{Error as ApiError, SessionApi};
use serde::Serialize;
use tokio::runtime::Runtime;

use crate::cli::DropArgs;
use crate::exit::CliError;
use crate::output::Format;
use crate::output::OutputOpts;

/// Asks the user a yes/no question.
pub trait Confirm {
    /// Whether the user said yes.
    fn confirm(&mut self, question: &str) -> io::Result<bool>;
}

/// Asks on stderr and reads the answer from stdin.
#[derive(Debug, Default)]
pub struct TerminalConfirm;

impl Confirm for TerminalConfirm {
    fn confirm(&mut self, question: &str) -> io::Result<bool> {
        let mut err = io::stderr().lock();
        write!(err, "{question} [y/N] ")?;
        err.flush()?;
        let mut answer = String::new();
        io::stdin().lock().read_line(&mut answer)?;
        Ok(matches!(
            answer.trim().to_ascii_lowercase().as_str(),
            "y" | "yes"
        ))
    }
}

#[derive(Serialize)]
struct Dropped<'a> {
    session_id: &'a str,
    dropped: bool,
    /// The server's own message; never one the client made up.
    message: Option<&'a str>,
}

/// What to do when the answer to a drop could not be read: the drop may have happened.
pub const CHECK_ADVICE: &str =
    "check with `segura sessions get ID` (or `segura sessions list`) whether it is still open";

/// An answer that was not understood, with the advice to check.
fn not_understood(error: ApiError) -> CliError {
    let error = match error {
        ApiError::InvalidResponse {
            message,
            offset,
            path,
            sessions_before,
            truncated,
        } => ApiError::InvalidResponse {
            message: format!("{message}; {CHECK_ADVICE}"),
            offset,
            path,
            sessions_before,
            truncated,
        },
        other => other,
    };
    CliError::from(error)
}

/// Drops the session once confirmed; `interactive` tells whether a person can answer.
pub fn run(
    rt: &Runtime,
    api: &dyn SessionApi,
    args: &DropArgs,
    interactive: bool,
    confirm: &mut dyn Confirm,
    mut out: impl Write,
    opts: &OutputOpts,
) -> Result<(), CliError> {
    let hash = &args.session_id;
    if !args.yes {
        if !interactive {
            return Err(CliError::Usage(format!(
                "refusing to drop session {hash} without confirmation: standard input is not a terminal; pass --yes"
            )));
        }
        let question = format!("Drop session {hash}? Its user is disconnected at once.");
        let yes = confirm
            .confirm(&question)
            .map_err(|e| CliError::Local(format!("cannot read the answer: {e}")))?;
        if !yes {
            return Err(CliError::Declined(format!(
                "session {hash} was not dropped"
            )));
        }
    }
    let response = rt
        .block_on(api.drop_session(hash))
        .map_err(not_understood)?;
    // Every transport should refuse an answer that is not a recognised success; this
    // holds for any implementation of the API all the same.
    if !segura_api::is_recognised_drop(&response) {
        return Err(not_understood(ApiError::InvalidResponse {
            message: format!(
                "{} (no recognised success message)",
                segura_api::drop_answer::NOT_UNDERSTOOD
            ),
            offset: 0,
            path: None,
            sessions_before: 0,
            truncated: false,
        }));
    }
    let message = response.envelope.message();
    let record = Dropped {
        session_id: hash.as_str(),
        dropped: true,
        message,
    };
    let written = match opts.format {
        // SIEM formats are refused before the command runs.
        Format::Json | Format::Ndjson | Format::Siem(_) => serde_json::to_writer(&mut out, &record)
            .map_err(io::Error::other)
            .and_then(|()| out.write_all(b"\n")),
        Format::Csv => writeln!(
            out,
            "session_id,dropped,message\n{},true,\"{}\"",
            record.session_id,
            record.message.unwrap_or_default().replace('"', "\"\"")
        ),
        Format::Table | Format::Wide => match record.message {
            Some(m) => writeln!(
                out,
                "dropped session {}: {}",
                record.session_id,
                crate::output::sanitize(m)
            ),
            None => writeln!(out, "dropped session {}", record.session_id),
        },
    };
    written.and_then(|()| out.flush()).map_err(CliError::output)
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_api::MockSessionApi;
    use segura_model::{DropResponse, SessionHash};

    const HASH: &str = "e7acacb6aedbab70073456da5744166939b77527";

    struct Answer(bool, Vec<String>);
    impl Confirm for Answer {
        fn confirm(&mut self, question: &str) -> io::Result<bool> {
            self.1.push(question.to_owned());
            Ok(self.0)
        }
    }

    fn args(yes: bool) -> DropArgs {
        DropArgs {
            session_id: SessionHash::parse(HASH).unwrap(),
            yes,
        }
    }

    fn success() -> DropResponse {
        match serde_json::from_str(
            r#"{"code":200,"response":{"status":200,"message":"Session dropped successfully","error":false},"tenant":"Segura"}"#,
        ) {
            Ok(d) => d,
            Err(e) => panic!("{e}"),
        }
    }

    fn api(times: usize) -> MockSessionApi {
        let mut api = MockSessionApi::new();
        api.expect_drop_session()
            .withf(|h| h.as_str() == HASH)
            .times(times)
            .returning(|_| Ok(success()));
        api
    }

    #[test]
    fn an_answer_that_is_not_a_recognised_success_is_exit_8_with_advice() {
        let rt = crate::feed::runtime().unwrap();
        let mut api = MockSessionApi::new();
        api.expect_drop_session()
            .times(1)
            .returning(|_| Ok(DropResponse::default()));
        let mut out = Vec::new();
        let e = run(
            &rt,
            &api,
            &args(true),
            false,
            &mut Answer(true, vec![]),
            &mut out,
            &OutputOpts::default(),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 8);
        let r = e.report();
        assert!(r.contains("may or may not have been dropped"), "{r}");
        assert!(r.contains("sessions get"), "{r}");
        assert!(out.is_empty());
        assert!(!r.contains("Session dropped successfully"), "{r}");
    }

    #[test]
    fn without_a_terminal_it_needs_yes() {
        let rt = crate::feed::runtime().unwrap();
        let mut ask = Answer(true, vec![]);
        let mut out = Vec::new();
        let e = run(
            &rt,
            &api(0),
            &args(false),
            false,
            &mut ask,
            &mut out,
            &OutputOpts::default(),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.report().contains("--yes"), "{}", e.report());
        assert!(ask.1.is_empty() && out.is_empty());

        run(
            &rt,
            &api(1),
            &args(true),
            false,
            &mut ask,
            &mut out,
            &OutputOpts::default(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("dropped session {HASH}: Session dropped successfully\n")
        );
    }

    #[test]
    fn on_a_terminal_it_asks_first() {
        let rt = crate::feed::runtime().unwrap();
        let mut no = Answer(false, vec![]);
        let e = run(
            &rt,
            &api(0),
            &args(false),
            true,
            &mut no,
            Vec::new(),
            &OutputOpts::default(),
        )
        .unwrap_err();
        assert_eq!(e.exit_code(), 1);
        assert!(no.1[0].contains(HASH));

        let mut yes = Answer(true, vec![]);
        let mut out = Vec::new();
        let opts = OutputOpts {
            format: Format::Json,
            ..OutputOpts::default()
        };
        run(&rt, &api(1), &args(false), true, &mut yes, &mut out, &opts).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["session_id"], HASH);
        assert_eq!(v["dropped"], true);
    }
}
