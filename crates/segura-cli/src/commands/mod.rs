//! The commands, and what they share: the terminal facts, the output options, the
//! client built from the effective configuration.

pub mod audit;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod drop;
pub mod exporter;
pub mod get;
pub mod list;
pub mod man;
pub mod matched;
pub mod open;
pub mod report;
pub mod rules_file;
pub mod stats;
pub mod top;
pub mod watch;

use std::io::{self, BufWriter, IsTerminal, StdoutLock, Write};

use segura_http::HttpClient;
use segura_model::Field;

use segura_api::ApplianceZone;

use crate::cli::{Cli, Command, ConfigCommand, GlobalArgs, SessionsCommand, Shell, TimeFormat};
use crate::config::{process_env, resolve};
use crate::diag;
use crate::exit::CliError;
use crate::feed::{runtime, ApiFeed, ByteTap, Feed, InputFeed};
use crate::output::OutputOpts;
use crate::progress::Progress;

/// Facts about the terminal and the global options.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The global options.
    pub global: GlobalArgs,
    /// Standard output is a terminal.
    pub stdout_tty: bool,
    /// Standard error is a terminal.
    pub stderr_tty: bool,
    /// Standard input is a terminal.
    pub stdin_tty: bool,
    /// The requests are polls of `watch`: without `--timeout`, each has a deadline of
    /// [`crate::config::WATCH_POLL_TIMEOUT`].
    pub watch_poll: bool,
    /// The appliance's time zone, once resolved ([`Ctx::with_zone`]).
    pub zone: ApplianceZone,
}

/// Whether colours are allowed at all (NO_COLOR, --no-color, TERM=dumb).
fn colour_allowed(global: &GlobalArgs) -> bool {
    !global.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

impl Ctx {
    /// Looks at the process's terminals.
    pub fn new(global: GlobalArgs) -> Self {
        Self {
            global,
            stdout_tty: io::stdout().is_terminal(),
            stderr_tty: io::stderr().is_terminal(),
            stdin_tty: io::stdin().is_terminal(),
            watch_poll: false,
            zone: ApplianceZone::Local,
        }
    }

    /// Resolves the appliance's time zone (`--tz`, `SEGURA_TZ`, the profile's
    /// `timezone`); with none, the local zone, which `-v` tells.
    pub fn with_zone(mut self) -> Result<Self, CliError> {
        let zone = match self.global.tz {
            Some(z) => z,
            None => {
                let resolved = resolve(&self.global, &process_env)?;
                if resolved.timezone.value.is_local()
                    && resolved.timezone.origin == crate::config::Origin::Default
                {
                    tracing::debug!(
                        offset = %chrono::Local::now().offset(),
                        "no appliance time zone set (--tz, SEGURA_TZ or the profile key \
                         timezone): assuming the local zone of this machine"
                    );
                }
                resolved.timezone.value
            }
        };
        tracing::debug!(zone = %zone, "appliance time zone");
        crate::clock::set_zone(zone);
        self.zone = zone;
        Ok(self)
    }

    /// How to print to standard output.
    pub fn output_opts(&self, fields: Option<Vec<Field>>) -> OutputOpts {
        let width = if self.stdout_tty {
            std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .or_else(|| terminal_size::terminal_size().map(|(w, _)| usize::from(w.0)))
        } else {
            None
        };
        let quiet = self.global.quiet;
        OutputOpts {
            format: self.global.output.into(),
            no_headers: self.global.no_headers,
            pretty: self.stdout_tty,
            note: (!quiet).then_some(diag::note as crate::output::NoteFn),
            now: Some(crate::clock::now().naive),
            fields,
            color: self.stdout_tty && colour_allowed(&self.global),
            width,
            flush_each: self.stdout_tty,
            csv_raw: self.global.csv_raw,
            rfc3339: match self.global.time_format {
                TimeFormat::Api => None,
                TimeFormat::Rfc3339 => Some(self.zone),
            },
            zone: self.zone,
        }
    }

    /// A progress line for a list, when stderr is a terminal that nothing else uses.
    pub fn progress(&self) -> Progress {
        Progress::start(self.stderr_tty && !self.global.quiet && self.global.verbose == 0)
    }

    /// The HTTPS client for the effective configuration. Its secrets (and a password
    /// in the URL, which the client refuses) are scrubbed from every diagnostic.
    pub fn connect(&self) -> Result<HttpClient, CliError> {
        let resolved = resolve(&self.global, &process_env)?;
        if let Some(url) = &resolved.url {
            register_url_password(&url.value);
        }
        let config = with_poll_deadline(resolved.client_config()?, self.watch_poll);
        register_secrets(&config.auth);
        tracing::debug!(
            url = %config.base_url,
            url_from = %resolved.url.as_ref().map(|u| u.origin.to_string()).unwrap_or_default(),
            auth = %resolved.method.as_ref().map(|m| m.value.to_string()).unwrap_or_default(),
            profile = %resolved.profile.value,
            "configuration resolved"
        );
        if config.danger_accept_invalid_certs {
            // Always, even with -q: this must never go unnoticed.
            diag::warn(
                "TLS certificate verification is off (--insecure): anyone on the \
                 network path can read the credentials and the sessions",
            );
        }
        if let Some(host) = plain_http_host(&config.base_url) {
            if !is_loopback(host) && !self.global.quiet {
                diag::warn(&format!(
                    "{} uses plain http: credentials and sessions travel unencrypted",
                    config.base_url
                ));
            }
        }
        let client = HttpClient::new(config)?;
        diag::scrub_with(client.redactor().clone());
        Ok(client)
    }
}

/// Scrubs the password of `url` (`https://user:pw@host`), as typed and decoded.
fn register_url_password(url: &str) {
    if let Some(pw) = crate::config::url_password(url) {
        let secrets = diag::secrets();
        secrets.add(pw);
        if let Ok(decoded) = percent_decode(pw) {
            secrets.add(&decoded);
        }
    }
}

/// `%XX` sequences decoded; an error when the result is not UTF-8.
fn percent_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
}

