//! The command line: every command, option and value parser, as clap derive types.
//!
//! Parsing turns user text into typed values here (fields, durations, time bounds,
//! session ids) so that a bad value is a usage error (exit 2) before anything runs.

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use segura_api::sort::SortKey;
use segura_api::{stats, ApplianceZone, Expression, Pattern, SessionFilter, TimeWindow};
use segura_model::{Field, SessionDuration, SessionHash, SessionId};

mod top;

pub use top::TopArgs;

use crate::exit::CliError;
use crate::timespec::{
    parse_human_duration, parse_time_spec, parse_window, BoundKind, TimeSpec, WindowSpec,
};

mod exporter;
pub use exporter::ExporterArgs;

/// The exit codes, shown at the end of `segura --help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (also when the reader of the output goes away early, as with `| head`)
  1  the operation was not completed for a local reason (confirmation declined,
     the output or the watch state file could not be written or is in use)
  2  usage: an unknown option, a malformed value, `drop` without --yes off a terminal
  3  configuration: missing URL or credentials, a bad config file, an unreadable --input
  4  authentication or authorization refused by the server or its gateway
  5  not found: no session has this id or hash, or the URL names no resource
  6  server error: HTTP 5xx, \"Unexpected error.\", bad gateway, another refusal
  7  network or timeout: connect, DNS, TLS, idle timeout, gateway timeout
  8  invalid or truncated response
  9  audit findings at or above --fail-on (`sessions audit`)

Credentials are read from the environment or a profile, never from flags:
  SEGURA_CLIENT_ID + SEGURA_CLIENT_SECRET (or SEGURA_CLIENT_SECRET_FILE), SEGURA_TOKEN,
  or SEGURA_CONSUMER_KEY, SEGURA_CONSUMER_SECRET, SEGURA_TOKEN_KEY, SEGURA_TOKEN_SECRET.
See `segura config show` for the effective configuration.

Examples:
  segura sessions list --active
  segura sessions stats --by user --since 7d
  segura sessions watch -o ndjson
  segura demo";

/// The environment variable through which a shell asks `segura` for completions (the
/// scripts of `segura completions` set it).
pub const COMPLETE_VAR: &str = "SEGURA_COMPLETE";

/// The `segura` command line.
#[derive(Debug, Parser)]
#[command(
    name = "segura",
    version,
    about = "Query and manage the remote sessions of a Segura PAM Core appliance.",
    long_about = "Query and manage the remote sessions of a Segura PAM Core appliance \
                  (formerly senhasegura): list, filter, summarise, watch and drop \
                  privileged sessions.",
    after_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// Options accepted before or after the subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Aligned columns for people, fitted to the terminal.
    #[default]
    Table,
    /// A table of every field, nothing shortened or left out.
    Wide,
    /// One JSON array (one object for `get`).
    Json,
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 CSV with a header of the API's key names.
    Csv,
    /// Elastic Common Schema: one JSON event per line (list, get, watch).
    Ecs,
    /// OCSF 1.6: one JSON event per line (list, get, watch).
    Ocsf,
    /// ArcSight CEF: one event per line (list, get, watch).
    Cef,
}

impl From<Format> for crate::output::Format {
    fn from(f: Format) -> Self {
        use crate::output::Format as O;
        match f {
            Format::Table => O::Table,
            Format::Wide => O::Wide,
            Format::Json => O::Json,
            Format::Ndjson => O::Ndjson,
            Format::Csv => O::Csv,
            Format::Ecs => O::Siem(segura_api::siem::Format::Ecs),
            Format::Ocsf => O::Siem(segura_api::siem::Format::Ocsf),
            Format::Cef => O::Siem(segura_api::siem::Format::Cef),
        }
    }
}

/// Options that apply to every command (shown under their own heading).
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the appliance [env: SEGURA_URL, SENHASEGURA_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// Profile of the config file to use (`default` when none is named) [env: SEGURA_PROFILE]
    #[arg(long, global = true, value_name = "NAME", add = ArgValueCandidates::new(profile_candidates))]
    pub profile: Option<String>,

    /// Config file [env: SEGURA_CONFIG] [default: ~/.config/segura/config.toml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Extra CA certificate (PEM) to trust [env: SEGURA_CA_CERT]
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,

    /// Turn TLS certificate verification off (dangerous; warns every time)
    #[arg(long, global = true)]
    pub insecure: bool,

    /// Time allowed to connect, e.g. 10s [default: 30s]
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_std_duration)]
    pub connect_timeout: Option<Duration>,

    /// Longest silence allowed while a response arrives, e.g. 2m [default: 2m]
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_std_duration)]
    pub read_timeout: Option<Duration>,

    /// Deadline of each whole request, body included, e.g. 10m [env: SEGURA_TIMEOUT]
    /// [default: none for a list, 5m for get, drop and the token request, 10m per watch poll]
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_std_duration)]
    pub timeout: Option<Duration>,

    /// Retries of idempotent requests after a transient failure [default: 3]
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,

    /// Do not ask the server for gzip-compressed bodies (useful on loopback or a fast LAN)
    #[arg(long, global = true)]
    pub no_compression: bool,

    /// Output format
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = Format::Table)]
    pub output: Format,

    /// No header line in tables and CSV
    #[arg(long, global = true)]
    pub no_headers: bool,

    /// CSV cells exactly as received: without it, a cell starting with = + - @ TAB or
    /// CR (a spreadsheet formula) is led by '
    #[arg(long, global = true)]
    pub csv_raw: bool,

    /// No colours (also with the NO_COLOR environment variable)
    #[arg(long, global = true)]
    pub no_color: bool,

    /// Debug logs on stderr (-vv for more); secrets are never logged
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr: no progress, no notes
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// The appliance's time zone: an IANA name (America/Sao_Paulo), UTC, an offset
    /// (-03:00) or local [env: SEGURA_TZ] [default: local]
    #[arg(long, global = true, value_name = "ZONE", value_parser = parse_zone, allow_hyphen_values = true)]
    pub tz: Option<ApplianceZone>,

    /// How start and end are written: as the API sends them, or RFC 3339 with the
    /// appliance zone's offset (2024-05-06T16:05:07-03:00)
    #[arg(long, global = true, value_enum, default_value_t = TimeFormat::Api)]
    pub time_format: TimeFormat,
}

