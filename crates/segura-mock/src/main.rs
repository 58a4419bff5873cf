//! The `segura-mock` binary: runs a mock PAM Core server until Ctrl-C, and
//! prints what a person needs to point the CLI at it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use segura_mock::fault::parse_duration;
use segura_mock::{
    Fault, FaultTarget, MockConfig, MockServer, PathFamilies, TokenAuth, TokenPaths,
};

const HELP: &str = "\
segura-mock: a mock Segura PAM Core server for tests and demos

Usage: segura-mock [OPTIONS]

Options:
      --port PORT              Port to listen on; 0 picks a free one [default: 8443]
      --bind ADDRESS           Address to listen on [default: 127.0.0.1]
      --sessions N             Sessions in the list [default: 1000]
      --seed N                 Seed of the session generator [default: 1]
      --tls                    Serve HTTPS with a freshly generated CA
      --ca-out PATH            Where to write the CA certificate (PEM) with --tls
                               [default: a file in the temporary directory]
      --client-id ID           OAuth 2.0 client id to accept [default: generated]
      --client-secret SECRET   OAuth 2.0 client secret to accept [default: generated]
      --token-lifetime DUR     Access token lifetime: 500ms, 3600s, 10m, 1h [default: 1h]
      --tenant NAME            Tenant named in response envelopes [default: Segura]
      --gzip-ahead             Compress the gzip list body once, ahead of time, and send
                               the same bytes to every request for it (benchmarks)
      --fault TARGET:FAULT     A standing fault (repeatable). TARGET is any, token, list,
                               get, drop or web-session; FAULT uses the
                               X-Segura-Mock-Fault syntax, e.g. list:truncate-after=10,
                               any:503, list:delay=20ms
      --variant NAME[,NAME]    Speak a documented variant of the API (repeatable):
                                 nested-envelope          the 3.33 list body, an envelope
                                                          inside remote_sessions
                                 session-paths-only       list and get under /api/session/
                                                          only
                                 pam-paths-only           list and get under
                                                          /api/pam/session/ only
                                 api-token-path           the token endpoint at
                                                          /api/oauth2/token only
                                 both-token-paths         at /iso/oauth2/token and
                                                          /api/oauth2/token
                                 basic-only-token         client credentials as HTTP
                                                          Basic only
                                 legacy-drop-only         DELETE /iso/session/drop/HASH
                                                          only, with its older answer
                                 legacy-web-session-only  POST /api/remote/session only,
                                                          its message under `Message`
                                 request-ids              X-Request-Id on every answer
                                 etags                    ETag on list answers, 304 to a
                                                          matching If-None-Match
  -h, --help                   Print this help
  -V, --version                Print the version

Endpoints: POST /iso/oauth2/token, GET /api/session/remotesessions[/ID],
DELETE /api/pam/session/drop/HASH, POST /api/pam/remote/session (and the older
aliases). Send the header
X-Segura-Mock-Fault: FAULT[, FAULT...] to disturb a single request.
See docs/mock-server.md.
";

#[derive(Debug)]
struct Args {
    config: MockConfig,
    tls: bool,
    ca_out: Option<PathBuf>,
}

