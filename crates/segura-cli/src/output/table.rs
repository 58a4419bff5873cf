//! An aligned-columns printer that streams.
//!
//! Column widths come from the header and the first page of rows (at most
//! [`Table::PAGE`] rows are held); rows after the first page are printed at once, so
//! memory stays bounded for any list. A later cell wider than its column widens the
//! column from that row on: nothing that cannot be shortened (an identifier, a
//! date-time, a number) is ever cut. Widths are display widths (`unicode-width`), so
//! wide characters and emoji keep the columns aligned.
//!
//! When a width limit is given (a terminal), text columns shrink (their cells end in
//! `…`) until the row fits; when even that is not enough, the least useful columns are
//! left out, lowest [`Column::keep`] first, and the caller's note hook is told once
//! which.

use std::io::{self, Write};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Horizontal alignment of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// How a cell is emphasised on a colour terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tone {
    /// Plain.
    #[default]
    Plain,
    /// Something still going on (an open session).
    Active,
    /// Less important (absent values).
    Dim,
}

/// One cell: text already made safe for a terminal, and a tone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    /// The text.
    pub text: String,
    /// The tone.
    pub tone: Tone,
}

impl Cell {
    /// A plain cell.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            tone: Tone::Plain,
        }
    }

    /// A cell with a tone.
    pub fn toned(text: impl Into<String>, tone: Tone) -> Self {
        Self {
            text: text.into(),
            tone,
        }
    }
}

/// A column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Header text.
    pub header: String,
    /// Alignment.
    pub align: Align,
    /// Whether its cells may be shortened with `…` to fit a terminal (free text only;
    /// never an identifier, a date-time or a number).
    pub shortenable: bool,
    /// How much the column is worth keeping on a narrow terminal: the lowest go first;
    /// [`Column::ALWAYS`] is never left out.
    pub keep: u8,
}

impl Column {
    /// A column that is never left out.
    pub const ALWAYS: u8 = u8::MAX;

    /// A left-aligned text column (may be shortened).
    pub fn left(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Left,
            shortenable: true,
            keep: 100,
        }
    }

    /// A right-aligned column (a number: never shortened).
    pub fn right(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Right,
            shortenable: false,
            keep: 100,
        }
    }

    /// The column's cells are never shortened.
    pub fn whole(mut self) -> Self {
        self.shortenable = false;
        self
    }

    /// Sets how much the column is worth keeping.
    pub fn keep(mut self, keep: u8) -> Self {
        self.keep = keep;
        self
    }
}

/// Receives a note for the user (a diagnostic line on stderr in the binary).
pub type NoteFn = fn(&str);

/// The streaming table printer.
#[derive(Debug)]
pub struct Table<W: Write> {
    out: W,
    columns: Vec<Column>,
    page: Vec<Vec<Cell>>,
    /// Widths of every column, once laid out.
    widths: Option<Vec<usize>>,
    /// The columns printed, in order.
    shown: Vec<usize>,
    max_width: Option<usize>,
    color: bool,
    flush_each: bool,
    headers: bool,
    note: Option<NoteFn>,
    page_size: usize,
    line: String,
}