/// How `start` and `end` are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum TimeFormat {
    /// `2024-05-06 16:05:07`, the appliance's clock as the API writes it.
    #[default]
    Api,
    /// RFC 3339 with the zone's offset: `2024-05-06T16:05:07-03:00`.
    Rfc3339,
}

/// The commands.
// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Remote sessions: list, get, drop, stats, watch, top
    #[command(subcommand, visible_alias = "session")]
    Sessions(SessionsCommand),
    /// The effective configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Start a local mock appliance and run the real client against it
    Demo(DemoArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the manual page (roff), or write it into a directory
    Man(ManArgs),
}

/// `segura sessions ...`.
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// List sessions, streamed and filtered as they arrive
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show sessions by their numeric id or 40-hex session_id
    Get(GetArgs),
    /// Terminate sessions by their 40-hex session_id, or those the filters select
    Drop(DropArgs),
    /// Count sessions and sum their durations per group
    Stats(StatsArgs),
    /// Poll the list and report new and ended sessions
    Watch(WatchArgs),
    /// Audit the sessions: findings of the audit rules, worst first
    Audit(AuditArgs),
    /// Write a self-contained HTML audit report
    Report(ReportArgs),
    /// Serve Prometheus metrics of the sessions, polled in the background
    Exporter(ExporterArgs),
    /// A live, full-screen view of the open sessions
    Top(TopArgs),
    /// Create a web proxy session and print the URL that starts it in a browser
    Open(OpenArgs),
}

/// `segura sessions open`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Posts to /api/pam/remote/session (the older /api/remote/session when that path answers
404) and prints the session URL alone on stdout, so that it can be handed to a browser.
The URL and the token open the session without any further login: they are
credentials. They are never logged (not even with -vv), never quoted in an error, and
never written to a file by segura; the token is shown as [redacted] unless
--show-token. The request is not sent twice (each answer is a new live session), except
when it provably never left or was refused with 401 before anything happened.
The A2A authorization needs the \"Web Proxy Session\" read and write permission.

Examples:
  xdg-open \"$(segura sessions open --user alice --credential root --device 10.0.0.5 --protocol ssh)\"
  segura sessions open --user alice --credential CORP\\admin --device dc01 --protocol rdp \\
      --remote-device dc01.corp.local --screen 1280x720
  segura sessions open ... -o json --show-token | jq -r .token")]
pub struct OpenArgs {
    /// The PAM user the session is opened for
    #[arg(long, value_name = "USER", value_parser = parse_web_value)]
    pub user: String,
    /// The credential's username
    #[arg(long, value_name = "CREDENTIAL", value_parser = parse_web_value)]
    pub credential: String,
    /// The device: a hostname or an IP address
    #[arg(long, value_name = "DEVICE", value_parser = parse_web_value)]
    pub device: String,
    /// The protocol, e.g. ssh, rdp
    #[arg(long, value_name = "PROTOCOL", value_parser = parse_web_value, add = ArgValueCandidates::new(protocol_candidates))]
    pub protocol: String,
    /// The remote device, for domain credentials
    #[arg(long, value_name = "DEVICE", value_parser = parse_web_value)]
    pub remote_device: Option<String>,
    /// The user's IP address, used for the whole session
    #[arg(long, value_name = "IP")]
    pub remote_addr: Option<std::net::IpAddr>,
    /// The port on the device
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,
    /// The RemoteApp id
    #[arg(long, value_name = "ID")]
    pub remote_app: Option<u64>,
    /// The screen size, WIDTHxHEIGHT [appliance default: 1920x1080]
    #[arg(long, value_name = "WxH", value_parser = parse_screen)]
    pub screen: Option<String>,
    /// Show the token instead of `[redacted]` (on a second line, or in -o json)
    #[arg(long)]
    pub show_token: bool,
}

/// A value of `sessions open`: not blank, no control character.
fn parse_web_value(s: &str) -> Result<String, String> {
    if s.trim().is_empty() {
        return Err("the value is empty".into());
    }
    if s.chars().any(char::is_control) {
        return Err("the value holds a control character".into());
    }
    Ok(s.to_owned())
}

/// `--screen`: `1920x1080`.
fn parse_screen(s: &str) -> Result<String, String> {
    segura_api::protocol::parse_screen_size(s)
        .map(|(w, h)| format!("{w}x{h}"))
        .map_err(|e| e.to_string())
}

/// `segura config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration and where each value came from
    #[command(after_help = "\
Examples:
  segura config show
  segura config show --profile prod
  segura config show -o json")]
    Show,
}

