//! The effective configuration: flags, then the environment, then a profile of the
//! config file, then defaults; each value remembers where it came from (for
//! `segura config show`), and secrets never print.
//!
//! Resolution is a pure function of the flags, an environment lookup and the file
//! system, so it is unit tested without touching the process environment.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use segura_http::local_file::{read_regular_file, Links, LocalFile, SMALL_FILE_LIMIT};
use segura_http::{Auth, ClientAuthMethod, ClientConfig, Secret};
use serde::Deserialize;

use segura_api::protocol::{ApiPrefix, TokenUrl};
use segura_api::ApplianceZone;

use crate::cli::GlobalArgs;
use crate::exit::CliError;

/// The deadline of each poll of `watch` when no `--timeout` is set: a poll that hangs
/// must not stop the watch for good.
pub const WATCH_POLL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag(&'static str),
    /// An environment variable.
    Env(&'static str),
    /// A profile of a config file.
    Profile {
        /// Profile name.
        name: String,
        /// Config file.
        path: PathBuf,
    },
    /// Built in.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "flag {name}"),
            Origin::Env(var) => write!(f, "env {var}"),
            Origin::Profile { name, path } => write!(f, "profile {name} in {}", path.display()),
            Origin::Default => f.write_str("default"),
        }
    }
}

/// A value and its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// Where it came from.
    pub origin: Origin,
}

impl<T> Sourced<T> {
    fn new(value: T, origin: Origin) -> Self {
        Self { value, origin }
    }
}

/// A secret as configured: the value itself, or a file holding it (read when used).
#[derive(Debug, Clone)]
pub enum SecretValue {
    /// The value (never printed).
    Value(Secret),
    /// A file whose content, without the trailing newline, is the value.
    File(PathBuf),
}

impl SecretValue {
    fn load(&self, what: &str) -> Result<Secret, CliError> {
        match self {
            SecretValue::Value(s) => Ok(s.clone()),
            SecretValue::File(path) => {
                let file = read_small_file(path, &format!("the {what} file"), "")?;
                check_permissions(path, &file.metadata)?;
                let text = String::from_utf8(file.bytes).map_err(|_| {
                    CliError::config(
                        format!("the {what} file {} is not UTF-8 text", path.display()),
                        "write the secret into the file as text",
                    )
                })?;
                let value = text.trim_end_matches(['\r', '\n']);
                if value.is_empty() {
                    return Err(CliError::config(
                        format!("the {what} file {} is empty", path.display()),
                        "write the secret into the file",
                    ));
                }
                Ok(Secret::new(value))
            }
        }
    }

    fn shown(&self) -> String {
        match self {
            SecretValue::Value(_) => Secret::REDACTED.to_owned(),
            SecretValue::File(p) => format!("{} (read from {})", Secret::REDACTED, p.display()),
        }
    }
}

/// A duration in the config file: a human duration (`"30s"`) or whole seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum DurationValue {
    Secs(u64),
    Text(String),
}

impl DurationValue {
    fn to_duration(&self, key: &str, path: &Path) -> Result<Duration, CliError> {
        match self {
            DurationValue::Secs(s) => Ok(Duration::from_secs(*s)),
            DurationValue::Text(t) => crate::timespec::parse_human_duration(t).map_err(|e| {
                CliError::config(
                    format!("{key} in {}: {e}", path.display()),
                    "write a duration such as \"30s\" or \"2m\"",
                )
            }),
        }
    }
}

/// One `[profiles.NAME]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
    url: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_file: Option<PathBuf>,
    token: Option<String>,
    ca_cert: Option<PathBuf>,
    insecure: Option<bool>,
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    token_key: Option<String>,
    token_secret: Option<String>,
    connect_timeout: Option<DurationValue>,
    read_timeout: Option<DurationValue>,
    timeout: Option<DurationValue>,
    retries: Option<u32>,
    timezone: Option<String>,
    drop_log: Option<PathBuf>,
    api_prefix: Option<String>,
    token_url: Option<String>,
    client_auth: Option<String>,
}

impl ProfileFile {
    fn holds_secret(&self) -> bool {
        self.client_secret.is_some()
            || self.token.is_some()
            || self.consumer_secret.is_some()
            || self.token_secret.is_some()
    }
}

/// The config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    profiles: BTreeMap<String, ProfileFile>,
}

/// The credentials of one layer (the environment, or a profile).
#[derive(Debug, Clone, Default)]
struct CredLayer {
    client_id: Option<Sourced<String>>,
    client_secret: Option<Sourced<SecretValue>>,
    token: Option<Sourced<SecretValue>>,
    consumer_key: Option<Sourced<String>>,
    consumer_secret: Option<Sourced<SecretValue>>,
    token_key: Option<Sourced<String>>,
    token_secret: Option<Sourced<SecretValue>>,
}

impl CredLayer {
    /// The method this layer asks for: a ready token first, then OAuth 2.0, then 1.0a.
    fn method(&self) -> Option<AuthMethod> {
        if self.token.is_some() {
            Some(AuthMethod::Bearer)
        } else if self.client_id.is_some() || self.client_secret.is_some() {
            Some(AuthMethod::OAuth2)
        } else if self.consumer_key.is_some()
            || self.consumer_secret.is_some()
            || self.token_key.is_some()
            || self.token_secret.is_some()
        {
            Some(AuthMethod::OAuth1)
        } else {
            None
        }
    }

