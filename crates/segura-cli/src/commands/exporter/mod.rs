//! `segura sessions exporter`: Prometheus metrics of the sessions.
//!
//! Two halves that share [`Shared`]: a poller thread that lists the sessions at each
//! interval ([`poll`]) and sets the metrics from each complete poll under a write lock
//! ([`metrics`]), and an HTTP server ([`http`]) whose scrapes encode them under a read
//! lock, so a scrape always sees one whole poll and never waits for the list. Refused
//! credentials and configuration errors end the exporter; any other failed poll is
//! counted and the next one is tried at the next interval.

pub mod http;
pub mod metrics;
pub mod poll;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use segura_api::Error as ApiError;
use segura_http::HttpClient;

use crate::cli::ExporterArgs;
use crate::diag;
use crate::exit::CliError;
use crate::feed::{runtime, ApiFeed, Feed, InputFeed};

use self::metrics::Metrics;
use self::poll::Tracker;

/// What the poller and the server share.
#[derive(Debug)]
pub struct Shared {
    metrics: RwLock<Metrics>,
    last_success: Mutex<Option<Instant>>,
    interval: Duration,
}

impl Shared {
    /// Fresh metrics; polls every `interval`.
    pub fn new(per_user: bool, interval: Duration) -> Self {
        Self {
            metrics: RwLock::new(Metrics::new(per_user)),
            last_success: Mutex::new(None),
            interval,
        }
    }

    /// The exposition of the last complete poll.
    pub fn encode(&self, openmetrics: bool) -> Result<String, std::fmt::Error> {
        self.metrics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .encode(openmetrics)
    }

    /// Healthy while the last successful poll is younger than three intervals; and a
    /// line that says so.
    pub fn health(&self) -> (bool, String) {
        let last = *self
            .last_success
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let limit = self.interval.saturating_mul(3);
        match last {
            None => (false, "unhealthy: no poll has succeeded yet".to_owned()),
            Some(t) => {
                let age = t.elapsed();
                let text = format!("last successful poll {}s ago", age.as_secs());
                if age < limit {
                    (true, format!("ok: {text}"))
                } else {
                    (
                        false,
                        format!(
                            "unhealthy: {text}, more than three intervals ({}s)",
                            limit.as_secs()
                        ),
                    )
                }
            }
        }
    }

    fn with_metrics(&self, f: impl FnOnce(&mut Metrics)) {
        f(&mut self.metrics.write().unwrap_or_else(PoisonError::into_inner));
    }
}

/// The error class of a failed poll, for `segura_poll_errors_total{kind}`.
pub fn error_kind(e: &CliError) -> &'static str {
    match e {
        CliError::Api { error, .. } => error.class(),
        CliError::Config { .. } => "config",
        _ => "other",
    }
}

/// Whether a failed poll ends the exporter: credentials refused, a configuration that
/// cannot work, an unreadable `--input`, or a local failure. Anything else may heal by
/// itself (a restarting appliance, a flaky network), so the exporter goes on.
pub fn is_fatal(e: &CliError) -> bool {
    match e {
        CliError::Api { error, .. } => matches!(
            error,
            ApiError::Auth { .. } | ApiError::Config { .. } | ApiError::Input { .. }
        ),
        _ => true,
    }
}

/// Where the sessions come from.
enum Source {
    Server(HttpClient),
    Input(PathBuf),
}

/// Polls `feed` every interval until `stop` says so (or its sender is gone), setting
/// the metrics in `shared`; returns a fatal error.
fn poll_loop(
    feed: &mut dyn Feed,
    args: &ExporterArgs,
    shared: &Shared,
    stop: &mpsc::Receiver<()>,
    quiet: bool,
) -> Result<(), CliError> {
    let mut tracker = Tracker::default();
    loop {
        let began = Instant::now();
        // Relative times (--since 24h) move with the clock: resolved at each poll.
        let result = args
            .filter
            .to_filter()
            .and_then(|f| poll::poll(feed, &f, tracker.after_id(), args.per_user));
        let took = began.elapsed().as_secs_f64();
        match result {
            Ok(polled) => {
                let now = crate::clock::now();
                let unchanged = polled.is_none();
                // A 304 keeps the previous snapshot: no changes, ages measured anew.
                let changes = polled.and_then(|snap| tracker.advance(snap));
                let ended_at = now.at.timestamp_millis() as f64 / 1000.0;
                shared.with_metrics(|m| {
                    m.observe_poll(took);
                    if unchanged {
                        m.not_modified();
                    }
                    if let Some(snap) = tracker.last() {
                        m.succeeded(snap, changes.as_ref(), now.naive, ended_at);
                    }
                });
                *shared
                    .last_success
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
            }
            Err(e) => {
                shared.with_metrics(|m| {
                    m.observe_poll(took);
                    m.failed(error_kind(&e));
                });
                if is_fatal(&e) {
                    return Err(e);
                }
                if !quiet {
                    let report = e.report();
                    let first = report.lines().next().unwrap_or("error: poll failed");
                    diag::note(&format!(
                        "warning: poll failed ({}), the metrics keep the last complete poll: {}",
                        error_kind(&e),
                        first.trim_start_matches("error: ")
                    ));
                }
            }
        }
        let wait = shared.interval.saturating_sub(began.elapsed());
        match stop.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return Ok(()),
        }
    }
}