/// Criteria shared by list, stats and watch. All are combined; a repeated option
/// matches any of its values, and a repeated `--not-*` option leaves out any of its.
#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only sessions of this user: exact or a glob (`svc_*`), case-insensitive; repeatable
    #[arg(long, value_name = "USER", help_heading = "Filters")]
    pub user: Vec<String>,
    /// Only sessions with this credential (exact or glob; repeatable)
    #[arg(long, value_name = "CREDENTIAL", help_heading = "Filters")]
    pub credential: Vec<String>,
    /// Only sessions on this device, e.g. 10.66.33.15:3389 or dc0?.corp.local:* (repeatable)
    #[arg(long, value_name = "DEVICE", help_heading = "Filters")]
    pub device: Vec<String>,
    /// Only sessions on this host whatever the port: a name, a glob, an address or a
    /// CIDR block (`dc01` matches dc01:3389; repeatable)
    #[arg(long, value_name = "HOST", help_heading = "Filters")]
    pub host: Vec<String>,
    /// Only sessions from this address: exact, glob or CIDR block 10.66.0.0/16 (repeatable)
    #[arg(long, value_name = "IP", help_heading = "Filters")]
    pub origin_ip: Vec<String>,
    /// Only sessions with this protocol, e.g. rdp, ssh (repeatable; any value is
    /// accepted, as servers add new ones)
    #[arg(long, value_name = "PROTOCOL", help_heading = "Filters", add = ArgValueCandidates::new(protocol_candidates))]
    pub protocol: Vec<String>,
    /// Only sessions through this proxy, e.g. "Web Proxy" (repeatable; any value is
    /// accepted)
    #[arg(long, value_name = "PROXY", help_heading = "Filters", add = ArgValueCandidates::new(proxy_candidates))]
    pub proxy: Vec<String>,
    /// Only sessions where any text field contains TEXT (case-insensitive)
    #[arg(long, value_name = "TEXT", help_heading = "Filters")]
    pub search: Option<String>,
    /// Leave out sessions of this user (exact or glob; repeatable)
    #[arg(long, value_name = "USER", help_heading = "Filters")]
    pub not_user: Vec<String>,
    /// Leave out sessions with this credential (repeatable)
    #[arg(long, value_name = "CREDENTIAL", help_heading = "Filters")]
    pub not_credential: Vec<String>,
    /// Leave out sessions on this device (repeatable)
    #[arg(long, value_name = "DEVICE", help_heading = "Filters")]
    pub not_device: Vec<String>,
    /// Leave out sessions on this host or CIDR block (repeatable)
    #[arg(long, value_name = "HOST", help_heading = "Filters")]
    pub not_host: Vec<String>,
    /// Leave out sessions from this address or CIDR block (repeatable)
    #[arg(long, value_name = "IP", help_heading = "Filters")]
    pub not_origin_ip: Vec<String>,
    /// Leave out sessions with this protocol (repeatable)
    #[arg(long, value_name = "PROTOCOL", help_heading = "Filters")]
    pub not_protocol: Vec<String>,
    /// Leave out sessions through this proxy (repeatable)
    #[arg(long, value_name = "PROXY", help_heading = "Filters")]
    pub not_proxy: Vec<String>,
    /// Leave out sessions where any text field contains TEXT
    #[arg(long, value_name = "TEXT", help_heading = "Filters")]
    pub not_search: Option<String>,
    /// Only sessions that started at or after TIME: now, today, yesterday, an age (90m,
    /// 24h, 2w, "5m ago"), YYYY-MM-DD, `YYYY-MM-DD HH:MM[:SS]`, RFC 3339 with an offset,
    /// or @UNIX_SECONDS; clock times are the appliance's (see --tz)
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, help_heading = "Filters")]
    pub since: Option<TimeSpec>,
    /// Only sessions that started at or before TIME (same forms as --since)
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, help_heading = "Filters")]
    pub until: Option<TimeSpec>,
    /// Only sessions that ended at or after TIME (open sessions are left out)
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, help_heading = "Filters")]
    pub ended_since: Option<TimeSpec>,
    /// Only sessions that ended at or before TIME (open sessions are left out)
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, help_heading = "Filters")]
    pub ended_until: Option<TimeSpec>,
    /// Only sessions open at TIME: started at or before it, and not ended before it
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, help_heading = "Filters")]
    pub active_at: Option<TimeSpec>,
    /// Only sessions open at any moment of FROM..TO (overlapping it); a side may be
    /// left empty, e.g. "2024-05-06 02:00..2024-05-06 03:00"
    #[arg(long, value_name = "FROM..TO", value_parser = parse_window, help_heading = "Filters")]
    pub during: Option<WindowSpec>,
    /// Only open sessions (no end yet)
    #[arg(long, help_heading = "Filters", conflicts_with = "not_active")]
    pub active: bool,
    /// Only ended sessions
    #[arg(long, help_heading = "Filters")]
    pub not_active: bool,
    /// Only sessions whose recorded duration is at least this, e.g. 1h (open sessions
    /// have none and are left out)
    #[arg(long, value_name = "DURATION", value_parser = parse_session_duration, help_heading = "Filters")]
    pub min_duration: Option<SessionDuration>,
    /// Only sessions whose recorded duration is at most this
    #[arg(long, value_name = "DURATION", value_parser = parse_session_duration, help_heading = "Filters")]
    pub max_duration: Option<SessionDuration>,
    /// Only sessions for which this CEL expression is true, e.g.
    /// 'protocol in ["ssh", "rdp"] && time > duration("8h") && !has(itsm)'
    /// (variables: see docs/cli.md)
    #[arg(long, value_name = "EXPR", help_heading = "Filters")]
    pub filter: Option<String>,
    /// Read a snapshot from PATH (`-` for standard input) instead of the server: a saved
    /// list or get answer, or what `-o json` or `-o ndjson` printed; gzip-compressed or not
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub input: Option<PathBuf>,
    /// The appliance's zone, set by the command from --tz / SEGURA_TZ / the profile.
    #[arg(skip)]
    pub zone: ApplianceZone,
}

fn patterns(values: &[String]) -> Vec<Pattern> {
    values.iter().map(|v| Pattern::new(v.as_str())).collect()
}