    /// The method, with the origin of the value that chose it.
    fn method_sourced(&self) -> Option<Sourced<AuthMethod>> {
        let m = self.method()?;
        let origin = match m {
            AuthMethod::Bearer => self.token.as_ref().map(|s| s.origin.clone()),
            AuthMethod::OAuth2 => self
                .client_id
                .as_ref()
                .map(|s| s.origin.clone())
                .or_else(|| self.client_secret.as_ref().map(|s| s.origin.clone())),
            AuthMethod::OAuth1 => self
                .consumer_key
                .as_ref()
                .map(|s| s.origin.clone())
                .or_else(|| self.consumer_secret.as_ref().map(|s| s.origin.clone()))
                .or_else(|| self.token_key.as_ref().map(|s| s.origin.clone()))
                .or_else(|| self.token_secret.as_ref().map(|s| s.origin.clone())),
        };
        Some(Sourced::new(m, origin.unwrap_or(Origin::Default)))
    }

    fn or(self, lower: CredLayer) -> CredLayer {
        CredLayer {
            client_id: self.client_id.or(lower.client_id),
            client_secret: self.client_secret.or(lower.client_secret),
            token: self.token.or(lower.token),
            consumer_key: self.consumer_key.or(lower.consumer_key),
            consumer_secret: self.consumer_secret.or(lower.consumer_secret),
            token_key: self.token_key.or(lower.token_key),
            token_secret: self.token_secret.or(lower.token_secret),
        }
    }
}

/// How the client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// OAuth 2.0 client credentials.
    OAuth2,
    /// A ready bearer token.
    Bearer,
    /// OAuth 1.0a.
    OAuth1,
}

impl fmt::Display for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMethod::OAuth2 => "OAuth 2.0 client credentials",
            AuthMethod::Bearer => "bearer token",
            AuthMethod::OAuth1 => "OAuth 1.0a",
        })
    }
}

/// The effective configuration.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The config file consulted, if any could be named.
    pub config_path: Option<Sourced<PathBuf>>,
    /// Whether it exists.
    pub config_found: bool,
    /// The profile used.
    pub profile: Sourced<String>,
    /// Whether that profile exists in the file.
    pub profile_found: bool,
    /// Base URL.
    pub url: Option<Sourced<String>>,
    /// Extra CA certificate.
    pub ca_cert: Option<Sourced<PathBuf>>,
    /// TLS verification off.
    pub insecure: Sourced<bool>,
    /// Connect timeout.
    pub connect_timeout: Sourced<Duration>,
    /// Idle timeout.
    pub read_timeout: Sourced<Duration>,
    /// Total deadline of each request (`--timeout`), when set.
    pub timeout: Option<Sourced<Duration>>,
    /// Retries.
    pub retries: Sourced<u32>,
    /// The appliance's time zone (`--tz`, `SEGURA_TZ`, profile key `timezone`; the
    /// local zone by default).
    pub timezone: Sourced<ApplianceZone>,
    /// The drop log (`SEGURA_DROP_LOG`, profile key `drop_log`; by default
    /// [`crate::drop_log::default_path`]); `None` when no default can be named.
    pub drop_log: Option<Sourced<PathBuf>>,
    /// Ask for gzip bodies (off with `--no-compression`).
    pub compression: bool,
    /// The authentication method chosen, and the layer that chose it.
    pub method: Option<Sourced<AuthMethod>>,
    creds: CredLayer,
    /// The profile's `api_prefix`, `token_url` and `client_auth`, as written.
    variants: [Option<String>; 3],
    /// Where they were written (the profile).
    variants_origin: Origin,
}

/// Looks up an environment variable; empty values count as unset.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The process environment, for [`resolve`].
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn first_env(env: EnvLookup<'_>, names: &[&'static str]) -> Option<Sourced<String>> {
    names
        .iter()
        .find_map(|n| env(n).map(|v| Sourced::new(v, Origin::Env(n))))
}

fn env_secret(env: EnvLookup<'_>, names: &[&'static str]) -> Option<Sourced<SecretValue>> {
    first_env(env, names).map(|s| Sourced::new(SecretValue::Value(Secret::new(s.value)), s.origin))
}

fn env_layer(env: EnvLookup<'_>) -> CredLayer {
    let client_secret = env_secret(env, &["SEGURA_CLIENT_SECRET"])
        .or_else(|| {
            first_env(env, &["SEGURA_CLIENT_SECRET_FILE"])
                .map(|s| Sourced::new(SecretValue::File(PathBuf::from(s.value)), s.origin))
        })
        .or_else(|| env_secret(env, &["SENHASEGURA_CLIENT_SECRET"]));
    CredLayer {
        client_id: first_env(env, &["SEGURA_CLIENT_ID", "SENHASEGURA_CLIENT_ID"]),
        client_secret,
        token: env_secret(env, &["SEGURA_TOKEN"]),
        consumer_key: first_env(env, &["SEGURA_CONSUMER_KEY"]),
        consumer_secret: env_secret(env, &["SEGURA_CONSUMER_SECRET"]),
        token_key: first_env(env, &["SEGURA_TOKEN_KEY"]),
        token_secret: env_secret(env, &["SEGURA_TOKEN_SECRET"]),
    }
}

