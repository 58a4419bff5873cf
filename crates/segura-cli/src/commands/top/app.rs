//! The state of `sessions top` and what each key does to it: a plain struct with no
//! terminal and no I/O, so that every key is unit-tested. The terminal loop
//! ([`super::run`]) feeds it keys and poll results and carries out the [`Action`]s it
//! returns; [`super::ui`] draws it.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use segura_model::{Field, RemoteSession, SessionHash, SessionId};

use crate::output::{running_duration, sanitize};

/// The columns of the view, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The PAM user.
    User,
    /// The credential.
    Credential,
    /// The target device.
    Device,
    /// The protocol.
    Protocol,
    /// The user's address.
    Origin,
    /// When the session started, on the appliance's clock.
    Started,
    /// How long it has been open, on the appliance's clock.
    OpenFor,
}

impl Column {
    /// Every column, in the order shown.
    pub const ALL: [Column; 7] = [
        Column::User,
        Column::Credential,
        Column::Device,
        Column::Protocol,
        Column::Origin,
        Column::Started,
        Column::OpenFor,
    ];

    /// The header of the column.
    pub fn title(self) -> &'static str {
        match self {
            Column::User => "USER",
            Column::Credential => "CREDENTIAL",
            Column::Device => "DEVICE",
            Column::Protocol => "PROTOCOL",
            Column::Origin => "ORIGIN",
            Column::Started => "STARTED",
            Column::OpenFor => "OPEN FOR",
        }
    }

    fn index(self) -> usize {
        Column::ALL.iter().position(|c| *c == self).unwrap_or(0)
    }

    fn shifted(self, by: isize) -> Column {
        let n = Column::ALL.len() as isize;
        Column::ALL[(self.index() as isize + by).rem_euclid(n) as usize]
    }
}

/// One open session as shown: its text already made safe for a terminal.
#[derive(Debug, Clone)]
pub struct Row {
    /// The session as received (for the details and the drop).
    pub session: RemoteSession,
    /// User, credential, device, protocol, origin and start, sanitised.
    pub cells: [String; 6],
    /// The same cells in lower case, for the filter.
    lower: String,
}

impl Row {
    /// The row of `session`.
    pub fn new(session: RemoteSession) -> Self {
        let cells = [
            sanitize(&session.user).into_owned(),
            sanitize(&session.credential).into_owned(),
            sanitize(&session.device).into_owned(),
            sanitize(session.protocol.as_str()).into_owned(),
            sanitize(&session.origin_ip).into_owned(),
            session.start.format("%Y-%m-%d %H:%M:%S").to_string(),
        ];
        let lower = cells.join("\u{0}").to_lowercase();
        Row {
            session,
            cells,
            lower,
        }
    }

    /// The text of `column` at `now` (the appliance's clock).
    pub fn cell(&self, column: Column, now: NaiveDateTime) -> String {
        match column {
            Column::OpenFor => running_duration(self.session.start, now),
            c => self.cells[c.index()].clone(),
        }
    }

    /// Every field of the session, sanitised, for the details.
    pub fn details(&self, now: NaiveDateTime) -> Vec<(&'static str, String)> {
        let mut out: Vec<(&'static str, String)> = Field::ALL
            .into_iter()
            .map(|f| {
                (
                    f.wire_name(),
                    sanitize(&self.session.field(f).to_string()).into_owned(),
                )
            })
            .collect();
        out.push(("open for", running_duration(self.session.start, now)));
        out
    }

    fn compare(&self, other: &Row, column: Column) -> Ordering {
        let by = match column {
            // Open for longest first is the same order as started earliest first.
            Column::Started | Column::OpenFor => self.session.start.cmp(&other.session.start),
            c => {
                let i = c.index();
                self.cells[i]
                    .to_lowercase()
                    .cmp(&other.cells[i].to_lowercase())
            }
        };
        by.then_with(|| self.session.id.cmp(&other.session.id))
    }
}

/// A drop waiting for its y/n: who, where and since when, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The 40-hex session_id to drop.
    pub hash: SessionHash,
    /// The question asked, line by line.
    pub question: Vec<String>,
}

/// What the screen shows on top of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The list.
    Normal,
    /// Typing the filter.
    Filter,
    /// Every field of the session with this id.
    Details(SessionId),
    /// Asking whether to drop.
    Confirm(Pending),
    /// The keys.
    Help,
}

/// What the terminal loop must do after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing beyond drawing again.
    None,
    /// Restore the terminal and exit.
    Quit,
    /// Poll the list now.
    Poll,
    /// Drop this session (confirmed), through the path of `sessions drop`.
    Drop(SessionHash),
    /// The operator declined to drop this session (written to the drop log).
    Declined(SessionHash),
}