impl FilterArgs {
    /// The filter these options describe: times resolved in [`FilterArgs::zone`] at
    /// the current instant, the expression compiled (a bad one is a usage error).
    pub fn to_filter(&self) -> Result<SessionFilter, CliError> {
        self.to_filter_at(chrono::Utc::now())
    }

    /// [`FilterArgs::to_filter`] with "now" being `now`.
    pub fn to_filter_at(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SessionFilter, CliError> {
        let zone = self.zone;
        let at = |flag: &str, t: &Option<TimeSpec>, kind: BoundKind| {
            t.map(|t| t.resolve(&zone, now, kind))
                .transpose()
                .map_err(|e| CliError::Usage(format!("{flag}: {e}")))
        };
        let mut f = SessionFilter::new();
        f.users = patterns(&self.user);
        f.credentials = patterns(&self.credential);
        f.devices = patterns(&self.device);
        f.hosts = patterns(&self.host);
        f.origin_ips = patterns(&self.origin_ip);
        f.protocols = patterns(&self.protocol);
        f.proxies = patterns(&self.proxy);
        f.not_users = patterns(&self.not_user);
        f.not_credentials = patterns(&self.not_credential);
        f.not_devices = patterns(&self.not_device);
        f.not_hosts = patterns(&self.not_host);
        f.not_origin_ips = patterns(&self.not_origin_ip);
        f.not_protocols = patterns(&self.not_protocol);
        f.not_proxies = patterns(&self.not_proxy);
        f.search = self.search.clone();
        f.not_search = self.not_search.clone();
        f.since = at("--since", &self.since, BoundKind::Lower)?;
        f.until = at("--until", &self.until, BoundKind::Upper)?;
        f.ended_since = at("--ended-since", &self.ended_since, BoundKind::Lower)?;
        f.ended_until = at("--ended-until", &self.ended_until, BoundKind::Upper)?;
        f.active_at = at("--active-at", &self.active_at, BoundKind::Lower)?;
        if let Some(w) = &self.during {
            f.during = Some(TimeWindow {
                from: at("--during", &w.from, BoundKind::Lower)?,
                to: at("--during", &w.to, BoundKind::Upper)?,
            });
        }
        f.active = self.active;
        f.not_active = self.not_active;
        f.min_duration = self.min_duration;
        f.max_duration = self.max_duration;
        if let Some(src) = &self.filter {
            let e = Expression::compile(src, zone)
                .map_err(|e| CliError::Usage(format!("invalid --filter expression at {e}")))?;
            f.expression = Some(e);
        }
        Ok(f)
    }
}

/// `segura sessions list`.
#[derive(Debug, Args, Clone, Default)]
#[command(after_help = "\
Without --sort nothing is buffered: sessions are printed as they arrive, and with
--limit the list stops being read after the first N matches. --sort reads the whole
list before printing: with --limit it holds only the first N; without, it holds up to
--sort-memory of sessions (256MiB by default) and beyond that writes sorted runs to
temporary files in TMPDIR (unnamed, owner-only, gone when segura exits, however it
exits) and merges them, so a list of any size sorts in bounded memory.
A table holds at most its first 1000 rows to size the columns; a later, wider id or
date-time widens its column from there on, it is never cut. On a narrow terminal the
least useful columns are left out (a note says which); -o wide shows every field.

Examples:
  segura sessions list --active
  segura sessions list --user alice --since 24h --sort -time --limit 20
  segura sessions list --protocol ssh --fields id,user,device,start -o csv > ssh.csv
  segura sessions list -o ndjson | gzip > snapshot.ndjson.gz
  segura sessions list --input snapshot.ndjson.gz --min-duration 1h")]
pub struct ListArgs {
    /// Filters and --input.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Sort by FIELD, or -FIELD for descending (buffers the matching sessions)
    #[arg(long, value_name = "FIELD", allow_hyphen_values = true, value_parser = SortParser)]
    pub sort: Option<SortKey>,
    /// Memory for --sort without --limit before it spills to TMPDIR, e.g. 64MiB, 1GiB
    #[arg(long, value_name = "SIZE", value_parser = parse_size, requires = "sort")]
    pub sort_memory: Option<usize>,
    /// Print at most N sessions (0 or more)
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = parse_limit)]
    pub limit: Option<usize>,
    /// Columns (table, csv) or keys (json, ndjson), comma-separated, e.g. id,user,start
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = FieldParser)]
    pub fields: Option<Vec<Field>>,
}

/// An argument of `sessions get`: a numeric id or a 40-hex session_id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionRef {
    /// The numeric `id`.
    Id(SessionId),
    /// The 40-hex `session_id`, found by reading the list.
    Hash(SessionHash),
}

impl std::fmt::Display for SessionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionRef::Id(id) => id.fmt(f),
            SessionRef::Hash(h) => h.fmt(f),
        }
    }
}

fn parse_session_ref(s: &str) -> Result<SessionRef, String> {
    if let Ok(h) = SessionHash::parse(s) {
        return Ok(SessionRef::Hash(h));
    }
    s.parse::<SessionId>().map(SessionRef::Id).map_err(|_| {
        format!(
            "invalid session {s:?}: expected a numeric id such as 42 or the 40 hexadecimal \
             digits of a session_id"
        )
    })
}

/// `segura sessions get`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
A session_id (40 hex digits) is found by reading the list until it appears. With
several ids or hashes, each found session is printed (one record per line with -o
ndjson, one array with -o json, one row each in a table); one that is missing is an
error for that one only, and the exit code is the highest of them.

Examples:
  segura sessions get 1043
  segura sessions get 1043 -o json
  segura sessions get e7acacb6aedbab70073456da5744166939b77527
  segura sessions get 1043 1044 1045 -o ndjson
  segura sessions get 1043 --fields session_id,user,start")]
