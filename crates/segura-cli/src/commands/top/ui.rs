//! Drawing `sessions top` with ratatui: the header, the progress line, the table of
//! open sessions, the status and help lines, and the overlays (details, drop
//! confirmation, help). Every piece of server text reaches here already sanitised
//! ([`super::app::Row`]); colours only when allowed (NO_COLOR, --no-color).

use std::time::Instant;

use chrono::NaiveDateTime;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row as TableRow, Table, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::app::{App, Column, Mode};
use crate::output::table::cut_to;
use crate::progress::with_commas;

/// The widest a column gets; longer text is cut at the edge (Enter shows it whole).
const MAX_WIDTH: [usize; 7] = [20, 24, 28, 10, 39, 19, 10];

/// The keys, as the help overlay lists them.
pub const KEYS: [(&str, &str); 12] = [
    ("Up/Down j/k", "select a session (PgUp/PgDn, Home/End)"),
    ("s / S", "sort by the next / previous column"),
    ("1..7", "sort by that column; again: reverse"),
    ("R", "reverse the order"),
    (
        "/",
        "filter as you type, any column (Enter keeps, Esc clears)",
    ),
    ("Esc", "clear the filter and the status line"),
    ("Enter", "every field of the selected session"),
    ("d", "drop the selected session (asks y/n)"),
    ("r", "poll now"),
    ("?", "this help"),
    ("q", "quit (Ctrl-C too)"),
    ("", "times are the appliance's clock (--tz)"),
];

/// Styles, with or without colours.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    /// Colours allowed.
    pub color: bool,
}

impl Theme {
    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }
    fn header(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
    fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }
    fn good(self) -> Style {
        self.fg(Color::Green)
    }
    fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn selected(self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }
}

fn seconds(d: std::time::Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// How each column is sorted, in words.
fn order_words(column: Column, reverse: bool) -> &'static str {
    match (column, reverse) {
        (Column::Started, false) => "earliest first",
        (Column::Started, true) => "latest first",
        (Column::OpenFor, false) => "longest first",
        (Column::OpenFor, true) => "shortest first",
        (_, false) => "A to Z",
        (_, true) => "Z to A",
    }
}

/// What a poll in progress shows.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// When it began.
    pub since: Instant,
    /// Sessions read so far.
    pub read: u64,
}

/// Draws the whole screen; `now` is the appliance's clock.
pub fn draw(
    frame: &mut Frame<'_>,
    app: &mut App,
    offset: &mut usize,
    polling: Option<Polling>,
    now: NaiveDateTime,
    theme: Theme,
) {
    let [head, progress, table, status, help] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());

    frame.render_widget(Paragraph::new(header_line(app, theme)), head);
    frame.render_widget(Paragraph::new(progress_line(app, polling, theme)), progress);
    draw_table(frame, app, offset, table, now, theme);
    frame.render_widget(Paragraph::new(status_line(app, theme)), status);
    let help_text = format!(
        "sort: {} ({})  ·  s/S/1-7 sort  R reverse  / filter  Enter details  d drop  r poll  ? help  q quit",
        app.sort.title(),
        order_words(app.sort, app.reverse)
    );
    frame.render_widget(Paragraph::new(help_text).style(theme.dim()), help);

    match app.mode.clone() {
        Mode::Details(id) => {
            if let Some(row) = app.row(id) {
                let lines: Vec<Line<'_>> = row
                    .details(now)
                    .into_iter()
                    .map(|(k, v)| {
                        Line::from(vec![
                            Span::styled(format!("{k:>14}  "), theme.header()),
                            Span::raw(v),
                        ])
                    })
                    .collect();
                let title = format!(" session {} · Esc closes ", id.get());
                popup(frame, lines, &title, 90, theme.header());
            }
        }
        Mode::Confirm(p) => {
            let lines = p.question.into_iter().map(Line::from).collect();
            popup(frame, lines, " drop session: y / n ", 70, theme.error());
        }
        Mode::Help => {
            let lines: Vec<Line<'_>> = KEYS
                .iter()
                .map(|(k, what)| {
                    Line::from(vec![
                        Span::styled(format!("{k:>12}  "), theme.header()),
                        Span::raw(*what),
                    ])
                })
                .collect();
            popup(frame, lines, " keys · Esc closes ", 72, theme.header());
        }
        Mode::Normal | Mode::Filter => {}
    }
}

fn header_line(app: &App, theme: Theme) -> Line<'static> {
    let protocols = app
        .per_protocol()
        .into_iter()
        .map(|(p, n)| format!("{p} {n}"))
        .collect::<Vec<_>>()
        .join(" · ");
    let polled = match &app.last_poll {
        Some(p) => format!(
            "polled {} in {}, every {}",
            p.at.format("%H:%M:%S"),
            seconds(p.took),
            humantime::format_duration(app.interval)
        ),
        None => "first poll…".to_owned(),
    };
    let mut spans = vec![
        Span::styled(format!(" {} ", app.appliance), theme.header()),
        Span::raw(format!("  {} open", app.open_count())),
    ];
    if !protocols.is_empty() {
        spans.push(Span::raw(format!(" ({protocols})")));
    }
    spans.push(Span::styled(format!("  {polled}"), theme.dim()));
    Line::from(spans)
}