enum Parsed {
    Run(Box<Args>),
    Help,
    Version,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut config = MockConfig::default().sessions(1000).port(8443);
    let mut tls = false;
    let mut ca_out = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let number = |v: String| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: {v:?} is not a number"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Parsed::Help),
            "-V" | "--version" => return Ok(Parsed::Version),
            "--port" => {
                let v = value()?;
                let port: u16 = v
                    .parse()
                    .map_err(|_| format!("--port: {v:?} is not a port number"))?;
                config = config.port(port);
            }
            "--bind" => {
                let v = value()?;
                let ip: IpAddr = v
                    .parse()
                    .map_err(|_| format!("--bind: {v:?} is not an IP address"))?;
                config = config.bind(ip);
            }
            "--sessions" => config = config.sessions(number(value()?)?),
            "--seed" => config = config.seed(number(value()?)?),
            "--tls" => {
                if inline.is_some() {
                    return Err("--tls takes no value".to_owned());
                }
                tls = true;
                config = config.tls(true);
            }
            "--ca-out" => ca_out = Some(PathBuf::from(value()?)),
            "--client-id" => config = config.client_id(value()?),
            "--client-secret" => config = config.client_secret(value()?),
            "--token-lifetime" => {
                let v = value()?;
                let lifetime: Duration =
                    parse_duration(&v).map_err(|e| format!("--token-lifetime: {e}"))?;
                config = config.token_lifetime(lifetime);
            }
            "--tenant" => config = config.tenant(value()?),
            "--gzip-ahead" => {
                if inline.is_some() {
                    return Err("--gzip-ahead takes no value".to_owned());
                }
                config = config.gzip_ahead(true);
            }
            "--fault" => {
                let v = value()?;
                let (target, fault) = v
                    .split_once(':')
                    .ok_or_else(|| format!("--fault: expected TARGET:FAULT, got {v:?}"))?;
                let target: FaultTarget = target.parse().map_err(|e| format!("--fault: {e}"))?;
                let fault: Fault = fault.parse().map_err(|e| format!("--fault: {e}"))?;
                config = config.fault(target, fault);
            }
            "--variant" => {
                for name in value()?.split(',') {
                    config = with_variant(config, name)?;
                }
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    if ca_out.is_some() && !tls {
        return Err("--ca-out needs --tls".to_owned());
    }
    Ok(Parsed::Run(Box::new(Args {
        config,
        tls,
        ca_out,
    })))
}

/// The names of `--variant`, in the order of the help.
const VARIANTS: [&str; 10] = [
    "nested-envelope",
    "session-paths-only",
    "pam-paths-only",
    "api-token-path",
    "both-token-paths",
    "basic-only-token",
    "legacy-drop-only",
    "legacy-web-session-only",
    "request-ids",
    "etags",
];

/// `config` speaking the variant `name` (see [`VARIANTS`]).
fn with_variant(config: MockConfig, name: &str) -> Result<MockConfig, String> {
    Ok(match name.trim() {
        "nested-envelope" => config.nested_envelope(true),
        "session-paths-only" => config.path_families(PathFamilies::Session),
        "pam-paths-only" => config.path_families(PathFamilies::Pam),
        "api-token-path" => config.token_paths(TokenPaths::Api),
        "both-token-paths" => config.token_paths(TokenPaths::Both),
        "basic-only-token" => config.token_auth(TokenAuth::BasicOnly),
        "legacy-drop-only" => config.legacy_drop_only(true),
        "legacy-web-session-only" => config.web_session_legacy_only(true),
        "request-ids" => config.request_ids(true),
        "etags" => config.etags(true),
        other => {
            return Err(format!(
                "--variant: unknown variant {other:?}; known: {}",
                VARIANTS.join(", ")
            ))
        }
    })
}

/// Quotes a value for a POSIX shell when it needs it.
fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@%+=,".contains(&b));
    if plain {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', "'\\''"))
    }
}