fn profile_layer(p: &ProfileFile, origin: &Origin, dir: &Path) -> CredLayer {
    let o = || origin.clone();
    let secret = |v: &Option<String>| {
        v.as_ref()
            .map(|s| Sourced::new(SecretValue::Value(Secret::new(s.as_str())), o()))
    };
    let client_secret = secret(&p.client_secret).or_else(|| {
        p.client_secret_file
            .as_ref()
            .map(|f| Sourced::new(SecretValue::File(relative_to(dir, f)), o()))
    });
    CredLayer {
        client_id: p.client_id.clone().map(|v| Sourced::new(v, o())),
        client_secret,
        token: secret(&p.token),
        consumer_key: p.consumer_key.clone().map(|v| Sourced::new(v, o())),
        consumer_secret: secret(&p.consumer_secret),
        token_key: p.token_key.clone().map(|v| Sourced::new(v, o())),
        token_secret: secret(&p.token_secret),
    }
}

/// A path from the config file, relative to the file's directory; `~/` is the home.
fn relative_to(dir: &Path, p: &Path) -> PathBuf {
    if let Ok(rest) = p.strip_prefix("~") {
        if let Some(home) = dirs::home_dir() {
            return home.join(rest);
        }
    }
    if p.is_absolute() {
        p.to_owned()
    } else {
        dir.join(p)
    }
}

/// The default config file: `segura/config.toml` in the user's config directory.
pub fn default_config_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("segura").join("config.toml"))
}

/// The profile names of the config file (`SEGURA_CONFIG` or the default), for
/// completion; none when it cannot be read.
pub fn profile_names() -> Vec<String> {
    let path = process_env("SEGURA_CONFIG")
        .map(PathBuf::from)
        .or_else(default_config_path);
    match path.map(|p| load_file(&p)) {
        Some(Ok(Some(file))) => file.profiles.into_keys().collect(),
        _ => Vec::new(),
    }
}

/// Refuses a file that holds a secret and that group or others can read.
#[cfg(unix)]
fn check_permissions(path: &Path, meta: &std::fs::Metadata) -> Result<(), CliError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(CliError::config(
            format!(
                "refusing to use {}: it holds a secret and is readable by other users (mode {mode:03o})",
                path.display()
            ),
            format!(
                "make it private with `chmod 600 {}`, or move the secret to the environment",
                path.display()
            ),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_permissions(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), CliError> {
    Ok(())
}

/// Reads a config, secret or CA certificate file: a regular file of at most
/// [`SMALL_FILE_LIMIT`], opened without blocking (a FIFO or `/dev/zero` is refused).
/// `what` names the file in the message, e.g. "the config file".
/// `origin` is "" or where the path came from, e.g. " (flag --ca-cert)".
fn read_small_file(path: &Path, what: &str, origin: &str) -> Result<LocalFile, CliError> {
    read_regular_file(path, SMALL_FILE_LIMIT, Links::Follow)
        .map_err(|e| read_error(path, what, origin, &e))
}

fn read_error(path: &Path, what: &str, origin: &str, e: &std::io::Error) -> CliError {
    let hint = match e.kind() {
        std::io::ErrorKind::FileTooLarge | std::io::ErrorKind::InvalidInput => {
            "name a regular file of at most 1 MiB"
        }
        _ => "check the path and its permissions",
    };
    CliError::config(
        format!("cannot read {what} {}{origin}: {e}", path.display()),
        hint,
    )
}

fn load_file(path: &Path) -> Result<Option<ConfigFile>, CliError> {
    let file = match read_regular_file(path, SMALL_FILE_LIMIT, Links::Follow) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_error(path, "the config file", "", &e)),
    };
    let meta = file.metadata;
    let text = String::from_utf8(file.bytes).map_err(|_| {
        CliError::config(
            format!(
                "invalid config file {}: it is not UTF-8 text",
                path.display()
            ),
            "see docs/cli.md for the format: one [profiles.NAME] table per profile",
        )
    })?;
    let file: ConfigFile = toml::from_str(&text).map_err(|e| {
        let detail = e.to_string();
        let first = detail.lines().next().unwrap_or("invalid TOML").trim();
        let message = e.message();
        CliError::config(
            format!("invalid config file {}: {first}: {message}", path.display()),
            "see docs/cli.md for the format: one [profiles.NAME] table per profile",
        )
    })?;
    if file.profiles.values().any(ProfileFile::holds_secret) {
        check_permissions(path, &meta)?;
    }
    Ok(Some(file))
}