fn progress_line(app: &App, polling: Option<Polling>, theme: Theme) -> Line<'static> {
    if let Some(p) = polling {
        return Line::styled(
            format!(
                " polling… {} sessions read ({})",
                with_commas(p.read),
                seconds(p.since.elapsed())
            ),
            theme.good(),
        );
    }
    if let Some(e) = &app.poll_error {
        return Line::styled(
            format!(" last poll failed (showing the previous one): {e}"),
            theme.error(),
        );
    }
    match &app.last_poll {
        Some(p) => Line::styled(
            format!(" {} sessions listed", with_commas(p.listed)),
            theme.dim(),
        ),
        None => Line::raw(""),
    }
}

fn status_line(app: &App, theme: Theme) -> Line<'static> {
    if app.mode == Mode::Filter || !app.filter.is_empty() {
        let cursor = if app.mode == Mode::Filter { "▏" } else { "" };
        return Line::from(vec![
            Span::styled(" filter: ", theme.header()),
            Span::raw(format!("{}{cursor}", app.filter)),
            Span::styled(
                format!("  ({} of {})", app.visible().len(), app.open_count()),
                theme.dim(),
            ),
        ]);
    }
    match &app.status {
        Some(s) if s.error => Line::styled(format!(" {}", s.text), theme.error()),
        Some(s) => Line::styled(format!(" {}", s.text), theme.good()),
        None => Line::raw(""),
    }
}