pub struct GetArgs {
    /// The numeric id of the session (the `id` column) or its 40-hex session_id
    #[arg(value_name = "ID", required = true, num_args = 1.., value_parser = parse_session_ref)]
    pub ids: Vec<SessionRef>,
    /// Fields to show, comma-separated
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = FieldParser)]
    pub fields: Option<Vec<Field>>,
}

/// `segura sessions drop`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Before a drop, the list is read until the session appears, to show it (user,
credential, device, origin, start, how long it has been open) and to check it is still
open: an ended session, or a hash the list does not hold, is refused unless --force.
--no-lookup skips that reading (and the checks).
Bulk: --stdin reads hashes, one per line (blank lines and # comments ignored); --match
drops the open sessions the filters select. On a terminal a bulk drop asks you to type
the number of sessions; off a terminal it needs --yes. Each session is dropped in turn
and reported on its own line (-o ndjson: one object each); the exit code is the highest
of them. Every attempt, dry runs too, is appended to the drop log (see
`segura config show`, key drop_log).

Examples:
  segura sessions drop e7acacb6aedbab70073456da5744166939b77527 --reason INC-4411
  segura sessions drop --match --user mallory --active --dry-run
  segura sessions drop --match --host dc01 --active --yes --reason 'INC-4411' -o ndjson
  grep -v '^#' hashes.txt | segura sessions drop --stdin --yes")]
pub struct DropArgs {
    /// The 40-hex session_id of the session (not the numeric id)
    #[arg(value_name = "SESSION_ID", value_parser = parse_session_hash,
          required_unless_present_any = ["stdin", "match"], conflicts_with_all = ["stdin", "match"])]
    pub session_id: Option<SessionHash>,
    /// Read the session_ids to drop from standard input, one per line
    #[arg(long, conflicts_with = "match")]
    pub stdin: bool,
    /// Drop every open session that the filters select (at least one filter)
    #[arg(long = "match", id = "match")]
    pub matching: bool,
    /// Print what would be dropped, and drop nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not read the list first: no details in the confirmation, no checks
    #[arg(long, conflicts_with = "match")]
    pub no_lookup: bool,
    /// Drop even a session that has already ended or that the list does not hold
    #[arg(long)]
    pub force: bool,
    /// Why: written to the drop log with each attempt
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Do not ask for confirmation (required off a terminal)
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Filters of --match.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// What `stats` groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupByArg {
    /// The PAM user.
    User,
    /// The credential.
    Credential,
    /// The target device.
    Device,
    /// The protocol.
    Protocol,
    /// The proxy.
    Proxy,
    /// The user's address.
    OriginIp,
    /// The start date, YYYY-MM-DD.
    Day,
}

impl GroupByArg {
    /// The grouping of the aggregation.
    pub fn to_group_by(self) -> stats::GroupBy {
        match self {
            GroupByArg::User => stats::GroupBy::Field(Field::User),
            GroupByArg::Credential => stats::GroupBy::Field(Field::Credential),
            GroupByArg::Device => stats::GroupBy::Field(Field::Device),
            GroupByArg::Protocol => stats::GroupBy::Field(Field::Protocol),
            GroupByArg::Proxy => stats::GroupBy::Field(Field::Proxy),
            GroupByArg::OriginIp => stats::GroupBy::Field(Field::OriginIp),
            GroupByArg::Day => stats::GroupBy::Day,
        }
    }
}

/// `segura sessions stats`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Open sessions count as sessions but add no duration; the mean is over the sessions
that have a recorded duration.

Examples:
  segura sessions stats
  segura sessions stats --by user --since 7d
  segura sessions stats --by day --protocol rdp -o csv
  segura sessions stats --input snapshot.json.gz --by device")]
pub struct StatsArgs {
    /// The grouping
    #[arg(long, value_enum, default_value_t = GroupByArg::Protocol)]
    pub by: GroupByArg,
    /// Filters and --input.
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// `segura sessions watch`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
With -o ndjson each line is an event:
  {\"event\":\"new\",\"session\":{...}}       a session not reported before
  {\"event\":\"ended\",\"session\":{...}}     a reported session that has ended since
  {\"event\":\"vanished\",\"session\":{\"id\":..}} a reported open session no longer listed
Every event also carries \"observed_at\" (RFC 3339, with the offset) and \"poll\" (its
poll's number); the table prints a line after each poll, \"no change\" included.
With --state FILE, the sessions already reported are remembered across restarts; a
reported session is never reported new again unless --prune or --forget removes it.

Examples:
  segura sessions watch
  segura sessions watch --interval 30s --active -o ndjson >> events.ndjson
  segura sessions watch --state ~/.local/state/segura/watch.json --prune
  segura sessions watch --once --user alice")]
pub struct WatchArgs {
    /// Time between polls: at least 1s; under 10s warns
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_watch_interval)]
    pub interval: Duration,
    /// Remember reported sessions in FILE, to resume without repeats
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Poll once and exit
    #[arg(long)]
    pub once: bool,
    /// After each complete, non-empty poll, forget the sessions it does not list
    /// (vanished, and ended ones the appliance purged); listed again, they are new
    #[arg(long, requires = "state")]
    pub prune: bool,
    /// Forget these session ids before polling (comma-separated or repeated); listed
    /// again, they are new
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = parse_session_id, requires = "state")]
    pub forget: Vec<SessionId>,
    /// Keys of the session objects (or table/csv columns), comma-separated
    #[arg(long, value_name = "FIELDS", value_delimiter = ',', value_parser = FieldParser)]
    pub fields: Option<Vec<Field>>,
    /// Filters and --input.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Delivery to syslog.
    #[command(flatten)]
    pub syslog: SyslogArgs,
}