async fn run(args: Args) -> Result<(), String> {
    let server = MockServer::start(args.config)
        .await
        .map_err(|e| e.to_string())?;
    // Before the URL is printed: whoever waits for it gets a server ready at full speed.
    server.prepare_gzip_ahead();
    let mut ca_line = String::new();
    let mut env_prefix = String::new();
    if let Some(pem) = server.ca_cert_pem() {
        let path = args.ca_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("segura-mock-{}-ca.pem", server.addr().port()))
        });
        std::fs::write(&path, pem)
            .map_err(|e| format!("cannot write the CA certificate to {}: {e}", path.display()))?;
        ca_line = format!("ca_cert: {}\n", path.display());
        env_prefix = format!(
            "SSL_CERT_FILE={} ",
            shell_quote(&path.display().to_string())
        );
    }
    let oauth1 = server.oauth1_credentials();
    println!(
        "segura-mock {} serving {} sessions (seed {}) on {}{}\n\
         url: {}\n\
         client_id: {}\n\
         client_secret: {}\n\
         oauth1_consumer_key: {}\n\
         oauth1_consumer_secret: {}\n\
         oauth1_token: {}\n\
         oauth1_token_secret: {}\n\
         {ca_line}\n\
         In another terminal:\n  \
         {env_prefix}SEGURA_URL={} SEGURA_CLIENT_ID={} SEGURA_CLIENT_SECRET={} segura sessions list\n\n\
         Press Ctrl-C to stop.",
        env!("CARGO_PKG_VERSION"),
        server.session_count(),
        server.generator().seed(),
        server.addr(),
        if args.tls { " (TLS)" } else { "" },
        server.url(),
        server.client_id(),
        server.client_secret(),
        oauth1.consumer_key,
        oauth1.consumer_secret,
        oauth1.token,
        oauth1.token_secret,
        shell_quote(server.url()),
        shell_quote(server.client_id()),
        shell_quote(server.client_secret()),
    );
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    let stats = server.stats();
    eprintln!(
        "segura-mock: stopping after {} requests ({} token, {} list, {} get, {} drop; \
         {} sessions streamed, {} faults served)",
        stats.requests,
        stats.token_requests,
        stats.list_requests,
        stats.get_requests,
        stats.drop_requests,
        stats.sessions_streamed,
        stats.faults_served,
    );
    server.shutdown().await;
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Parsed::Run(args)) => *args,
        Ok(Parsed::Help) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Ok(Parsed::Version) => {
            println!("segura-mock {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("segura-mock: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("segura-mock: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("segura-mock: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Parsed, String> {
        parse_args(args.iter().map(|a| (*a).to_owned()))
    }

    #[test]
    fn parses_every_option() {
        let parsed = parse(&[
            "--port=0",
            "--sessions",
            "5",
            "--seed",
            "9",
            "--tls",
            "--ca-out",
            "/tmp/x.pem",
            "--client-id",
            "id",
            "--client-secret=s",
            "--token-lifetime",
            "2s",
            "--bind",
            "::1",
            "--tenant",
            "Acme",
            "--fault",
            "list:truncate-after=3",
        ]);
        let Ok(Parsed::Run(args)) = parsed else {
            panic!("expected a run");
        };
        assert!(args.tls);
        assert_eq!(args.ca_out, Some(PathBuf::from("/tmp/x.pem")));
        let debug = format!("{:?}", args.config);
        for part in [
            "sessions: 5",
            "seed: 9",
            "client_id: Some(\"id\")",
            "client_secret: Some(\"<redacted>\")",
            "token_lifetime: 2s",
            "tls: true",
            "bind: ::1",
            "port: 0",
            "faults: [(List, TruncateAfter(3))]",
            "tenant: \"Acme\"",
        ] {
            assert!(debug.contains(part), "{part} not in {debug}");
        }
    }

    #[test]
    fn parses_every_variant() {
        let debug = |args: &[&str]| match parse(args) {
            Ok(Parsed::Run(a)) => format!("{:?}", a.config),
            Ok(_) => panic!("expected a run"),
            Err(e) => panic!("{e}"),
        };
        let all = debug(&[
            "--variant",
            "nested-envelope,pam-paths-only",
            "--variant=both-token-paths",
            "--variant",
            "basic-only-token",
            "--variant",
            "legacy-drop-only",
            "--variant",
            "legacy-web-session-only",
            "--variant",
            "request-ids",
            "--variant",
            "etags",
        ]);
        assert!(
            all.contains(
                "variants: Variants { nested_envelope: true, paths: Pam, \
                 token_paths: Both, token_auth: BasicOnly, legacy_drop_only: true, \
                 request_ids: true, etags: true, web_session_legacy_only: true }"
            ),
            "{all}"
        );
        assert!(debug(&["--variant", "session-paths-only"]).contains("paths: Session"));
        assert!(debug(&["--variant", "api-token-path"]).contains("token_paths: Api"));
        // Every name of the list is accepted and documented in --help.
        for name in VARIANTS {
            assert!(parse(&["--variant", name]).is_ok(), "{name}");
            assert!(HELP.contains(name), "{name} is not in --help");
        }
        let unknown = parse(&["--variant", "etag"]).err().unwrap_or_default();
        assert!(
            unknown.contains("etags") && unknown.contains("\"etag\""),
            "{unknown}"
        );
        assert!(parse(&["--variant"]).is_err());
    }

    #[test]
    fn rejects_bad_arguments() {
        for bad in [
            &["--port", "x"][..],
            &["--port"],
            &["--sessions", "-1"],
            &["--fault", "list"],
            &["--fault", "nowhere:500"],
            &["--token-lifetime", "10"],
            &["--ca-out", "x"],
            &["--tls=yes"],
            &["--what"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(matches!(parse(&["-h"]), Ok(Parsed::Help)));
        assert!(matches!(parse(&["--version"]), Ok(Parsed::Version)));
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(
            shell_quote("http://127.0.0.1:8443"),
            "http://127.0.0.1:8443"
        );
        assert_eq!(shell_quote("a b'c"), "'a b'\\''c'");
    }
}