/// Scrubs the secrets of `auth` from the diagnostics.
fn register_secrets(auth: &segura_http::Auth) {
    use segura_http::{Auth, ClientAuthMethod};
    let secrets = diag::secrets();
    match auth {
        Auth::OAuth2 {
            client_id,
            client_secret,
            method: ClientAuthMethod::Basic,
        } => secrets.add_basic(client_id, client_secret.expose()),
        Auth::OAuth2 { client_secret, .. } => secrets.add(client_secret.expose()),
        Auth::OAuth1 {
            consumer_secret,
            token_secret,
            ..
        } => {
            secrets.add(consumer_secret.expose());
            secrets.add(token_secret.expose());
        }
        Auth::Bearer(token) => {
            crate::exit::set_fixed_token();
            secrets.add(token.expose());
        }
        _ => {}
    }
}

/// The configuration of `watch`'s polls: without `--timeout`, each poll has the
/// deadline [`crate::config::WATCH_POLL_TIMEOUT`], so a server that hangs or drips
/// cannot stop the watch for good.
fn with_poll_deadline(
    mut config: segura_http::ClientConfig,
    watch_poll: bool,
) -> segura_http::ClientConfig {
    if watch_poll && config.total_timeout.is_none() {
        config.total_timeout = Some(crate::config::WATCH_POLL_TIMEOUT);
    }
    config
}

/// The host of an `http://` URL.
fn plain_http_host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    Some(if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Standard output, locked once and buffered generously.
fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::with_capacity(256 * 1024, io::stdout().lock())
}

/// Runs `f` over the feed of `input`, or of the server.
fn with_feed<T>(
    ctx: &Ctx,
    input: Option<&std::path::Path>,
    f: impl FnOnce(&mut dyn Feed) -> Result<T, CliError>,
) -> Result<T, CliError> {
    match input {
        Some(path) => f(&mut InputFeed::new(path)),
        None => {
            let client = ctx.connect()?;
            let rt = runtime()?;
            f(&mut ApiFeed::new(&rt, &client))
        }
    }
}