/// `watch --syslog`: where and how events are delivered.
#[derive(Debug, Args, Clone)]
pub struct SyslogArgs {
    /// Send each event to this syslog receiver (RFC 5424) instead of stdout:
    /// `tcp://HOST[:514]`, `tls://HOST[:6514]` or `udp://HOST[:514]` (best effort)
    #[arg(long = "syslog", id = "syslog", value_name = "URL", value_parser = parse_syslog_url, help_heading = "Syslog")]
    pub url: Option<crate::syslog::Target>,
    /// Trust only the CA certificates of this PEM file for a tls:// receiver [default:
    /// the system's and webpki's roots]
    #[arg(
        long = "syslog-ca",
        id = "syslog_ca",
        value_name = "FILE",
        requires = "syslog",
        help_heading = "Syslog"
    )]
    pub ca: Option<PathBuf>,
    /// Do not verify the tls:// receiver's certificate (dangerous; warns every time)
    #[arg(
        long = "syslog-insecure-skip-verify",
        id = "syslog_insecure_skip_verify",
        requires = "syslog",
        conflicts_with = "syslog_ca",
        help_heading = "Syslog"
    )]
    pub insecure_skip_verify: bool,
    /// Facility of the messages; the severity is notice for new, info for ended,
    /// warning for vanished
    #[arg(
        long = "syslog-facility",
        id = "syslog_facility",
        value_name = "FACILITY",
        default_value = "authpriv",
        requires = "syslog",
        help_heading = "Syslog"
    )]
    pub facility: crate::syslog::Facility,
    /// Events held while the receiver is away; beyond them watch stops (exit 1)
    /// rather than drop one
    #[arg(long = "syslog-queue", id = "syslog_queue", value_name = "N", default_value_t = crate::syslog::DEFAULT_QUEUE, value_parser = parse_queue, requires = "syslog", help_heading = "Syslog")]
    pub queue: usize,
    /// Longest wait between two attempts to reach the receiver (the wait doubles
    /// from 500ms, with jitter)
    #[arg(long = "syslog-retry-max", id = "syslog_retry_max", value_name = "DURATION", default_value = "30s", value_parser = parse_retry_max, requires = "syslog", help_heading = "Syslog")]
    pub retry_max: Duration,
}

impl Default for SyslogArgs {
    fn default() -> Self {
        SyslogArgs {
            url: None,
            ca: None,
            insecure_skip_verify: false,
            facility: crate::syslog::Facility::Authpriv,
            queue: crate::syslog::DEFAULT_QUEUE,
            retry_max: Duration::from_secs(30),
        }
    }
}

fn parse_syslog_url(s: &str) -> Result<crate::syslog::Target, String> {
    s.parse()
}

fn parse_queue(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("expected a number of events, at least 1".into()),
    }
}

fn parse_retry_max(s: &str) -> Result<Duration, String> {
    let d = parse_std_duration(s)?;
    if d < Duration::from_millis(100) {
        return Err("at least 100ms".into());
    }
    Ok(d)
}

/// A severity for `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    /// Any finding.
    Low,
    /// Medium and high findings.
    Medium,
    /// High findings only.
    High,
}

impl SeverityArg {
    /// The library's severity.
    pub fn to_severity(self) -> segura_api::audit::Severity {
        use segura_api::audit::Severity;
        match self {
            SeverityArg::Low => Severity::Low,
            SeverityArg::Medium => Severity::Medium,
            SeverityArg::High => Severity::High,
        }
    }
}

/// What `audit` and `report` share: the rules, the baseline, "now".
#[derive(Debug, Args, Clone, Default)]
pub struct RulesArgs {
    /// Rules file (TOML): disabled rules, severities, thresholds, exemptions
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub rules: Option<PathBuf>,
    /// Origins known per user, for new-origin: a file written by --write-baseline
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub baseline: Option<PathBuf>,
    /// Sessions from TIME until --since form the baseline of new-origin (an earlier
    /// window; same forms as --since)
    #[arg(long, value_name = "TIME", value_parser = parse_time_spec, requires = "since", help_heading = "Audit")]
    pub baseline_from: Option<TimeSpec>,
    /// Judge open sessions as of TIME, appliance local time ("YYYY-MM-DD HH:MM:SS")
    /// [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_now, help_heading = "Audit")]
    pub now: Option<chrono::NaiveDateTime>,
}