/// Runs the exporter until SIGTERM or SIGINT (Ok) or a fatal poll error.
pub fn run(ctx: &super::Ctx, args: ExporterArgs) -> Result<(), CliError> {
    super::matched::check(&args.filter)?;
    // A bad --filter expression or time is a usage error now, not at the first poll.
    args.filter.to_filter()?;
    let source = match &args.filter.input {
        Some(path) => Source::Input(path.clone()),
        None => Source::Server(ctx.connect()?),
    };
    let listener = std::net::TcpListener::bind(args.listen)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| CliError::Local(format!("cannot listen on {}: {e}", args.listen)))?;
    let bound: SocketAddr = listener
        .local_addr()
        .map_err(|e| CliError::Local(format!("cannot listen on {}: {e}", args.listen)))?;
    let quiet = ctx.global.quiet;
    if !quiet {
        diag::note(&format!(
            "segura exporter listening on http://{bound}/metrics (polling every {})",
            humantime::format_duration(args.interval)
        ));
    }
    let shared = Arc::new(Shared::new(args.per_user, args.interval));
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<Result<(), CliError>>();
    let poller = {
        let shared = shared.clone();
        let args = args.clone();
        std::thread::Builder::new()
            .name("segura-poller".into())
            .spawn(move || {
                let result = match source {
                    Source::Input(path) => {
                        poll_loop(&mut InputFeed::new(&path), &args, &shared, &stop_rx, quiet)
                    }
                    Source::Server(client) => runtime().and_then(|rt| {
                        poll_loop(
                            &mut ApiFeed::new(&rt, &client),
                            &args,
                            &shared,
                            &stop_rx,
                            quiet,
                        )
                    }),
                };
                let _ = fatal_tx.send(result);
            })
            .map_err(|e| CliError::Local(format!("cannot start the poller: {e}")))?
    };
    let rt = runtime()?;
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| CliError::Local(format!("cannot listen on {bound}: {e}")))?;
        let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
        let server = tokio::spawn(http::serve(listener, shared, shutdown_rx));
        let outcome = tokio::select! {
            r = fatal_rx => r.unwrap_or(Ok(())),
            () = terminated() => Ok(()),
        };
        let _ = shutdown_tx.send(true);
        let _ = server.await;
        outcome
    });
    // A poll in progress is not waited for: the process ends with this thread.
    let _ = stop_tx.send(());
    if poller.is_finished() {
        let _ = poller.join();
    }
    if result.is_ok() && !quiet {
        diag::note("segura exporter stopped");
    }
    result
}

/// SIGTERM or SIGINT (Ctrl-C).
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_api::{classify_response, AuthFailure};

    #[test]
    fn credentials_and_configuration_are_fatal_the_rest_is_counted() {
        let auth = CliError::from(ApiError::Auth {
            kind: AuthFailure::InvalidClient,
            status: Some(401),
            message: "no".into(),
        });
        assert!(is_fatal(&auth));
        assert_eq!(error_kind(&auth), "auth");
        assert!(is_fatal(&CliError::from(classify_response(403, b"", None))));
        for (status, kind) in [
            (500, "server"),
            (502, "server"),
            (504, "timeout"),
            (404, "not_found"),
        ] {
            let e = CliError::from(classify_response(status, b"", None));
            assert!(!is_fatal(&e), "{status}");
            assert_eq!(error_kind(&e), kind, "{status}");
        }
        for kind in metrics::ERROR_KINDS {
            assert!(!kind.is_empty());
        }
    }

    #[test]
    fn health_follows_the_last_successful_poll() {
        let s = Shared::new(false, Duration::from_millis(20));
        assert!(!s.health().0);
        *s.last_success.lock().unwrap() = Some(Instant::now());
        assert!(s.health().0, "{}", s.health().1);
        *s.last_success.lock().unwrap() = Instant::now().checked_sub(Duration::from_millis(61));
        let (ok, text) = s.health();
        assert!(!ok && text.contains("three intervals"), "{text}");
    }
}