/// Resolves the configuration from the flags, the environment and the config file.
pub fn resolve(global: &GlobalArgs, env: EnvLookup<'_>) -> Result<Resolved, CliError> {
    let config_path = match &global.config {
        Some(p) => Some(Sourced::new(p.clone(), Origin::Flag("--config"))),
        None => match env("SEGURA_CONFIG") {
            Some(p) => Some(Sourced::new(PathBuf::from(p), Origin::Env("SEGURA_CONFIG"))),
            None => default_config_path().map(|p| Sourced::new(p, Origin::Default)),
        },
    };
    let profile = match &global.profile {
        Some(p) => Sourced::new(p.clone(), Origin::Flag("--profile")),
        None => match env("SEGURA_PROFILE") {
            Some(p) => Sourced::new(p, Origin::Env("SEGURA_PROFILE")),
            None => Sourced::new("default".to_owned(), Origin::Default),
        },
    };
    let file = match &config_path {
        Some(p) => load_file(&p.value)?,
        None => None,
    };
    let config_found = file.is_some();
    let chosen = file
        .as_ref()
        .and_then(|f| f.profiles.get(&profile.value))
        .cloned();
    let profile_found = chosen.is_some();
    if !profile_found && profile.origin != Origin::Default {
        let path = config_path
            .as_ref()
            .map(|p| p.value.display().to_string())
            .unwrap_or_else(|| "(no config directory)".to_owned());
        let known: Vec<&str> = file
            .as_ref()
            .map(|f| f.profiles.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let hint = if !config_found {
            format!(
                "the config file {path} does not exist; create it with a [profiles.{}] table",
                profile.value
            )
        } else if known.is_empty() {
            format!(
                "{path} defines no profile; add a [profiles.{}] table",
                profile.value
            )
        } else {
            format!("profiles in {path}: {}", known.join(", "))
        };
        return Err(CliError::config(
            format!("profile {:?} ({}) not found", profile.value, profile.origin),
            hint,
        ));
    }
    let prof = chosen.unwrap_or_default();
    let (porigin, dir) = match &config_path {
        Some(p) => (
            Origin::Profile {
                name: profile.value.clone(),
                path: p.value.clone(),
            },
            p.value.parent().map(Path::to_owned).unwrap_or_default(),
        ),
        None => (Origin::Default, PathBuf::new()),
    };
    let from_profile = |v: Option<String>| v.map(|v| Sourced::new(v, porigin.clone()));
    let path_for_errors = config_path
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_default();

    let url = global
        .url
        .clone()
        .map(|u| Sourced::new(u, Origin::Flag("--url")))
        .or_else(|| first_env(env, &["SEGURA_URL", "SENHASEGURA_URL"]))
        .or_else(|| from_profile(prof.url.clone()));
    let ca_cert = global
        .ca_cert
        .clone()
        .map(|p| Sourced::new(p, Origin::Flag("--ca-cert")))
        .or_else(|| {
            first_env(env, &["SEGURA_CA_CERT"])
                .map(|s| Sourced::new(PathBuf::from(s.value), s.origin))
        })
        .or_else(|| {
            prof.ca_cert
                .as_ref()
                .map(|p| Sourced::new(relative_to(&dir, p), porigin.clone()))
        });
    let insecure = if global.insecure {
        Sourced::new(true, Origin::Flag("--insecure"))
    } else if let Some(b) = prof.insecure {
        Sourced::new(b, porigin.clone())
    } else {
        Sourced::new(false, Origin::Default)
    };
    let defaults = ClientConfig::new("", Auth::Bearer(Secret::new("")));
    let timeout = |flag: Option<Duration>,
                   name: &'static str,
                   key: &str,
                   prof_value: &Option<DurationValue>,
                   default: Duration|
     -> Result<Sourced<Duration>, CliError> {
        if let Some(d) = flag {
            return Ok(Sourced::new(d, Origin::Flag(name)));
        }
        if let Some(v) = prof_value {
            return Ok(Sourced::new(
                v.to_duration(key, &path_for_errors)?,
                porigin.clone(),
            ));
        }
        Ok(Sourced::new(default, Origin::Default))
    };
    let connect_timeout = timeout(
        global.connect_timeout,
        "--connect-timeout",
        "connect_timeout",
        &prof.connect_timeout,
        defaults.connect_timeout,
    )?;
    let read_timeout = timeout(
        global.read_timeout,
        "--read-timeout",
        "read_timeout",
        &prof.read_timeout,
        defaults.read_timeout,
    )?;
    let timeout = match (global.timeout, env("SEGURA_TIMEOUT"), &prof.timeout) {
        (Some(d), _, _) => Some(Sourced::new(d, Origin::Flag("--timeout"))),
        (None, Some(text), _) => {
            let d = crate::cli::parse_std_duration(&text).map_err(|e| {
                CliError::config(
                    format!("SEGURA_TIMEOUT: {e}"),
                    "write a duration such as \"30s\" or \"10m\"",
                )
            })?;
            Some(Sourced::new(d, Origin::Env("SEGURA_TIMEOUT")))
        }
        (None, None, Some(v)) => Some(Sourced::new(
            v.to_duration("timeout", &path_for_errors)?,
            porigin.clone(),
        )),
        (None, None, None) => None,
    };
    let retries = match (global.retries, prof.retries) {
        (Some(n), _) => Sourced::new(n, Origin::Flag("--retries")),
        (None, Some(n)) => Sourced::new(n, porigin.clone()),
        (None, None) => Sourced::new(defaults.retry.max_retries, Origin::Default),
    };

    let zone_error = |what: &str, e: segura_api::time::UnknownZone| {
        CliError::config(
            format!("{what}: {e}"),
            "write an IANA zone name such as America/Sao_Paulo, UTC, an offset such as -03:00, or local",
        )
    };
    let timezone = match (global.tz, env("SEGURA_TZ"), &prof.timezone) {
        (Some(z), _, _) => Sourced::new(z, Origin::Flag("--tz")),
        (None, Some(text), _) => Sourced::new(
            text.parse().map_err(|e| zone_error("SEGURA_TZ", e))?,
            Origin::Env("SEGURA_TZ"),
        ),
        (None, None, Some(text)) => Sourced::new(
            text.parse().map_err(|e| {
                zone_error(&format!("timezone in {}", path_for_errors.display()), e)
            })?,
            porigin.clone(),
        ),
        (None, None, None) => Sourced::new(ApplianceZone::Local, Origin::Default),
    };

    let drop_log = match (env("SEGURA_DROP_LOG"), &prof.drop_log) {
        (Some(p), _) => Some(Sourced::new(
            PathBuf::from(p),
            Origin::Env("SEGURA_DROP_LOG"),
        )),
        (None, Some(p)) => Some(Sourced::new(relative_to(&dir, p), porigin.clone())),
        (None, None) => crate::drop_log::default_path().map(|p| Sourced::new(p, Origin::Default)),
    };

    let env_creds = env_layer(env);
    let prof_creds = profile_layer(&prof, &porigin, &dir);
    let method = env_creds
        .method_sourced()
        .or_else(|| prof_creds.method_sourced());
    Ok(Resolved {
        config_path,
        config_found,
        profile,
        profile_found,
        url,
        ca_cert,
        insecure,
        connect_timeout,
        read_timeout,
        timeout,
        retries,
        timezone,
        drop_log,
        compression: !global.no_compression,
        method,
        creds: env_creds.or(prof_creds),
        variants: [
            prof.api_prefix.clone(),
            prof.token_url.clone(),
            prof.client_auth.clone(),
        ],
        variants_origin: porigin.clone(),
    })
}

fn missing(what: &str, var: &str, key: &str) -> CliError {
    CliError::config(
        format!("the {what} is missing"),
        format!(
            "set {var}, or `{key}` in the profile of the config file (see `segura config show`)"
        ),
    )
}

impl Resolved {
    /// The credentials, with secret files read.
    pub fn auth(&self) -> Result<Auth, CliError> {
        let Some(method) = &self.method else {
            return Err(CliError::config(
                "no credentials are configured",
                "set SEGURA_CLIENT_ID and SEGURA_CLIENT_SECRET (OAuth 2.0), or SEGURA_TOKEN, \
                 or put them in a profile of the config file (see `segura config show`)",
            ));
        };
        let c = &self.creds;
        Ok(match method.value {
            AuthMethod::Bearer => {
                let t = c
                    .token
                    .as_ref()
                    .ok_or_else(|| missing("token", "SEGURA_TOKEN", "token"))?;
                Auth::Bearer(t.value.load("token")?)
            }
            AuthMethod::OAuth2 => {
                let id = c.client_id.as_ref().ok_or_else(|| {
                    missing("OAuth 2.0 client id", "SEGURA_CLIENT_ID", "client_id")
                })?;
                let secret = c.client_secret.as_ref().ok_or_else(|| {
                    missing(
                        "OAuth 2.0 client secret",
                        "SEGURA_CLIENT_SECRET or SEGURA_CLIENT_SECRET_FILE",
                        "client_secret",
                    )
                })?;
                Auth::OAuth2 {
                    client_id: id.value.clone(),
                    client_secret: secret.value.load("client secret")?,
                    method: self.client_auth()?,
                }
            }
            AuthMethod::OAuth1 => {
                let ck = c.consumer_key.as_ref().ok_or_else(|| {
                    missing(
                        "OAuth 1.0a consumer key",
                        "SEGURA_CONSUMER_KEY",
                        "consumer_key",
                    )
                })?;
                let cs = c.consumer_secret.as_ref().ok_or_else(|| {
                    missing(
                        "OAuth 1.0a consumer secret",
                        "SEGURA_CONSUMER_SECRET",
                        "consumer_secret",
                    )
                })?;
                let tk = c
                    .token_key
                    .as_ref()
                    .ok_or_else(|| missing("OAuth 1.0a token", "SEGURA_TOKEN_KEY", "token_key"))?;
                let ts = c.token_secret.as_ref().ok_or_else(|| {
                    missing(
                        "OAuth 1.0a token secret",
                        "SEGURA_TOKEN_SECRET",
                        "token_secret",
                    )
                })?;
                Auth::OAuth1 {
                    consumer_key: ck.value.clone(),
                    consumer_secret: cs.value.load("consumer secret")?,
                    token: tk.value.clone(),
                    token_secret: ts.value.load("token secret")?,
                }
            }
        })
    }

    /// The profile's `client_auth`: `body` (the default) or `basic`.
    fn client_auth(&self) -> Result<ClientAuthMethod, CliError> {
        match self.variants[2].as_deref().map(str::trim) {
            None | Some("body") => Ok(ClientAuthMethod::Body),
            Some("basic") => Ok(ClientAuthMethod::Basic),
            Some(other) => Err(CliError::config(
                format!(
                    "unknown client_auth {:?} in the profile",
                    segura_api::sanitize(other)
                ),
                "use `body` (the default) or `basic`",
            )),
        }
    }

    /// The profile's `api_prefix` and `token_url`.
    fn endpoint_variants(&self) -> Result<(Option<ApiPrefix>, TokenUrl), CliError> {
        let bad = |key: &str, e: segura_api::Error| {
            CliError::config(
                format!("invalid `{key}` in the profile: {e}"),
                "see `docs/api.md` for the variants",
            )
        };
        let prefix = match &self.variants[0] {
            None => None,
            Some(text) => Some(ApiPrefix::parse(text).map_err(|e| bad("api_prefix", e))?),
        };
        let token_url = match self.variants[1].as_deref().map(str::trim) {
            None | Some("auto") => TokenUrl::Auto,
            Some("iso") | Some("/iso/oauth2/token") => TokenUrl::Iso,
            Some("api") | Some("/api/oauth2/token") => TokenUrl::Api,
            Some(url) => TokenUrl::Url(url.to_owned()),
        };
        Ok((prefix, token_url))
    }

    /// The client configuration: URL, credentials, TLS and timeouts.
    pub fn client_config(&self) -> Result<ClientConfig, CliError> {
        let url = self.url.as_ref().ok_or_else(|| {
            CliError::config(
                "no URL of the appliance is configured",
                "pass --url, set SEGURA_URL, or put `url` in the profile of the config file",
            )
        })?;
        let auth = self.auth()?;
        let mut cfg = ClientConfig::new(url.value.clone(), auth)
            .danger_accept_invalid_certs(self.insecure.value)
            .connect_timeout(self.connect_timeout.value)
            .read_timeout(self.read_timeout.value)
            .total_timeout(self.timeout.as_ref().map(|t| t.value))
            .max_retries(self.retries.value)
            .compression(self.compression);
        let (api_prefix, token_url) = self.endpoint_variants()?;
        cfg.api_prefix = api_prefix;
        cfg.token_url = token_url;
        if let Some(ca) = &self.ca_cert {
            let origin = format!(" ({})", ca.origin);
            let pem = read_small_file(&ca.value, "the CA certificate", &origin)?;
            cfg = cfg.ca_cert_pem(pem.bytes);
            cfg.ca_cert_path = Some(ca.value.clone());
        }
        Ok(cfg)
    }

    /// The rows of `segura config show`: setting, value (secrets redacted), source.
    pub fn rows(&self) -> Vec<[String; 3]> {
        let mut rows = Vec::new();
        let mut push = |name: &str, value: String, origin: String| {
            rows.push([name.to_owned(), value, origin]);
        };
        match &self.config_path {
            Some(p) => push(
                "config_file",
                format!(
                    "{}{}",
                    p.value.display(),
                    if self.config_found {
                        ""
                    } else {
                        " (not found)"
                    }
                ),
                p.origin.to_string(),
            ),
            None => push("config_file", "-".into(), "no config directory".into()),
        }
        push(
            "profile",
            format!(
                "{}{}",
                self.profile.value,
                if self.profile_found {
                    ""
                } else {
                    " (not in the file)"
                }
            ),
            self.profile.origin.to_string(),
        );
        let opt = |v: Option<(String, &Origin)>| match v {
            Some((v, o)) => (v, o.to_string()),
            None => ("-".to_owned(), "not set".to_owned()),
        };
        let (v, o) = opt(self
            .url
            .as_ref()
            .map(|u| (redact_url_password(&u.value), &u.origin)));
        push("url", v, o);
        let (v, o) = match &self.method {
            Some(m) => (m.value.to_string(), m.origin.to_string()),
            None => ("-".to_owned(), "no credentials set".to_owned()),
        };
        push("auth", v, o);
        let c = &self.creds;
        let wanted: &[&str] = match self.method.as_ref().map(|m| m.value) {
            Some(AuthMethod::OAuth2) => &["client_id", "client_secret"],
            Some(AuthMethod::Bearer) => &["token"],
            Some(AuthMethod::OAuth1) => &[
                "consumer_key",
                "consumer_secret",
                "token_key",
                "token_secret",
            ],
            None => &[],
        };
        for key in wanted {
            let (v, o) = match *key {
                "client_id" => opt(c.client_id.as_ref().map(|s| (s.value.clone(), &s.origin))),
                "consumer_key" => opt(c
                    .consumer_key
                    .as_ref()
                    .map(|s| (s.value.clone(), &s.origin))),
                "token_key" => opt(c.token_key.as_ref().map(|s| (s.value.clone(), &s.origin))),
                "client_secret" => opt(c
                    .client_secret
                    .as_ref()
                    .map(|s| (s.value.shown(), &s.origin))),
                "token" => opt(c.token.as_ref().map(|s| (s.value.shown(), &s.origin))),
                "consumer_secret" => opt(c
                    .consumer_secret
                    .as_ref()
                    .map(|s| (s.value.shown(), &s.origin))),
                _ => opt(c
                    .token_secret
                    .as_ref()
                    .map(|s| (s.value.shown(), &s.origin))),
            };
            push(key, v, o);
        }
        let (v, o) = opt(self
            .ca_cert
            .as_ref()
            .map(|c| (c.value.display().to_string(), &c.origin)));
        push("ca_cert", v, o);
        push(
            "insecure",
            self.insecure.value.to_string(),
            self.insecure.origin.to_string(),
        );
        push(
            "connect_timeout",
            humantime::format_duration(self.connect_timeout.value).to_string(),
            self.connect_timeout.origin.to_string(),
        );
        push(
            "read_timeout",
            humantime::format_duration(self.read_timeout.value).to_string(),
            self.read_timeout.origin.to_string(),
        );
        let (v, o) = match &self.timeout {
            Some(t) => (
                humantime::format_duration(t.value).to_string(),
                t.origin.to_string(),
            ),
            None => (
                "-".to_owned(),
                format!(
                    "default: none for a list, {} for get, drop and the token request, {} per watch poll",
                    humantime::format_duration(ClientConfig::DEFAULT_CALL_TIMEOUT),
                    humantime::format_duration(WATCH_POLL_TIMEOUT)
                ),
            ),
        };
        push("timeout", v, o);
        push(
            "retries",
            self.retries.value.to_string(),
            self.retries.origin.to_string(),
        );
        let zone = &self.timezone;
        push(
            "timezone",
            zone.value.to_string(),
            if zone.value.is_local() && zone.origin == Origin::Default {
                "default: the local zone of this machine".to_owned()
            } else {
                zone.origin.to_string()
            },
        );
        let (v, o) = opt(self
            .drop_log
            .as_ref()
            .map(|p| (p.value.display().to_string(), &p.origin)));
        push("drop_log", v, o);
        let defaults = [
            (
                "api_prefix",
                "-",
                "default: /api/session/, then /api/pam/session/ after a 404",
            ),
            (
                "token_url",
                "-",
                "default: /iso/oauth2/token, then /api/oauth2/token after a 404",
            ),
            (
                "client_auth",
                "body",
                "default: the form body, then HTTP Basic once after invalid_client",
            ),
        ];
        for ((name, unset, default), written) in defaults.into_iter().zip(&self.variants) {
            match written {
                Some(v) => push(name, v.trim().to_owned(), self.variants_origin.to_string()),
                None => push(name, unset.to_owned(), default.to_owned()),
            }
        }
        rows
    }
}

/// The byte range of the password in `url` (`scheme://user:PASSWORD@host/...`).
fn url_password_range(url: &str) -> Option<std::ops::Range<usize>> {
    let start = url.find("://")? + 3;
    let authority_len = url[start..]
        .find(['/', '?', '#'])
        .unwrap_or(url.len() - start);
    let authority = &url[start..start + authority_len];
    let userinfo = &authority[..authority.rfind('@')?];
    let colon = userinfo.find(':')?;
    Some(start + colon + 1..start + userinfo.len())
}

/// The password of `url`, if it holds one.
pub fn url_password(url: &str) -> Option<&str> {
    url_password_range(url)
        .map(|r| &url[r])
        .filter(|p| !p.is_empty())
}

/// `url` with its password replaced by `[redacted]`: `https://user:[redacted]@host`.
pub fn redact_url_password(url: &str) -> String {
    match url_password_range(url) {
        Some(r) if !r.is_empty() => {
            format!("{}{}{}", &url[..r.start], Secret::REDACTED, &url[r.end..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_password_in_the_url_is_redacted() {
        assert_eq!(
            redact_url_password("https://user:pw@host/x"),
            "https://user:[redacted]@host/x"
        );
        assert_eq!(url_password("https://u:p%40ss@h:8443"), Some("p%40ss"));
        assert_eq!(
            redact_url_password("https://user@host"),
            "https://user@host"
        );
        assert_eq!(
            redact_url_password("https://host/a:b@c"),
            "https://host/a:b@c"
        );
        assert_eq!(url_password("https://u:@h"), None);
        assert_eq!(
            redact_url_password("http://a:b:c@d@host"),
            "http://a:[redacted]@host"
        );
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned().filter(|v| !v.is_empty())
    }

    fn write_config(dir: &Path, text: &str, mode: u32) -> PathBuf {
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        #[cfg(not(unix))]
        let _ = mode;
        path
    }

    fn global_with_config(path: &Path) -> GlobalArgs {
        GlobalArgs {
            config: Some(path.to_owned()),
            ..GlobalArgs::default()
        }
    }

    const FILE: &str = r#"
[profiles.default]
url = "https://profile.example"
client_id = "profile-id"
client_secret = "profile-secret"
connect_timeout = "5s"
read_timeout = 90
retries = 1

[profiles.prod]
url = "https://prod.example"
token = "prod-token"
ca_cert = "ca.pem"
"#;

    #[test]
    fn precedence_is_flag_then_env_then_profile_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), FILE, 0o600);
        let mut g = global_with_config(&path);

        let r = resolve(&g, &env_of(&[])).unwrap();
        let url = r.url.clone().unwrap();
        assert_eq!(url.value, "https://profile.example");
        assert_eq!(
            url.origin.to_string(),
            format!("profile default in {}", path.display())
        );
        assert_eq!(r.connect_timeout.value, Duration::from_secs(5));
        assert_eq!(r.read_timeout.value, Duration::from_secs(90));
        assert_eq!(r.retries.value, 1);
        assert!(
            matches!(r.auth().unwrap(), Auth::OAuth2 { ref client_id, .. } if client_id == "profile-id")
        );

        let env = env_of(&[
            ("SENHASEGURA_URL", "https://vendor.example"),
            ("SENHASEGURA_CLIENT_ID", "vendor-id"),
        ]);
        let r = resolve(&g, &env).unwrap();
        assert_eq!(r.url.as_ref().unwrap().value, "https://vendor.example");
        assert_eq!(
            r.url.as_ref().unwrap().origin,
            Origin::Env("SENHASEGURA_URL")
        );
        // The id from the environment, the secret from the profile.
        assert!(
            matches!(r.auth().unwrap(), Auth::OAuth2 { ref client_id, ref client_secret, .. }
            if client_id == "vendor-id" && client_secret.expose() == "profile-secret")
        );

        let env = env_of(&[
            ("SEGURA_URL", "https://env.example"),
            ("SENHASEGURA_URL", "https://vendor.example"),
        ]);
        let r = resolve(&g, &env).unwrap();
        assert_eq!(r.url.as_ref().unwrap().value, "https://env.example");

        g.url = Some("https://flag.example".into());
        g.retries = Some(9);
        let r = resolve(&g, &env).unwrap();
        assert_eq!(r.url.as_ref().unwrap().origin, Origin::Flag("--url"));
        assert_eq!(r.retries.value, 9);
        assert_eq!(r.insecure.origin, Origin::Default);
    }

    #[test]
    fn named_profile_token_and_relative_ca() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), FILE, 0o600);
        let env = env_of(&[("SEGURA_PROFILE", "prod")]);
        let r = resolve(&global_with_config(&path), &env).unwrap();
        assert_eq!(r.profile.origin, Origin::Env("SEGURA_PROFILE"));
        assert!(matches!(r.auth().unwrap(), Auth::Bearer(ref t) if t.expose() == "prod-token"));
        assert_eq!(r.ca_cert.unwrap().value, dir.path().join("ca.pem"));

        let mut g = global_with_config(&path);
        g.profile = Some("staging".into());
        let e = resolve(&g, &env).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.report().contains("default, prod"), "{}", e.report());
    }

    #[test]
    fn env_credentials_choose_the_method_over_the_profile() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), FILE, 0o600);
        let env = env_of(&[("SEGURA_TOKEN", "env-token")]);
        let r = resolve(&global_with_config(&path), &env).unwrap();
        assert!(matches!(r.auth().unwrap(), Auth::Bearer(ref t) if t.expose() == "env-token"));

        let env = env_of(&[
            ("SEGURA_CONSUMER_KEY", "ck"),
            ("SEGURA_CONSUMER_SECRET", "cs"),
            ("SEGURA_TOKEN_KEY", "tk"),
        ]);
        let e = resolve(&global_with_config(&path), &env)
            .unwrap()
            .auth()
            .unwrap_err();
        assert!(e.report().contains("SEGURA_TOKEN_SECRET"), "{}", e.report());
    }

    #[test]
    fn secret_file_is_read_without_its_newline() {
        let dir = tempfile::tempdir().unwrap();
        let secret = write_config(dir.path(), "from-file\n", 0o600);
        let env = env_of(&[
            ("SEGURA_CLIENT_ID", "id"),
            ("SEGURA_CLIENT_SECRET_FILE", secret.to_str().unwrap()),
            (
                "SEGURA_CONFIG",
                dir.path().join("none.toml").to_str().unwrap(),
            ),
        ]);
        let r = resolve(&GlobalArgs::default(), &env).unwrap();
        assert!(!r.config_found);
        assert!(
            matches!(r.auth().unwrap(), Auth::OAuth2 { ref client_secret, .. } if client_secret.expose() == "from-file")
        );
        let shown = format!("{:?}", r.rows());
        assert!(!shown.contains("from-file"), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }

    #[test]
    fn missing_url_or_credentials_are_configuration_errors() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(&[(
            "SEGURA_CONFIG",
            dir.path().join("none.toml").to_str().unwrap(),
        )]);
        let r = resolve(&GlobalArgs::default(), &env).unwrap();
        let e = r.client_config().unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.report().contains("--url"), "{}", e.report());
        let g = GlobalArgs {
            url: Some("https://x".into()),
            ..GlobalArgs::default()
        };
        let e = resolve(&g, &env).unwrap().client_config().unwrap_err();
        assert!(e.report().contains("SEGURA_CLIENT_ID"), "{}", e.report());
    }

    #[cfg(unix)]
    #[test]
    fn readable_file_with_a_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), FILE, 0o644);
        let e = resolve(&global_with_config(&path), &env_of(&[])).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let r = e.report();
        assert!(r.contains("mode 644") && r.contains("chmod 600"), "{r}");
        // Without a secret, the same mode is fine.
        let path = write_config(
            dir.path(),
            "[profiles.default]\nurl = \"https://x\"\nclient_secret_file = \"s\"\n",
            0o644,
        );
        assert!(resolve(&global_with_config(&path), &env_of(&[])).is_ok());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(dir.path(), "[profiles.default]\nurll = \"x\"\n", 0o600);
        let e = resolve(&global_with_config(&path), &env_of(&[])).unwrap_err();
        assert!(e.report().contains("urll"), "{}", e.report());
        let path = write_config(
            dir.path(),
            "[profiles.default]\nconnect_timeout = \"soon\"\n",
            0o600,
        );
        let e = resolve(&global_with_config(&path), &env_of(&[])).unwrap_err();
        assert!(e.report().contains("connect_timeout"), "{}", e.report());
    }

    #[test]
    fn timeout_is_flag_then_env_then_profile_and_shown_with_its_origin() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_config(
            dir.path(),
            "[profiles.default]\nurl = \"https://x\"\ntimeout = \"7m\"\n",
            0o600,
        );
        let mut g = global_with_config(&path);
        let row = |r: &Resolved| {
            r.rows()
                .into_iter()
                .find(|row| row[0] == "timeout")
                .unwrap()
        };
        let r = resolve(&g, &env_of(&[])).unwrap();
        assert_eq!(r.timeout.as_ref().unwrap().value, Duration::from_secs(420));
        assert!(row(&r)[2].starts_with("profile default"), "{:?}", row(&r));
        let env = env_of(&[("SEGURA_TIMEOUT", "90s")]);
        let r = resolve(&g, &env).unwrap();
        assert_eq!(r.timeout.as_ref().unwrap().value, Duration::from_secs(90));
        assert_eq!(row(&r), ["timeout", "1m 30s", "env SEGURA_TIMEOUT"]);
        g.timeout = Some(Duration::from_secs(2));
        let r = resolve(&g, &env).unwrap();
        assert_eq!(row(&r), ["timeout", "2s", "flag --timeout"]);
        let env = env_of(&[("SEGURA_TOKEN", "t")]);
        let cfg = resolve(&g, &env).unwrap().client_config().unwrap();
        assert_eq!(cfg.total_timeout, Some(Duration::from_secs(2)));

        let none = tempfile::tempdir().unwrap();
        let g = global_with_config(&none.path().join("none.toml"));
        let r = resolve(&g, &env_of(&[])).unwrap();
        assert!(r.timeout.is_none());
        let shown = row(&r);
        assert_eq!(shown[1], "-");
        assert!(
            shown[2].contains("none for a list") && shown[2].contains("5m"),
            "{shown:?}"
        );
        let e = resolve(&g, &env_of(&[("SEGURA_TIMEOUT", "soon")])).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.report().contains("SEGURA_TIMEOUT"), "{}", e.report());
    }
}
