//! `segura sessions open`: creates a web proxy session and prints the URL that starts
//! it in a browser.
//!
//! The URL and the token are credentials. They reach stdout only, the URL alone on a
//! line by default (so `xdg-open "$(segura sessions open ...)"` works) and the token as
//! `[redacted]` unless `--show-token`; the client registers both as secrets the moment
//! they arrive, so no log line and no error message on stderr can show them. Nothing
//! here writes them to a file.

use std::io::Write;

use segura_api::WebSessionApi;
use segura_model::{WebSession, WebSessionRequest};
use tokio::runtime::Runtime;

use crate::cli::OpenArgs;
use crate::exit::CliError;
use crate::output::{Format, OutputOpts};

/// What replaces the token without `--show-token`.
const REDACTED: &str = "[redacted]";

/// The request the options describe.
pub fn request(args: &OpenArgs) -> WebSessionRequest {
    let mut r = WebSessionRequest::new(
        args.user.as_str(),
        args.credential.as_str(),
        args.device.as_str(),
        args.protocol.as_str(),
    );
    r.remote_device = args.remote_device.clone();
    r.remote_addr = args.remote_addr.map(|ip| ip.to_string());
    r.port = args.port;
    r.remote_app = args.remote_app;
    r.screen_size = args.screen.clone();
    r
}

/// The JSON form: `url` first.
#[derive(serde::Serialize)]
struct Shown<'a> {
    url: &'a str,
    token: &'a str,
}

/// Creates the session and prints it.
pub fn run(
    rt: &Runtime,
    api: &dyn WebSessionApi,
    args: &OpenArgs,
    out: impl Write,
    opts: &OutputOpts,
) -> Result<(), CliError> {
    let request = request(args);
    tracing::debug!(
        protocol = %request.protocol,
        port = ?request.port,
        "creating a web proxy session"
    );
    let session = rt.block_on(api.open_web_session(&request))?;
    tracing::debug!("web proxy session created");
    print(out, &session, args.show_token, opts).map_err(CliError::output)
}

/// Prints `session`: the URL alone (and the token on a second line with `show_token`)
/// for a table; an object with `url` and `token` for JSON and NDJSON; a header and a
/// row for CSV. Both values were checked by the client (ASCII, no control character);
/// they are escaped all the same, as any outside text bound for a terminal is.
pub fn print(
    mut out: impl Write,
    session: &WebSession,
    show_token: bool,
    opts: &OutputOpts,
) -> std::io::Result<()> {
    let url = segura_api::sanitize(&session.session_url);
    let token = if show_token {
        segura_api::sanitize(&session.token)
    } else {
        REDACTED.into()
    };
    match opts.format {
        Format::Json | Format::Ndjson => {
            let value = Shown {
                url: &url,
                token: &token,
            };
            let text = if opts.pretty && opts.format == Format::Json {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            }
            .map_err(std::io::Error::other)?;
            writeln!(out, "{text}")?;
        }
        Format::Csv => {
            // A URL's query and a token may hold commas or quotes: the csv writer
            // quotes them as needed.
            let mut w = csv::Writer::from_writer(&mut out);
            if !opts.no_headers {
                w.write_record(["url", "token"])?;
            }
            w.write_record([url.as_ref(), token.as_ref()])?;
            w.flush()?;
        }
        Format::Table | Format::Wide | Format::Siem(_) => {
            writeln!(out, "{url}")?;
            if show_token {
                writeln!(out, "{token}")?;
            }
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(format: Format) -> OutputOpts {
        OutputOpts {
            format,
            ..OutputOpts::default()
        }
    }

    fn printed(format: Format, show: bool) -> String {
        let s = WebSession::new("https://pam/modulos/auth?_sr=abc", "tok-123");
        let mut buf = Vec::new();
        print(&mut buf, &s, show, &opts(format)).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(buf).unwrap_or_default()
    }

    #[test]
    fn the_url_alone_by_default_and_the_token_only_when_asked() {
        assert_eq!(
            printed(Format::Table, false),
            "https://pam/modulos/auth?_sr=abc\n"
        );
        assert_eq!(
            printed(Format::Table, true),
            "https://pam/modulos/auth?_sr=abc\ntok-123\n"
        );
        assert_eq!(
            printed(Format::Ndjson, false),
            "{\"url\":\"https://pam/modulos/auth?_sr=abc\",\"token\":\"[redacted]\"}\n"
        );
        assert!(printed(Format::Json, true).contains("\"token\":\"tok-123\""));
        assert_eq!(
            printed(Format::Csv, false),
            "url,token\nhttps://pam/modulos/auth?_sr=abc,[redacted]\n"
        );
    }

    #[test]
    fn csv_quotes_a_url_or_token_with_a_comma_or_a_quote() {
        let s = WebSession::new("https://pam/modulos/auth?_sr=a,b", "t,\"k");
        let mut buf = Vec::new();
        print(&mut buf, &s, true, &opts(Format::Csv)).unwrap_or_else(|e| panic!("{e}"));
        let mut r = csv::Reader::from_reader(buf.as_slice());
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("a row")).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(&rows[0][0], "https://pam/modulos/auth?_sr=a,b");
        assert_eq!(&rows[0][1], "t,\"k");
    }
}