fn draw_table(
    frame: &mut Frame<'_>,
    app: &App,
    offset: &mut usize,
    area: Rect,
    now: NaiveDateTime,
    theme: Theme,
) {
    let height = usize::from(area.height.saturating_sub(1));
    let total = app.visible().len();
    if app.selected < *offset {
        *offset = app.selected;
    } else if height > 0 && app.selected >= *offset + height {
        *offset = app.selected + 1 - height;
    }
    *offset = (*offset).min(total.saturating_sub(height.max(1)));

    let titles: Vec<String> = Column::ALL
        .iter()
        .map(|&c| {
            if c == app.sort {
                format!("{}{}", c.title(), if app.reverse { "▼" } else { "▲" })
            } else {
                c.title().to_owned()
            }
        })
        .collect();
    let mut widths: Vec<usize> = titles.iter().map(|t| t.width()).collect();
    let cells: Vec<Vec<String>> = app
        .visible()
        .skip(*offset)
        .take(height)
        .map(|r| Column::ALL.iter().map(|&c| r.cell(c, now)).collect())
        .collect();
    // Widths from every row shown, so the columns line up whatever the script.
    for row in app.visible() {
        for (i, c) in Column::ALL.iter().enumerate() {
            let w = match c {
                Column::OpenFor => row.cell(*c, now).width(),
                _ => row.cells[i].width(),
            };
            widths[i] = widths[i].max(w.min(MAX_WIDTH[i]));
        }
    }
    fit(&mut widths, usize::from(area.width));
    let rows: Vec<TableRow<'_>> = cells
        .into_iter()
        .enumerate()
        .map(|(i, cells)| {
            // A text wider than its column ends in `…`, so a cut is never mistaken
            // for the whole value.
            let cells = cells.into_iter().zip(&widths).map(|(c, &w)| cut_to(c, w));
            let row = TableRow::new(cells);
            if *offset + i == app.selected {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let constraints = widths
        .iter()
        .map(|&w| Constraint::Length(u16::try_from(w).unwrap_or(u16::MAX)));
    let table = Table::new(rows, constraints)
        .header(TableRow::new(titles).style(theme.header()))
        .column_spacing(SPACING as u16);
    frame.render_widget(table, area);
    if total == 0 {
        let text = if app.last_poll.is_none() {
            "waiting for the first poll…"
        } else if app.filter.is_empty() {
            "no open session"
        } else {
            "no open session matches the filter (Esc clears it)"
        };
        if area.height > 1 {
            let line = Rect {
                y: area.y + 1,
                height: 1,
                ..area
            };
            frame.render_widget(Paragraph::new(format!(" {text}")).style(theme.dim()), line);
        }
    }
}

/// The columns whose text may be cut when the screen is too narrow, widest first;
/// protocol, start and open-for are never cut.
const SHRINKABLE: [usize; 4] = [0, 1, 2, 4];
/// The narrowest a cut column gets.
const MIN_WIDTH: usize = 6;
/// Spaces between columns.
const SPACING: usize = 2;

/// Narrows the widest cuttable columns, one cell at a time, until the row fits `width`.
fn fit(widths: &mut [usize], width: usize) {
    let spacing = SPACING * widths.len().saturating_sub(1);
    while widths.iter().sum::<usize>() + spacing > width {
        let Some(&widest) = SHRINKABLE
            .iter()
            .filter(|&&i| widths[i] > MIN_WIDTH)
            .max_by_key(|&&i| widths[i])
        else {
            return;
        };
        widths[widest] -= 1;
    }
}

/// A bordered box in the middle of the screen, `percent` of its width.
fn popup(frame: &mut Frame<'_>, lines: Vec<Line<'_>>, title: &str, percent: u16, border: Style) {
    let area = frame.area();
    let width = (area.width * percent / 100).max(20).min(area.width);
    // Lines wider than the box wrap: count the rows they take (one more when any
    // wraps, as words wrap before the edge).
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let mut rows = 0;
    let mut wraps = false;
    for l in &lines {
        let w = l.width();
        rows += w.div_ceil(inner).max(1);
        wraps |= w > inner;
    }
    let rows = rows + usize::from(wraps) + 2;
    let height = u16::try_from(rows).unwrap_or(u16::MAX).min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(title.to_owned());
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use segura_model::{RemoteSession, SessionHash, SessionId};
    use std::time::Duration;

    fn at(s: &str) -> NaiveDateTime {
        segura_model::parse_datetime(s).unwrap()
    }

    fn render(app: &mut App, color: bool) -> ratatui::buffer::Buffer {
        let mut t = Terminal::new(TestBackend::new(120, 20)).unwrap();
        let mut offset = 0;
        app.refresh(at("2024-05-06 18:00:00"));
        t.draw(|f| {
            draw(
                f,
                app,
                &mut offset,
                None,
                at("2024-05-06 18:00:00"),
                Theme { color },
            )
        })
        .unwrap();
        t.backend().buffer().clone()
    }

    fn hostile_app() -> App {
        let mut s = RemoteSession::new(
            SessionId::new(7),
            SessionHash::parse(&"ab".repeat(20)).unwrap(),
            at("2024-05-06 16:05:07"),
        );
        s.user = "\u{1b}]0;pwned\u{7}".into();
        s.device = "\u{1b}[2J\u{9b}31m\u{202e}dc01".into();
        let mut app = App::new("pam.example".into(), Duration::from_secs(10));
        app.on_poll(
            vec![s],
            super::super::app::LastPoll {
                at: at("2024-05-06 18:00:00"),
                took: Duration::from_millis(250),
                listed: 3,
            },
        );
        app
    }

    fn text(buf: &ratatui::buffer::Buffer) -> String {
        let mut out = String::new();
        for y in 0..buf.area.height {
            for x in 0..buf.area.width {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn no_cell_holds_a_control_character_and_the_payload_shows_escaped() {
        let mut app = hostile_app();
        let buf = render(&mut app, true);
        for cell in buf.content() {
            assert!(
                !cell.symbol().chars().any(segura_api::text::needs_escape),
                "{:?}",
                cell.symbol()
            );
        }
        let t = text(&buf);
        assert!(t.contains("\\u{1b}]0;pwned\\u{7}"), "{t}");
        assert!(t.contains("1 open"), "{t}");
        assert!(t.contains("OPEN FOR▲"), "{t}");
        assert!(t.contains("1h 54m+"), "{t}");
        // The details too.
        app.mode = Mode::Details(SessionId::new(7));
        let buf = render(&mut app, false);
        assert!(buf
            .content()
            .iter()
            .all(|c| !c.symbol().chars().any(segura_api::text::needs_escape)));
        assert!(text(&buf).contains(&"ab".repeat(20)));
    }

    #[test]
    fn without_colours_no_cell_has_one() {
        let mut app = hostile_app();
        let buf = render(&mut app, false);
        assert!(buf
            .content()
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
        let buf = render(&mut app, true);
        assert!(buf.content().iter().any(|c| c.fg != Color::Reset));
    }

    #[test]
    fn a_narrow_screen_cuts_the_widest_text_columns_first() {
        let mut w = vec![20, 24, 28, 8, 39, 19, 10];
        fit(&mut w, 120);
        assert_eq!(w.iter().sum::<usize>() + 12, 120);
        assert_eq!((w[3], w[5], w[6]), (8, 19, 10));
        // The widest were cut down to a level.
        let cut = [w[0], w[1], w[2], w[4]];
        assert!(
            cut.iter().max().unwrap() - cut.iter().min().unwrap() <= 1,
            "{w:?}"
        );
        let mut w = vec![10, 12, 28, 8, 39, 19, 10];
        fit(&mut w, 120);
        assert_eq!((w[0], w[1]), (10, 12), "{w:?}");
        let mut w = vec![20, 24, 28, 8, 39, 19, 10];
        fit(&mut w, 10);
        assert_eq!(w, [6, 6, 6, 8, 6, 19, 10]);
    }
}
