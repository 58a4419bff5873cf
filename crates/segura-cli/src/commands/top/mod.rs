//! `segura sessions top`: a live, full-screen view of the open sessions.
//!
//! The list is polled in the background ([`poller`]), keeping only the open sessions
//! that match the filters, so memory follows the open sessions, not the list; the
//! terminal loop here reads keys, hands them to the state ([`app`]) and draws it
//! ([`ui`]) a few times a second, so the screen never waits for the network. The
//! terminal is restored on every way out: a normal exit, an error (the guard's `Drop`)
//! and a panic (ratatui's panic hook).

pub mod app;
pub mod poller;
pub mod ui;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use crossterm::event::{self, Event as TermEvent};
use ratatui::DefaultTerminal;

use crate::cli::TopArgs;
use crate::config::{process_env, resolve};
use crate::exit::CliError;
use crate::output::sanitize;

use self::app::{Action, App};
use self::poller::{Event, Poller, Server};

/// How often the screen is drawn when nothing happens (the open-for column and the
/// progress line move).
const TICK: Duration = Duration::from_millis(250);

/// What `top` says when standard output is not a terminal.
pub const NOT_A_TERMINAL: &str = "`segura sessions top` needs a terminal on standard output; \
     to print the open sessions, use `segura sessions list --active`";

/// The full-screen terminal, restored when dropped (also on an error's way out).
struct Screen(DefaultTerminal);

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = self.0.show_cursor();
        ratatui::restore();
    }
}

/// The appliance as the header names it: the host (and port) of its URL.
fn appliance(url: &str) -> String {
    let bare = super::without_userinfo(url);
    let rest = bare.split_once("://").map_or(bare.as_str(), |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    sanitize(host).into_owned()
}

/// Runs the view until `q`.
pub fn run(ctx: &super::Ctx, args: &TopArgs) -> Result<(), CliError> {
    if !ctx.stdout_tty {
        return Err(CliError::Usage(NOT_A_TERMINAL.into()));
    }
    if args.filter.input.is_some() {
        return Err(CliError::Usage(
            "`sessions top` watches the appliance live and takes no --input; for a saved \
             list use `segura sessions list --active --input FILE`"
                .into(),
        ));
    }
    if args.filter.not_active
        || args.filter.ended_since.is_some()
        || args.filter.ended_until.is_some()
    {
        return Err(CliError::Usage(
            "`sessions top` shows open sessions only: --not-active, --ended-since and \
             --ended-until would match none"
                .into(),
        ));
    }
    // Resolved at each poll, so that relative times move with the clock; resolved once
    // now, so that a bad expression or time is a usage error before the screen opens.
    let filter_args = args.filter.clone();
    let filter: poller::Resolve = Box::new(move || {
        let mut f = filter_args.to_filter()?;
        f.active = true;
        Ok(f)
    });
    filter()?;
    let resolved = resolve(&ctx.global, &process_env)?;
    let name = resolved
        .url
        .as_ref()
        .map(|u| appliance(&u.value))
        .unwrap_or_default();
    let client = ctx.connect()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| CliError::Local(format!("cannot start the async runtime: {e}")))?;
    let server = Server {
        rt: Arc::new(rt),
        api: Arc::new(client),
        drop_log: resolved.drop_log.as_ref().map(|p| p.value.clone()),
        appliance: resolved
            .url
            .as_ref()
            .map(|u| super::without_userinfo(&u.value))
            .unwrap_or_default(),
    };
    let theme = ui::Theme {
        color: super::colour_allowed(&ctx.global),
    };
    // SIGTERM ends the view as `q` does, so the terminal is restored on that exit path
    // too. SIGHUP (the terminal is gone) keeps its default: there is nothing left to
    // restore, and the process must not outlive its terminal.
    let ended = Arc::new(AtomicBool::new(false));
    {
        use tokio::signal::unix::{signal, SignalKind};
        let _runtime = server.rt.enter();
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            let ended = ended.clone();
            server.rt.spawn(async move {
                term.recv().await;
                ended.store(true, Ordering::Relaxed);
            });
        }
    }
    let terminal = ratatui::try_init()
        .map_err(|e| CliError::Local(format!("cannot set the terminal up: {e}")))?;
    let mut screen = Screen(terminal);
    let (tx, rx) = mpsc::channel();
    let poller = Poller::start(server.clone(), filter, args.interval, tx.clone());
    let result = event_loop(
        &mut screen.0,
        &mut App::new(name, args.interval),
        &poller,
        &server,
        (&tx, &rx),
        theme,
        &ended,
    );
    poller.stop.store(true, Ordering::Relaxed);
    drop(screen);
    result
}

fn terminal_error(e: std::io::Error) -> CliError {
    CliError::Local(format!("the terminal failed: {e}"))
}

fn event_loop(
    terminal: &mut DefaultTerminal,
    app: &mut App,
    poller: &Poller,
    server: &Server,
    (tx, rx): (&mpsc::Sender<Event>, &mpsc::Receiver<Event>),
    theme: ui::Theme,
    ended: &AtomicBool,
) -> Result<(), CliError> {
    let mut offset = 0;
    loop {
        if ended.load(Ordering::Relaxed) {
            return Ok(());
        }
        while let Ok(event) = rx.try_recv() {
            match event {
                Event::Started(at) => app.polling_since = Some(at),
                Event::Polled(sessions, last) => app.on_poll(sessions, last),
                Event::PollFailed(e) => app.on_poll_error(e),
                Event::Dropped(result) => {
                    app.on_dropped(result);
                    // The list shows the drop as soon as the appliance does.
                    poller.poll_now();
                }
            }
        }
        let now = crate::clock::now().naive;
        app.refresh(now);
        let polling = app.polling_since.map(|since| ui::Polling {
            since,
            read: poller.read.load(Ordering::Relaxed),
        });
        let mut page = 1;
        terminal
            .draw(|f| {
                page = usize::from(f.area().height.saturating_sub(6));
                ui::draw(f, app, &mut offset, polling, now, theme);
            })
            .map_err(terminal_error)?;
        if !event::poll(TICK).map_err(terminal_error)? {
            continue;
        }
        if let TermEvent::Key(key) = event::read().map_err(terminal_error)? {
            match app.on_key(key, page) {
                Action::None => {}
                Action::Quit => return Ok(()),
                Action::Poll => poller.poll_now(),
                Action::Drop(hash) => {
                    let session = app.session_by_hash(&hash).cloned();
                    poller::drop_session(server.clone(), hash, session, tx.clone());
                }
                Action::Declined(hash) => {
                    if let Err(e) = poller::declined(server, &hash, app.session_by_hash(&hash)) {
                        app.on_dropped(Err(e));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_names_the_host_without_the_login() {
        assert_eq!(
            appliance("https://u:pw@pam.example:8443/api?x"),
            "pam.example:8443"
        );
        assert_eq!(appliance("http://127.0.0.1:9/"), "127.0.0.1:9");
        assert_eq!(
            appliance("https://pam\u{1b}]0;x\u{7}"),
            "pam\\u{1b}]0;x\\u{7}"
        );
    }
}