/// The last complete poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPoll {
    /// When it ended, on the appliance's clock.
    pub at: NaiveDateTime,
    /// How long it took.
    pub took: Duration,
    /// Sessions in the list (open or not, matching or not).
    pub listed: u64,
}

/// A line of news under the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The text, already safe for a terminal.
    pub text: String,
    /// Whether it reports a failure.
    pub error: bool,
}

/// The whole state of the view.
#[derive(Debug)]
pub struct App {
    /// The appliance, as the header names it (sanitised).
    pub appliance: String,
    /// Time between polls.
    pub interval: Duration,
    rows: Vec<Row>,
    /// Indices into `rows` of the rows shown, filtered and sorted.
    visible: Vec<usize>,
    /// The sort column.
    pub sort: Column,
    /// Whether the sort is reversed.
    pub reverse: bool,
    /// The filter text (matches any column, case-insensitive).
    pub filter: String,
    /// What is shown on top of the list.
    pub mode: Mode,
    /// The selected row, as an index into the visible rows.
    pub selected: usize,
    selected_id: Option<SessionId>,
    /// The last complete poll.
    pub last_poll: Option<LastPoll>,
    /// The poll that runs, if any: when it started.
    pub polling_since: Option<Instant>,
    /// The error of the last poll, when it failed (the rows are the previous poll's).
    pub poll_error: Option<String>,
    /// News: a drop's result, a declined drop.
    pub status: Option<Status>,
}

impl App {
    /// The session of the last poll with this session_id, for the drop log.
    pub fn session_by_hash(&self, hash: &SessionHash) -> Option<&RemoteSession> {
        self.rows
            .iter()
            .map(|r| &r.session)
            .find(|s| s.session_id == *hash)
    }

    /// An empty view of `appliance`, polled every `interval`.
    pub fn new(appliance: String, interval: Duration) -> Self {
        App {
            appliance,
            interval,
            rows: Vec::new(),
            visible: Vec::new(),
            sort: Column::OpenFor,
            reverse: false,
            filter: String::new(),
            mode: Mode::Normal,
            selected: 0,
            selected_id: None,
            last_poll: None,
            polling_since: None,
            poll_error: None,
            status: None,
        }
    }

    /// Takes the open sessions of a complete poll.
    pub fn on_poll(&mut self, sessions: Vec<RemoteSession>, last: LastPoll) {
        self.rows = sessions.into_iter().map(Row::new).collect();
        self.last_poll = Some(last);
        self.poll_error = None;
        self.polling_since = None;
        if let Mode::Details(id) = self.mode {
            if !self.rows.iter().any(|r| r.session.id == id) {
                self.mode = Mode::Normal;
            }
        }
    }

    /// A poll failed: the rows stay, the error is shown.
    pub fn on_poll_error(&mut self, error: String) {
        self.poll_error = Some(error);
        self.polling_since = None;
    }

    /// The result of a drop.
    pub fn on_dropped(&mut self, result: Result<String, String>) {
        self.status = Some(match result {
            Ok(text) => Status { text, error: false },
            Err(text) => Status { text, error: true },
        });
    }

    /// The open sessions of the last poll.
    pub fn open_count(&self) -> usize {
        self.rows.len()
    }

    /// Open sessions per protocol, by name.
    pub fn per_protocol(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for r in &self.rows {
            *counts
                .entry(r.cells[Column::Protocol.index()].as_str())
                .or_insert(0) += 1;
        }
        counts
    }

    /// Filters and sorts the rows again (`now` on the appliance's clock, for the
    /// open-for column) and keeps the selected session selected.
    pub fn refresh(&mut self, now: NaiveDateTime) {
        let needle = self.filter.to_lowercase();
        let rows = &self.rows;
        let mut visible: Vec<usize> = (0..rows.len())
            .filter(|&i| {
                needle.is_empty()
                    || rows[i].lower.contains(&needle)
                    || rows[i].cell(Column::OpenFor, now).contains(&needle)
            })
            .collect();
        let (sort, reverse) = (self.sort, self.reverse);
        visible.sort_by(|&a, &b| {
            let o = rows[a].compare(&rows[b], sort);
            if reverse {
                o.reverse()
            } else {
                o
            }
        });
        self.visible = visible;
        if let Some(id) = self.selected_id {
            if let Some(at) = self.visible.iter().position(|&i| rows[i].session.id == id) {
                self.selected = at;
            }
        }
        self.selected = self.selected.min(self.visible.len().saturating_sub(1));
        self.selected_id = self.visible.get(self.selected).map(|&i| rows[i].session.id);
    }

