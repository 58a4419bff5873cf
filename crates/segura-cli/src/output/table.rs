//! An aligned-columns printer that streams.
//!
//! Column widths come from the header and the first page of rows (at most
//! [`Table::PAGE`] rows are held); rows after the first page are printed at once with
//! those widths, so memory stays bounded for any list. When a width limit is given (a
//! terminal), the widest columns shrink until the row fits, and longer cells end in `…`.

use std::io::{self, Write};

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
}

impl Column {
    /// A left-aligned column.
    pub fn left(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Left,
        }
    }

    /// A right-aligned column.
    pub fn right(header: impl Into<String>) -> Self {
        Self {
            header: header.into(),
            align: Align::Right,
        }
    }
}

/// The streaming table printer.
#[derive(Debug)]
pub struct Table<W: Write> {
    out: W,
    columns: Vec<Column>,
    page: Vec<Vec<Cell>>,
    widths: Option<Vec<usize>>,
    max_width: Option<usize>,
    color: bool,
    flush_each: bool,
    page_size: usize,
    line: String,
}

const GAP: usize = 2;
const BOLD: &str = "\x1b[1m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn width_of(s: &str) -> usize {
    s.chars().count()
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
            max_width,
            color,
            flush_each: false,
            page_size: Self::PAGE,
            line: String::new(),
        }
    }

    /// Flushes after each row once the first page is out.
    pub fn flush_each(mut self, yes: bool) -> Self {
        self.flush_each = yes;
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
            self.print_row(&cells)?;
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

    fn compute_widths(&self) -> Vec<usize> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width_of(&c.header)).collect();
        for row in &self.page {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(width_of(&cell.text));
            }
        }
        if let Some(max) = self.max_width {
            let floor: Vec<usize> = self
                .columns
                .iter()
                .map(|c| width_of(&c.header).clamp(3, 8))
                .collect();
            let gaps = GAP * widths.len().saturating_sub(1);
            while widths.iter().sum::<usize>() + gaps > max {
                let widest = widths
                    .iter()
                    .enumerate()
                    .filter(|(i, w)| **w > floor[*i])
                    .max_by_key(|(_, w)| **w)
                    .map(|(i, _)| i);
                match widest {
                    Some(i) => widths[i] -= 1,
                    None => break,
                }
            }
        }
        widths
    }

    fn print_page(&mut self) -> io::Result<()> {
        let widths = self.compute_widths();
        self.widths = Some(widths);
        let header: Vec<Cell> = self
            .columns
            .iter()
            .map(|c| Cell::plain(c.header.clone()))
            .collect();
        self.print_cells(&header, true)?;
        let page = std::mem::take(&mut self.page);
        for row in &page {
            self.print_row(row)?;
        }
        Ok(())
    }

    fn print_row(&mut self, cells: &[Cell]) -> io::Result<()> {
        self.print_cells(cells, false)
    }

    fn print_cells(&mut self, cells: &[Cell], header: bool) -> io::Result<()> {
        let Some(widths) = self.widths.as_ref() else {
            return Ok(());
        };
        let line = &mut self.line;
        line.clear();
        let last = widths.len().saturating_sub(1);
        let empty = Cell::plain("");
        for (i, (width, column)) in widths.iter().zip(&self.columns).enumerate() {
            let cell = cells.get(i).unwrap_or(&empty);
            let len = width_of(&cell.text);
            let (text, len): (std::borrow::Cow<'_, str>, usize) = if len > *width {
                let mut t: String = cell.text.chars().take(width.saturating_sub(1)).collect();
                t.push('…');
                (t.into(), *width)
            } else {
                (cell.text.as_str().into(), len)
            };
            let pad = width - len;
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
            if i != last {
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
    fn rows_after_the_first_page_reuse_its_widths() {
        let out = render(&[["1", "ab", "x"], ["2", "abcdef", "y"]], None, 1);
        assert_eq!(out, "ID  USER  DEVICE\n 1  ab    x\n 2  abc…  y\n");
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