impl RulesArgs {
    /// `--baseline-from` on the appliance's clock (`zone`), resolved at `now` as
    /// `--since` is.
    pub fn baseline_from_at(
        &self,
        zone: &ApplianceZone,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<chrono::NaiveDateTime>, CliError> {
        self.baseline_from
            .map(|t| t.resolve(zone, now, BoundKind::Lower))
            .transpose()
            .map_err(|e| CliError::Usage(format!("--baseline-from: {e}")))
    }
}

/// `segura sessions audit`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Rules (id, default severity, default threshold):
  no-ticket           medium  sessions with neither `request` nor `ITSM`
  long-session        medium  ended sessions longer than 8h
  long-open           high    sessions still open for longer than 12h
  off-hours           low     sessions started outside Mon-Fri 08:00-18:00
  shared-credential   high    one credential used by at least 3 distinct users
  concurrent-origins  high    one user with overlapping sessions from different origins
  device-sweep        medium  one user opening sessions to at least 20 devices in 24h
  new-origin          low     a user seen from an origin absent from the baseline
One finding per line with -o ndjson: {\"rule\",\"severity\",\"subject\",\"sessions\":[ids],
\"first\",\"last\",\"detail\"}. A summary goes to stderr. Exit code 9 when a finding at or
above --fail-on exists. See docs/audit.md for the rules file.")]
pub struct AuditArgs {
    /// Filters and --input.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Rules, baseline and time.
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Exit with code 9 when a finding of this severity or worse exists
    #[arg(long, value_enum, value_name = "SEVERITY", help_heading = "Audit")]
    pub fail_on: Option<SeverityArg>,
    /// Write the origins seen per user (the baseline and the audited window) to FILE
    #[arg(long, value_name = "FILE", help_heading = "Audit")]
    pub write_baseline: Option<PathBuf>,
}

/// `segura sessions report`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
The report is one HTML file with inline CSS and SVG: no script, and nothing fetched
from anywhere. Its summary numbers carry data-metric attributes (sessions, users,
devices, credentials, active, findings); its provenance gives the SHA-256 of the bytes
read.")]
pub struct ReportArgs {
    /// Write the report to FILE
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Filters and --input.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Rules, baseline and time.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// `segura demo`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Examples:
  segura demo
  segura demo --sessions 20000 --seed 3")]
pub struct DemoArgs {
    /// Sessions the mock appliance holds
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub sessions: u64,
    /// Seed of the generated sessions
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,
}

/// Shells for `completions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash.
    Bash,
    /// Zsh.
    Zsh,
    /// Fish.
    Fish,
    /// PowerShell.
    Powershell,
    /// Elvish.
    Elvish,
}

/// `segura completions`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
The script asks `segura` itself for candidates as you type: subcommands, options, the
names of --fields, --sort and --by, -o formats, known --protocol and --proxy values,
and the profile names of the config file.

Examples:
  segura completions bash > ~/.local/share/bash-completion/completions/segura
  segura completions zsh > \"${fpath[1]}/_segura\"
  segura completions fish > ~/.config/fish/completions/segura.fish")]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `segura man`.
#[derive(Debug, Args, Clone)]
#[command(after_help = "\
Examples:
  segura man | man -l -
  segura man --out-dir /usr/local/share/man/man1")]
pub struct ManArgs {
    /// Write segura.1 and one page per subcommand into DIR instead of printing segura.1
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Parses `500ms`, `30s`, `2m`, `1h30m` or `HH:MM:SS`.
pub fn parse_std_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Some(ms) = t.strip_suffix("ms") {
        if !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()) {
            return ms
                .parse()
                .map(Duration::from_millis)
                .map_err(|_| format!("invalid duration {s:?}: too large"));
        }
    }
    parse_human_duration(t)
}

/// The shortest `watch --interval`: the list is a slow endpoint.
pub const MIN_WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// A `watch --interval`: a duration of at least [`MIN_WATCH_INTERVAL`].
fn parse_watch_interval(s: &str) -> Result<Duration, String> {
    let d = parse_std_duration(s)?;
    if d < MIN_WATCH_INTERVAL {
        return Err(format!(
            "{s:?} is too short: watch polls at most once a second (the list is a slow \
             endpoint); use 1s or more, 60s by default"
        ));
    }
    Ok(d)
}

fn parse_session_duration(s: &str) -> Result<SessionDuration, String> {
    parse_human_duration(s).map(|d| SessionDuration::from_secs(d.as_secs()))
}

/// Parses `--tz`: an IANA name, `UTC`, a fixed offset or `local`.
pub fn parse_zone(s: &str) -> Result<ApplianceZone, String> {
    s.parse::<ApplianceZone>().map_err(|e| e.to_string())
}

/// "Now" on the appliance's clock: every use of the current time goes through here.
pub fn now() -> chrono::NaiveDateTime {
    crate::clock::now().naive
}

fn parse_now(s: &str) -> Result<chrono::NaiveDateTime, String> {
    segura_model::parse_datetime(s.trim()).map_err(|e| e.to_string())
}

/// The field names, as help and completion show them.
fn field_values() -> impl Iterator<Item = PossibleValue> {
    Field::ALL
        .into_iter()
        .map(|f| PossibleValue::new(f.wire_name()))
}

/// `--fields` values: a field name in any case, `-` for `_`, or an alias; the help and
/// the completion list the names.
#[derive(Debug, Clone, Copy)]
pub struct FieldParser;

impl TypedValueParser for FieldParser {
    type Value = Field;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Field, clap::Error> {
        let text = clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)?;
        text.parse::<Field>().map_err(|e| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(field_values()))
    }
}

/// `--sort` values: `FIELD` or `-FIELD`; the help and the completion list the names.
#[derive(Debug, Clone, Copy)]
pub struct SortParser;

impl TypedValueParser for SortParser {
    type Value = SortKey;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SortKey, clap::Error> {
        let text = clap::builder::NonEmptyStringValueParser::new().parse_ref(cmd, arg, value)?;
        parse_sort_key(&text).map_err(|e| {
            clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("{e}\n")).with_cmd(cmd)
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(field_values()))
    }
}

/// `--limit`: a count of 0 or more (`-1` says so, instead of "unexpected argument").
fn parse_limit(s: &str) -> Result<usize, String> {
    s.trim().parse::<usize>().map_err(|_| {
        format!("{s:?} is not a count: --limit takes 0 or more (leave it out for no limit)")
    })
}

/// Parses a size: a whole number of bytes, with an optional unit, `K`/`KiB`, `M`/`MiB`,
/// `G`/`GiB` (powers of 1024) or `KB`, `MB`, `GB` (powers of 1000), in any case. Written
/// here because it is this small and the size crates accept more (fractions, spaces,
/// bits) than a flag should.
pub fn parse_size(s: &str) -> Result<usize, String> {
    const MIN: usize = 1 << 20;
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = t.split_at(digits);
    let scale: usize = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => {
            return Err(format!(
                "{s:?} is not a size: give bytes or a unit, e.g. 64MiB or 2GiB"
            ))
        }
    };
    let bytes = number
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{s:?} is not a size: give bytes or a unit, e.g. 64MiB or 2GiB"))?;
    if bytes < MIN {
        return Err(format!(
            "{s:?} is too small: --sort-memory takes 1MiB or more"
        ));
    }
    Ok(bytes)
}