/// `url` without a `user:password@` part (a report names the appliance, not the login).
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let (authority, path) = rest.split_at(end);
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// The SIEM formats describe sessions: only `list`, `get` and `watch` write them, and
/// their records have a fixed shape (no `--fields`).
fn check_siem_output(ctx: &Ctx, command: &Command) -> Result<(), CliError> {
    let format: crate::output::Format = ctx.global.output.into();
    let Some(name) = format.siem_name() else {
        return Ok(());
    };
    let fields = match command {
        Command::Sessions(SessionsCommand::List(a)) => a.fields.is_some(),
        Command::Sessions(SessionsCommand::Get(a)) => a.fields.is_some(),
        Command::Sessions(SessionsCommand::Watch(a)) => a.fields.is_some(),
        _ => {
            return Err(CliError::Usage(format!(
                "-o {name} writes SIEM records of sessions: it is for `sessions list`, \
                 `sessions get` and `sessions watch` (use -o ndjson here)"
            )))
        }
    };
    if fields {
        return Err(CliError::Usage(format!(
            "--fields does not apply to -o {name}: its records always carry the whole \
             mapping (see docs/siem.md)"
        )));
    }
    Ok(())
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx::new(cli.global);
    let ctx = match &cli.command {
        Command::Sessions(_) => ctx.with_zone()?,
        _ => ctx,
    };
    check_siem_output(&ctx, &cli.command)?;
    match cli.command {
        Command::Sessions(SessionsCommand::List(mut args)) => {
            args.filter.zone = ctx.zone;
            let opts = ctx.output_opts(args.fields.clone());
            let progress = ctx.progress();
            with_feed(&ctx, args.filter.input.as_deref(), |feed| {
                list::run(feed, &args, stdout(), &opts, &progress)
            })
        }
        Command::Sessions(SessionsCommand::Stats(mut args)) => {
            args.filter.zone = ctx.zone;
            let opts = ctx.output_opts(None);
            let mut progress = ctx.progress();
            with_feed(&ctx, args.filter.input.as_deref(), |feed| {
                stats::run(feed, &args, stdout(), &opts, &mut progress)
            })
        }
        Command::Sessions(SessionsCommand::Audit(args)) => {
            let opts = ctx.output_opts(None);
            let mut progress = ctx.progress();
            let quiet = ctx.global.quiet;
            with_feed(&ctx, args.filter.input.as_deref(), |feed| {
                audit::run(feed, &args, stdout(), &opts, &mut progress, quiet)
            })
        }
        Command::Sessions(SessionsCommand::Report(args)) => {
            let mut progress = ctx.progress();
            let tap = ByteTap::new();
            match args.filter.input.as_deref() {
                Some(path) => {
                    let source = if path.as_os_str() == "-" {
                        "standard input".to_owned()
                    } else {
                        format!("file {}", path.display())
                    };
                    let mut feed = InputFeed::new(path).tapped(tap.clone());
                    report::run(&mut feed, &tap, &args, source, &mut progress)
                }
                None => {
                    let resolved = resolve(&ctx.global, &process_env)?;
                    let source = resolved
                        .url
                        .as_ref()
                        .map(|u| without_userinfo(&u.value))
                        .unwrap_or_default();
                    let client = ctx.connect()?;
                    let rt = runtime()?;
                    let mut feed = ApiFeed::new(&rt, &client).tapped(tap.clone());
                    report::run(&mut feed, &tap, &args, source, &mut progress)
                }
            }
        }
        Command::Sessions(SessionsCommand::Watch(mut args)) => {
            args.filter.zone = ctx.zone;
            let ctx = Ctx {
                watch_poll: true,
                ..ctx
            };
            let mut opts = ctx.output_opts(args.fields.clone());
            opts.flush_each = true;
            let quiet = ctx.global.quiet;
            let mut warn = |text: &str| {
                if !quiet {
                    // The note is built from an error report: already cleaned.
                    diag::note(text);
                }
            };
            with_feed(&ctx, args.filter.input.as_deref(), |feed| {
                watch::run(feed, &args, stdout(), &opts, &mut warn)
            })
        }
        Command::Sessions(SessionsCommand::Exporter(mut args)) => {
            args.filter.zone = ctx.zone;
            let ctx = Ctx {
                watch_poll: true,
                ..ctx
            };
            exporter::run(&ctx, args)
        }
        Command::Sessions(SessionsCommand::Top(mut args)) => {
            args.filter.zone = ctx.zone;
            top::run(&ctx, &args)
        }
        Command::Sessions(SessionsCommand::Open(args)) => {
            let opts = ctx.output_opts(None);
            let client = ctx.connect()?;
            let rt = runtime()?;
            open::run(&rt, &client, &args, stdout(), &opts)?;
            if ctx.stdout_tty && !ctx.global.quiet {
                diag::note(
                    "note: this URL opens the session without any further login: \
                     treat it as a password",
                );
            }
            Ok(())
        }
        Command::Sessions(SessionsCommand::Get(args)) => {
            let opts = ctx.output_opts(args.fields.clone());
            let client = ctx.connect()?;
            let rt = runtime()?;
            get::run(&rt, &client, &args, stdout(), &opts)
        }
        Command::Sessions(SessionsCommand::Drop(mut args)) => {
            args.filter.zone = ctx.zone;
            let opts = ctx.output_opts(None);
            let resolved = resolve(&ctx.global, &process_env)?;
            let appliance = resolved
                .url
                .as_ref()
                .map(|u| without_userinfo(&u.value))
                .unwrap_or_default();
            let log_path = resolved.drop_log.map(|p| p.value).ok_or_else(|| {
                CliError::config(
                    "no drop log can be named: this system has no state or data directory",
                    "set `drop_log` in the profile, or SEGURA_DROP_LOG",
                )
            })?;
            let log = crate::drop_log::DropLog::open(&log_path)?;
            tracing::debug!(path = %log.path().display(), "drop log");
            let client = ctx.connect()?;
            let rt = runtime()?;
            // On a terminal: standard input is one, or it carries the --stdin data while
            // stderr is one; the question and the answer then use the terminal itself.
            let on_terminal = ctx.stdin_tty || (args.stdin && ctx.stderr_tty);
            let mut tty = if on_terminal && !args.yes && !args.dry_run {
                drop::TtyConfirm::open().ok()
            } else {
                None
            };
            let stdin = io::stdin();
            let mut stdin = stdin.lock();
            let env = drop::DropEnv {
                rt: &rt,
                api: &client,
                confirm: tty.as_mut().map(|t| t as &mut dyn drop::Confirm),
                log: &log,
                appliance: &appliance,
                stdin: &mut stdin,
                now: crate::clock::now().naive,
            };
            drop::run(env, &args, stdout(), &opts)
        }
        Command::Config(ConfigCommand::Show) => {
            let resolved = resolve(&ctx.global, &process_env)?;
            config::show(stdout(), &resolved, &ctx.output_opts(None)).map_err(CliError::output)
        }
        #[cfg(feature = "demo")]
        Command::Demo(args) => demo::run(&args, stdout(), &ctx.output_opts(None)),
        #[cfg(not(feature = "demo"))]
        Command::Demo(_) => Err(CliError::Usage(
            "this segura was built without the demo (cargo feature `demo`)".into(),
        )),
        Command::Completions(args) => {
            use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
            let shell: &dyn EnvCompleter = match args.shell {
                Shell::Bash => &Bash,
                Shell::Zsh => &Zsh,
                Shell::Fish => &Fish,
                Shell::Powershell => &Powershell,
                Shell::Elvish => &Elvish,
            };
            let mut out = stdout();
            shell
                .write_registration(
                    crate::cli::COMPLETE_VAR,
                    "segura",
                    "segura",
                    "segura",
                    &mut out,
                )
                .and_then(|()| out.flush())
                .map_err(CliError::output)
        }
        Command::Man(args) => match args.out_dir {
            Some(dir) => man::generate_to(&dir).map_err(|e| {
                CliError::Local(format!(
                    "cannot write the manual pages into {}: {e}",
                    dir.display()
                ))
            }),
            None => {
                let mut out = stdout();
                man::render(&mut out)
                    .and_then(|()| out.flush())
                    .map_err(CliError::output)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_polls_have_a_deadline_unless_one_is_set() {
        use segura_http::{Auth, ClientConfig, Secret};
        use std::time::Duration;
        let base = || ClientConfig::new("https://x", Auth::Bearer(Secret::new("t")));
        assert_eq!(with_poll_deadline(base(), false).total_timeout, None);
        assert_eq!(
            with_poll_deadline(base(), true).total_timeout,
            Some(Duration::from_secs(600))
        );
        let set = base().total_timeout(Some(Duration::from_secs(5)));
        assert_eq!(
            with_poll_deadline(set, true).total_timeout,
            Some(Duration::from_secs(5))
        );
    }

    #[test]
    fn a_report_names_the_appliance_without_the_login() {
        assert_eq!(
            without_userinfo("https://u:pw@pam.example:8443/x?y"),
            "https://pam.example:8443/x?y"
        );
        assert_eq!(
            without_userinfo("https://pam.example"),
            "https://pam.example"
        );
    }

    #[test]
    fn plain_http_to_another_host_is_noticed() {
        assert_eq!(
            plain_http_host("http://pam.example:8080/x"),
            Some("pam.example")
        );
        assert_eq!(plain_http_host("http://[::1]:80"), Some("::1"));
        assert_eq!(plain_http_host("https://pam.example"), None);
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("LOCALHOST"));
        assert!(!is_loopback("pam.example"));
    }
}