    /// The rows shown, in order (as of the last [`App::refresh`]).
    pub fn visible(&self) -> impl ExactSizeIterator<Item = &Row> {
        self.visible.iter().map(|&i| &self.rows[i])
    }

    /// The selected row.
    pub fn selected_row(&self) -> Option<&Row> {
        self.visible.get(self.selected).map(|&i| &self.rows[i])
    }

    /// The row of the session with this id.
    pub fn row(&self, id: SessionId) -> Option<&Row> {
        self.rows.iter().find(|r| r.session.id == id)
    }

    fn select(&mut self, at: usize) {
        self.selected = at.min(self.visible.len().saturating_sub(1));
        self.selected_id = self
            .visible
            .get(self.selected)
            .map(|&i| self.rows[i].session.id);
    }

    fn move_by(&mut self, by: isize) {
        let at = (self.selected as isize + by).max(0) as usize;
        self.select(at);
    }

    fn sort_by(&mut self, column: Column) {
        if self.sort == column {
            self.reverse = !self.reverse;
        } else {
            self.sort = column;
            self.reverse = false;
        }
    }

    /// What `key` does; `page` is the number of rows a page holds.
    pub fn on_key(&mut self, key: KeyEvent, page: usize) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::None;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            return Action::Quit;
        }
        match self.mode.clone() {
            Mode::Filter => self.filter_key(key, page),
            Mode::Confirm(p) => self.confirm_key(key, p),
            Mode::Details(_) | Mode::Help => match key.code {
                KeyCode::Char('q') => Action::Quit,
                KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?') => {
                    self.mode = Mode::Normal;
                    Action::None
                }
                _ => Action::None,
            },
            Mode::Normal => self.normal_key(key, page),
        }
    }

    fn navigation(&mut self, code: KeyCode, page: usize) -> bool {
        let page = page.max(1) as isize;
        match code {
            KeyCode::Up => self.move_by(-1),
            KeyCode::Down => self.move_by(1),
            KeyCode::PageUp => self.move_by(-page),
            KeyCode::PageDown => self.move_by(page),
            KeyCode::Home => self.select(0),
            KeyCode::End => self.select(usize::MAX),
            _ => return false,
        }
        true
    }

    fn normal_key(&mut self, key: KeyEvent, page: usize) -> Action {
        if self.navigation(key.code, page) {
            return Action::None;
        }
        match key.code {
            KeyCode::Char('q') => return Action::Quit,
            KeyCode::Char('r') => return Action::Poll,
            KeyCode::Char('k') => self.move_by(-1),
            KeyCode::Char('j') => self.move_by(1),
            KeyCode::Char('s') => self.sort_by(self.sort.shifted(1)),
            KeyCode::Char('S') => self.sort_by(self.sort.shifted(-1)),
            KeyCode::Char('R') => self.reverse = !self.reverse,
            KeyCode::Char(c @ '1'..='7') => {
                let i = usize::from(c as u8 - b'1');
                self.sort_by(Column::ALL[i]);
            }
            KeyCode::Char('/') => self.mode = Mode::Filter,
            KeyCode::Char('?') => self.mode = Mode::Help,
            KeyCode::Esc => {
                self.filter.clear();
                self.status = None;
            }
            KeyCode::Enter => {
                if let Some(r) = self.selected_row() {
                    self.mode = Mode::Details(r.session.id);
                }
            }
            KeyCode::Char('d') => match self.selected_row() {
                Some(r) => {
                    let cell = |c: Column| r.cells[c.index()].as_str();
                    let question = vec![
                        "Drop this session? Its user is disconnected at once.".to_owned(),
                        String::new(),
                        format!("  user     {}", cell(Column::User)),
                        format!(
                            "  device   {} ({})",
                            cell(Column::Device),
                            cell(Column::Protocol)
                        ),
                        format!("  from     {}", cell(Column::Origin)),
                        format!("  since    {}", cell(Column::Started)),
                        format!("  session  {}", r.session.session_id.as_str()),
                        String::new(),
                        "y: drop it    n or Esc: keep it".to_owned(),
                    ];
                    self.mode = Mode::Confirm(Pending {
                        hash: r.session.session_id.clone(),
                        question,
                    });
                }
                None => {
                    self.status = Some(Status {
                        text: "no session selected".into(),
                        error: true,
                    })
                }
            },
            _ => {}
        }
        Action::None
    }

    fn filter_key(&mut self, key: KeyEvent, page: usize) -> Action {
        if self.navigation(key.code, page) {
            return Action::None;
        }
        match key.code {
            KeyCode::Esc => {
                self.filter.clear();
                self.mode = Mode::Normal;
            }
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Backspace => {
                self.filter.pop();
            }
            // Typed text is shown back: no control character gets in.
            KeyCode::Char(c) if !segura_api::text::needs_escape(c) => {
                self.filter.push(c);
                // A new filter starts at the top.
                self.selected_id = None;
                self.selected = 0;
            }
            _ => {}
        }
        Action::None
    }

    fn confirm_key(&mut self, key: KeyEvent, pending: Pending) -> Action {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                self.mode = Mode::Normal;
                self.status = Some(Status {
                    text: format!("dropping session {}…", pending.hash.as_str()),
                    error: false,
                });
                Action::Drop(pending.hash)
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                self.mode = Mode::Normal;
                self.status = Some(Status {
                    text: format!("session {} was not dropped", pending.hash.as_str()),
                    error: false,
                });
                Action::Declined(pending.hash)
            }
            _ => Action::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use segura_model::SessionHash;

    fn at(s: &str) -> NaiveDateTime {
        segura_model::parse_datetime(s).unwrap()
    }

    fn session(id: u64, user: &str, device: &str, start: &str) -> RemoteSession {
        let hash = SessionHash::parse(&format!("{id:040x}")).unwrap();
        let mut s = RemoteSession::new(SessionId::new(id), hash, at(start));
        s.user = user.into();
        s.device = device.into();
        s.credential = format!("cred-{user}");
        s.origin_ip = "10.0.0.1".into();
        s
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::from(KeyCode::Char(c))
    }

    fn code(c: KeyCode) -> KeyEvent {
        KeyEvent::from(c)
    }

    const NOW: &str = "2024-05-06 18:00:00";

    fn app() -> App {
        let mut a = App::new("pam.example".into(), Duration::from_secs(10));
        a.on_poll(
            vec![
                session(1, "carol", "dc01:3389", "2024-05-06 10:00:00"),
                session(2, "alice", "web:443", "2024-05-06 17:00:00"),
                session(3, "bob", "db:22", "2024-05-06 12:00:00"),
            ],
            LastPoll {
                at: at(NOW),
                took: Duration::from_millis(300),
                listed: 10,
            },
        );
        a.refresh(at(NOW));
        a
    }

    fn users(a: &App) -> Vec<String> {
        a.visible().map(|r| r.cells[0].clone()).collect()
    }

    #[test]
    fn open_longest_first_then_sorted_by_any_column_and_reversed() {
        let mut a = app();
        assert_eq!(users(&a), ["carol", "bob", "alice"]);
        assert_eq!(a.on_key(key('1'), 10), Action::None);
        a.refresh(at(NOW));
        assert_eq!((a.sort, a.reverse), (Column::User, false));
        assert_eq!(users(&a), ["alice", "bob", "carol"]);
        a.on_key(key('1'), 10);
        a.refresh(at(NOW));
        assert_eq!(users(&a), ["carol", "bob", "alice"]);
        a.on_key(key('s'), 10);
        // A new column starts in its natural order.
        assert_eq!((a.sort, a.reverse), (Column::Credential, false));
        a.on_key(key('R'), 10);
        a.on_key(key('S'), 10);
        a.on_key(key('S'), 10);
        assert_eq!(a.sort, Column::OpenFor);
        a.on_key(key('s'), 10);
        assert_eq!(a.sort, Column::User);
    }

    #[test]
    fn the_filter_matches_as_typed_and_escape_clears_it() {
        let mut a = app();
        a.on_key(key('/'), 10);
        for c in "DC0".chars() {
            a.on_key(key(c), 10);
        }
        a.refresh(at(NOW));
        assert_eq!(a.mode, Mode::Filter);
        assert_eq!(users(&a), ["carol"]);
        a.on_key(code(KeyCode::Backspace), 10);
        a.on_key(code(KeyCode::Backspace), 10);
        a.on_key(key('b'), 10);
        a.refresh(at(NOW));
        // "db" (bob's device).
        assert_eq!(users(&a), ["bob"]);
        // "q" is text while typing, not quit.
        assert_eq!(a.on_key(key('q'), 10), Action::None);
        a.on_key(code(KeyCode::Esc), 10);
        a.refresh(at(NOW));
        assert_eq!((a.mode.clone(), a.filter.as_str()), (Mode::Normal, ""));
        assert_eq!(users(&a).len(), 3);
        // The open-for column matches too: alice has been open for 1h.
        a.on_key(key('/'), 10);
        a.on_key(key('1'), 10);
        a.on_key(key('h'), 10);
        a.on_key(key('+'), 10);
        a.on_key(code(KeyCode::Enter), 10);
        a.refresh(at(NOW));
        assert_eq!(users(&a), ["alice"]);
        assert_eq!(a.mode, Mode::Normal);
    }

    #[test]
    fn the_selection_follows_the_session_across_polls_and_sorts() {
        let mut a = app();
        a.on_key(code(KeyCode::Down), 10);
        assert_eq!(a.selected_row().unwrap().cells[0], "bob");
        a.on_key(key('1'), 10);
        a.refresh(at(NOW));
        assert_eq!(a.selected_row().unwrap().cells[0], "bob");
        assert_eq!(a.selected, 1);
        a.on_key(code(KeyCode::End), 10);
        assert_eq!(a.selected_row().unwrap().cells[0], "carol");
        a.on_key(code(KeyCode::PageUp), 10);
        assert_eq!(a.selected, 0);
        // The selected session ends: the selection stays in range.
        a.on_key(code(KeyCode::End), 10);
        a.on_poll(
            vec![session(2, "alice", "web:443", "2024-05-06 17:00:00")],
            LastPoll {
                at: at(NOW),
                took: Duration::ZERO,
                listed: 1,
            },
        );
        a.refresh(at(NOW));
        assert_eq!(a.selected, 0);
        assert_eq!(a.selected_row().unwrap().cells[0], "alice");
    }

    #[test]
    fn enter_shows_every_field_and_escape_closes() {
        let mut a = app();
        a.on_key(code(KeyCode::Enter), 10);
        assert_eq!(a.mode, Mode::Details(SessionId::new(1)));
        let d = a.row(SessionId::new(1)).unwrap().details(at(NOW));
        assert_eq!(d.len(), Field::ALL.len() + 1);
        assert!(d.contains(&("session_id", format!("{:040x}", 1))));
        assert!(d.contains(&("open for", "8h+".to_owned())));
        a.on_key(code(KeyCode::Esc), 10);
        assert_eq!(a.mode, Mode::Normal);
    }

    #[test]
    fn drop_asks_who_where_and_since_when_and_only_y_drops() {
        let mut a = app();
        a.on_key(key('d'), 10);
        let Mode::Confirm(p) = a.mode.clone() else {
            panic!("no confirmation: {:?}", a.mode)
        };
        let q = p.question.join("\n");
        for part in [
            "user     carol",
            "device   dc01:3389",
            "since    2024-05-06 10:00:00",
            "from     10.0.0.1",
        ] {
            assert!(q.contains(part), "{q}");
        }
        // `q` declines, as `n` and Esc do.
        assert_eq!(a.on_key(key('q'), 10), Action::Declined(p.hash.clone()));
        assert_eq!(
            a.session_by_hash(&p.hash).map(|s| s.user.as_str()),
            Some("carol")
        );
        assert_eq!(a.mode, Mode::Normal);
        assert!(a.status.as_ref().unwrap().text.contains("not dropped"));
        a.on_key(key('d'), 10);
        assert_eq!(a.on_key(key('x'), 10), Action::None);
        assert!(matches!(a.mode, Mode::Confirm(_)));
        assert_eq!(a.on_key(key('y'), 10), Action::Drop(p.hash));
        assert_eq!(a.mode, Mode::Normal);
    }

    #[test]
    fn q_and_ctrl_c_quit_and_r_polls() {
        let mut a = app();
        assert_eq!(a.on_key(key('r'), 10), Action::Poll);
        assert_eq!(a.on_key(key('q'), 10), Action::Quit);
        a.on_key(key('/'), 10);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.on_key(ctrl_c, 10), Action::Quit);
    }

    #[test]
    fn hostile_text_is_escaped_in_every_cell_and_the_filter() {
        let s = session(9, "\u{1b}]0;pwned\u{7}", "\u{9b}2J\u{202e}x", NOW);
        let r = Row::new(s);
        assert_eq!(r.cells[0], "\\u{1b}]0;pwned\\u{7}");
        assert_eq!(r.cells[2], "\\u{9b}2J\\u{202e}x");
        assert!(r
            .details(at(NOW))
            .iter()
            .all(|(_, v)| !v.chars().any(segura_api::text::needs_escape)));
        let mut a = app();
        a.on_key(key('/'), 10);
        a.on_key(key('\u{1b}'), 10);
        a.on_key(key('\u{9b}'), 10);
        assert_eq!(a.filter, "");
    }

    #[test]
    fn per_protocol_counts() {
        let a = app();
        assert_eq!(a.open_count(), 3);
        assert_eq!(a.per_protocol().values().sum::<usize>(), 3);
    }
}