/// Completion: the profile names of the config file.
fn profile_candidates() -> Vec<CompletionCandidate> {
    crate::config::profile_names()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// Completion: the protocols the appliance is known to send.
fn protocol_candidates() -> Vec<CompletionCandidate> {
    segura_model::Protocol::KNOWN
        .iter()
        .map(|p| CompletionCandidate::new(p.as_str().to_owned()))
        .collect()
}

/// Completion: the proxies the appliance is known to send.
fn proxy_candidates() -> Vec<CompletionCandidate> {
    segura_model::Proxy::KNOWN
        .iter()
        .map(|p| CompletionCandidate::new(p.as_str().to_owned()))
        .collect()
}

/// Parses a sort order: `FIELD` (or `+FIELD`) ascending, `-FIELD` descending.
pub fn parse_sort_key(s: &str) -> Result<SortKey, String> {
    let (descending, name) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let field = name.parse::<Field>().map_err(|e| e.to_string())?;
    Ok(SortKey { field, descending })
}

fn parse_session_id(s: &str) -> Result<SessionId, String> {
    s.parse::<SessionId>().map_err(|e| {
        let hint = if SessionHash::parse(s).is_ok() {
            "; this looks like a session_id hash, which `sessions drop` takes"
        } else {
            ""
        };
        format!("{e}{hint}")
    })
}

fn parse_session_hash(s: &str) -> Result<SessionHash, String> {
    SessionHash::parse(s).map_err(|e| {
        let hint = if s.parse::<SessionId>().is_ok() {
            "; this looks like a numeric id: `segura sessions get ID` shows its session_id"
        } else {
            ""
        };
        format!("{e}{hint}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("segura").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_before_or_after_the_subcommand() {
        let a = parse(&["-o", "json", "--url", "https://a", "sessions", "list"]).unwrap();
        let b = parse(&["sessions", "list", "-o", "json", "--url", "https://a"]).unwrap();
        assert_eq!(a.global.output, Format::Json);
        assert_eq!(b.global.output, Format::Json);
        assert_eq!(b.global.url.as_deref(), Some("https://a"));
    }

    #[test]
    fn list_options_parse_into_typed_values() {
        let cli = parse(&[
            "sessions",
            "list",
            "--user",
            "a",
            "--user",
            "b",
            "--sort",
            "-time",
            "--fields",
            "id,origin-ip,ITSM",
            "--min-duration",
            "1h",
            "--since",
            "2024-05-06",
            "--limit",
            "3",
        ])
        .unwrap();
        let Command::Sessions(SessionsCommand::List(l)) = cli.command else {
            panic!("not a list command");
        };
        assert_eq!(l.filter.user, ["a", "b"]);
        assert_eq!(l.sort, Some(SortKey::descending(Field::Time)));
        assert_eq!(l.fields.unwrap(), [Field::Id, Field::OriginIp, Field::Itsm]);
        assert_eq!(l.filter.min_duration.unwrap().as_secs(), 3600);
        assert_eq!(
            l.filter.to_filter().unwrap().since.unwrap().to_string(),
            "2024-05-06 00:00:00"
        );
        assert_eq!(l.limit, Some(3));
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1mib"), Ok(1 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("5MB"), Ok(5_000_000));
        assert_eq!(parse_size("2097152"), Ok(2 << 20));
        for bad in [
            "",
            "MiB",
            "1.5GiB",
            "-1MiB",
            "64 MiB",
            "1TiB",
            "99999999999999999999G",
        ] {
            assert!(
                parse_size(bad).unwrap_err().contains("is not a size"),
                "{bad}"
            );
        }
        assert!(parse_size("512KiB").unwrap_err().contains("1MiB or more"));
    }

    #[test]
    fn durations_take_milliseconds_too() {
        assert_eq!(parse_std_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_std_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_std_duration("ms").is_err());
    }

    #[test]
    fn malformed_values_are_usage_errors() {
        for args in [
            &["sessions", "list", "--fields", "id,nope"][..],
            &["sessions", "list", "--since", "tomorrow"],
            &["sessions", "list", "--during", "1h"],
            &["sessions", "list", "--tz", "Mars/Olympus"],
            &["sessions", "list", "--min-duration", "10"],
            &["sessions", "get", "abc"],
            &["sessions", "drop", "3"],
            &["sessions", "list", "-o", "yaml"],
            &["sessions", "list", "--password", "x"],
            &["sessions", "watch", "--interval", "0s"],
            &["sessions", "watch", "--interval", "999ms"],
            &["sessions", "watch", "--prune"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
        let e = parse(&["sessions", "drop", "3"]).unwrap_err().to_string();
        assert!(e.contains("numeric id"), "{e}");
        let get = parse(&[
            "sessions",
            "get",
            "e7acacb6aedbab70073456da5744166939b77527",
            "42",
        ])
        .unwrap();
        let Command::Sessions(SessionsCommand::Get(g)) = get.command else {
            panic!("not a get command");
        };
        assert!(matches!(g.ids[0], SessionRef::Hash(_)));
        assert_eq!(g.ids[1], SessionRef::Id(SessionId::new(42)));
        for args in [
            &["sessions", "drop"][..],
            &["sessions", "drop", "--stdin", "--match"],
            &["sessions", "drop", "--match", "--no-lookup"],
        ] {
            assert_eq!(parse(args).unwrap_err().exit_code(), 2, "{args:?}");
        }
    }
}