const GAP: usize = 2;
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// The display width of `s` in a terminal's columns.
pub fn width_of(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` as it is when it fits in `width` columns, else cut to them and ending in `…`.
pub fn cut_to(s: String, width: usize) -> String {
    if width_of(&s) <= width {
        s
    } else {
        shorten(&s, width).0
    }
}

/// `s` shortened to at most `width` columns, ending in `…` when cut.
fn shorten(s: &str, width: usize) -> (String, usize) {
    let room = width.saturating_sub(1);
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    (out, used + 1)
}

impl<W: Write> Table<W> {
    /// Rows held to size the columns.
    pub const PAGE: usize = 1000;

    /// A table over `out`; `max_width` is the terminal width, if any.
    pub fn new(out: W, columns: Vec<Column>, max_width: Option<usize>, color: bool) -> Self {
        Self {
            out,
            columns,
            page: Vec::new(),
            widths: None,
            shown: Vec::new(),
            max_width,
            color,
            flush_each: false,
            headers: true,
            note: None,
            page_size: Self::PAGE,
            line: String::new(),
        }
    }

    /// Flushes after each row once the first page is out.
    pub fn flush_each(mut self, yes: bool) -> Self {
        self.flush_each = yes;
        self
    }

    /// Prints the header line (the default) or not (`--no-headers`).
    pub fn headers(mut self, yes: bool) -> Self {
        self.headers = yes;
        self
    }

    /// Where to say which columns were left out to fit the width.
    pub fn note(mut self, note: Option<NoteFn>) -> Self {
        self.note = note;
        self
    }

    /// Sets the number of rows held to size the columns (tests use small pages).
    #[cfg(test)]
    pub fn page_size(mut self, rows: usize) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// Adds a row; it is printed now, or with the first page.
    pub fn row(&mut self, cells: Vec<Cell>) -> io::Result<()> {
        if self.widths.is_some() {
            self.print_cells(&cells, false)?;
            if self.flush_each {
                self.out.flush()?;
            }
            return Ok(());
        }
        self.page.push(cells);
        if self.page.len() >= self.page_size {
            self.print_page()?;
        }
        Ok(())
    }

    /// Makes printed rows visible; rows held to size the first page stay held.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Prints what is held (the header at least) and flushes.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.widths.is_none() {
            self.print_page()?;
        }
        self.out.flush()
    }

    /// The writer.
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The headers of the columns left out to fit the width.
    #[cfg(test)]
    pub fn left_out(&self) -> Vec<&str> {
        if self.widths.is_none() {
            return Vec::new();
        }
        (0..self.columns.len())
            .filter(|i| !self.shown.contains(i))
            .map(|i| self.columns[i].header.as_str())
            .collect()
    }

    /// Lays the columns out: natural widths, then (with a width limit) text columns
    /// shortened and, if that is not enough, the least useful columns left out.
    fn layout(&mut self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width_of(&c.header)).collect();
        for row in &self.page {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width_of(&cell.text));
            }
        }
        let mut shown: Vec<usize> = (0..self.columns.len()).collect();
        let Some(max) = self.max_width else {
            self.shown = shown;
            return widths;
        };
        let floor = |i: usize, widths: &[usize], columns: &[Column]| {
            let c = &columns[i];
            if c.shortenable {
                widths[i].min(width_of(&c.header).max(8))
            } else {
                widths[i]
            }
        };
        let total = |shown: &[usize], w: &dyn Fn(usize) -> usize| {
            shown.iter().map(|&i| w(i)).sum::<usize>() + GAP * shown.len().saturating_sub(1)
        };
        while shown.len() > 1 && total(&shown, &|i| floor(i, &widths, &self.columns)) > max {
            let least = shown
                .iter()
                .enumerate()
                .filter(|(_, &i)| self.columns[i].keep != Column::ALWAYS)
                // The least worth keeping; among equals, the rightmost.
                .min_by_key(|(pos, &i)| (self.columns[i].keep, usize::MAX - pos))
                .map(|(pos, _)| pos);
            match least {
                Some(pos) => {
                    shown.remove(pos);
                }
                None => break,
            }
        }
        let floors: Vec<usize> = (0..widths.len())
            .map(|i| floor(i, &widths, &self.columns))
            .collect();
        while total(&shown, &|i| widths[i]) > max {
            let widest = shown
                .iter()
                .copied()
                .filter(|&i| widths[i] > floors[i])
                .max_by_key(|&i| widths[i]);
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
        if shown.len() < self.columns.len() {
            if let Some(note) = self.note {
                let names: Vec<&str> = (0..self.columns.len())
                    .filter(|i| !shown.contains(i))
                    .map(|i| self.columns[i].header.as_str())
                    .collect();
                note(&format!(
                    "note: left out {} to fit {max} columns (-o wide or --fields shows every column)",
                    names.join(", ")
                ));
            }
        }
        self.shown = shown;
        widths
    }

    fn print_page(&mut self) -> io::Result<()> {
        let widths = self.layout();
        self.widths = Some(widths);
        if self.headers {
            let header: Vec<Cell> = self
                .columns
                .iter()
                .map(|c| Cell::plain(c.header.clone()))
                .collect();
            self.print_cells(&header, true)?;
        }
        let page = std::mem::take(&mut self.page);
        for row in &page {
            self.print_cells(row, false)?;
        }
        Ok(())
    }

    fn print_cells(&mut self, cells: &[Cell], header: bool) -> io::Result<()> {
        let Some(widths) = self.widths.as_mut() else {
            return Ok(());
        };
        let line = &mut self.line;
        line.clear();
        let last = self.shown.len().saturating_sub(1);
        let empty = Cell::plain("");
        for (n, &i) in self.shown.iter().enumerate() {
            let column = &self.columns[i];
            let cell = cells.get(i).unwrap_or(&empty);
            let len = width_of(&cell.text);
            let (text, len): (std::borrow::Cow<'_, str>, usize) = if len <= widths[i] {
                (cell.text.as_str().into(), len)
            } else if column.shortenable && self.max_width.is_some() {
                let (t, l) = shorten(&cell.text, widths[i]);
                (t.into(), l)
            } else {
                // Never cut: the column widens from this row on.
                widths[i] = len;
                (cell.text.as_str().into(), len)
            };
            let pad = widths[i].saturating_sub(len);
            let style = if !self.color {
                None
            } else if header {
                Some(BOLD)
            } else {
                match cell.tone {
                    Tone::Plain => None,
                    Tone::Active => Some(GREEN),
                    Tone::Dim => Some(DIM),
                }
            };
            if column.align == Align::Right {
                line.extend(std::iter::repeat_n(' ', pad));
            }
            if let Some(s) = style {
                line.push_str(s);
            }
            line.push_str(&text);
            if style.is_some() {
                line.push_str(RESET);
            }
            if n != last {
                if column.align == Align::Left {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.extend(std::iter::repeat_n(' ', GAP));
            }
        }
        let trimmed = line.trim_end_matches(' ');
        self.out.write_all(trimmed.as_bytes())?;
        self.out.write_all(b"\n")
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn render(rows: &[[&str; 3]], max: Option<usize>, page: usize) -> String {
        let mut t = Table::new(
            Vec::new(),
            vec![
                Column::right("ID"),
                Column::left("USER"),
                Column::left("DEVICE"),
            ],
            max,
            false,
        )
        .page_size(page);
        for r in rows {
            t.row(r.iter().map(|c| Cell::plain(*c)).collect()).unwrap();
        }
        t.finish().unwrap();
        String::from_utf8(t.into_inner()).unwrap()
    }

    #[test]
    fn columns_align_and_no_trailing_spaces() {
        let out = render(
            &[["3", "admin", "10.0.0.1:22"], ["120", "José", "h"]],
            None,
            1000,
        );
        assert_eq!(
            out,
            " ID  USER   DEVICE\n  3  admin  10.0.0.1:22\n120  José   h\n"
        );
    }

    #[test]
    fn empty_table_prints_the_header() {
        assert_eq!(render(&[], None, 10), "ID  USER  DEVICE\n");
    }

    #[test]
    fn narrow_terminal_shrinks_the_widest_column() {
        let out = render(&[["1", "a-very-long-user-name", "dev"]], Some(20), 10);
        for line in out.lines() {
            assert!(line.chars().count() <= 20, "{line:?}");
        }
        assert!(out.contains('…'), "{out}");
    }

    #[test]
    fn a_later_wider_row_widens_its_column_instead_of_being_cut() {
        let out = render(&[["1", "ab", "x"], ["20000", "abcdef", "y"]], None, 1);
        assert_eq!(out, "ID  USER  DEVICE\n 1  ab    x\n20000  abcdef  y\n");
        // On a terminal, a text column stays shortened; the id still widens.
        let out = render(&[["1", "ab", "x"], ["20000", "abcdef", "y"]], Some(40), 1);
        assert!(out.contains("20000"), "{out}");
        assert!(!out.contains("abcdef") && out.contains("abc…"), "{out}");
    }

    #[test]
    fn alignment_is_by_display_width() {
        let out = render(
            &[
                ["1", "李小龙", "a"],
                ["2", "deploy 🚀", "b"],
                ["3", "ann", "c"],
            ],
            None,
            10,
        );
        let starts: Vec<usize> = out
            .lines()
            .map(|l| width_of(&l[..l.rfind(' ').unwrap() + 1]))
            .collect();
        assert!(starts.windows(2).all(|w| w[0] == w[1]), "{out}");
    }

    #[test]
    fn narrow_terminals_leave_out_the_least_useful_columns() {
        let mut t = Table::new(
            Vec::new(),
            vec![
                Column::right("ID").keep(Column::ALWAYS),
                Column::left("WHEN").whole().keep(50),
                Column::left("NOTE").keep(10),
                Column::left("OTHER").whole().keep(20),
            ],
            Some(28),
            false,
        )
        .headers(false);
        t.row(
            ["123456", "2023-01-01 10:00:00", "some note", "xyzxyzxyzxyz"]
                .iter()
                .map(|c| Cell::plain(*c))
                .collect(),
        )
        .unwrap();
        t.finish().unwrap();
        assert_eq!(t.left_out(), ["NOTE", "OTHER"]);
        let out = String::from_utf8(t.into_inner()).unwrap();
        assert_eq!(out, "123456  2023-01-01 10:00:00\n");
    }

    #[test]
    fn colour_wraps_the_header_and_active_cells() {
        let mut t = Table::new(Vec::new(), vec![Column::left("A")], None, true);
        t.row(vec![Cell::toned("on", Tone::Active)]).unwrap();
        t.finish().unwrap();
        let out = String::from_utf8(t.into_inner()).unwrap();
        assert_eq!(out, "\x1b[1mA\x1b[0m\n\x1b[32mon\x1b[0m\n");
    }
}
