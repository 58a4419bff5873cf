//! Hand-rolled argument parsing: a task takes the flags and options it knows, then
//! [`Args::finish`] rejects whatever is left, so a typo never passes silently.

use crate::util::Error;

/// The arguments after the task name, consumed as the task reads them.
#[derive(Debug)]
pub struct Args {
    rest: Vec<String>,
}

impl Args {
    pub fn new(rest: Vec<String>) -> Self {
        Args { rest }
    }

    /// Whether the flag `name` (e.g. `--check`) was given; consumes it.
    pub fn flag(&mut self, name: &str) -> bool {
        let before = self.rest.len();
        self.rest.retain(|a| a != name);
        self.rest.len() != before
    }

    /// The value of the option `name`, given as `name VALUE` or `name=VALUE`; consumes it.
    pub fn value(&mut self, name: &str) -> Result<Option<String>, Error> {
        let prefix = format!("{name}=");
        let Some(i) = self
            .rest
            .iter()
            .position(|a| a == name || a.starts_with(&prefix))
        else {
            return Ok(None);
        };
        let arg = self.rest.remove(i);
        let value = if let Some(v) = arg.strip_prefix(&prefix) {
            v.to_owned()
        } else if i < self.rest.len() && !self.rest[i].starts_with("--") {
            self.rest.remove(i)
        } else {
            return Err(Error::new(format!("{name} needs a value")));
        };
        if self
            .rest
            .iter()
            .any(|a| a == name || a.starts_with(&prefix))
        {
            return Err(Error::new(format!("{name} given more than once")));
        }
        Ok(Some(value))
    }

    /// Fails if any argument was not consumed.
    pub fn finish(self) -> Result<(), Error> {
        match self.rest.first() {
            None => Ok(()),
            Some(a) => Err(Error::new(format!(
                "unexpected argument {a:?}; run `cargo xtask help` for usage"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Args {
        Args::new(s.split_whitespace().map(str::to_owned).collect())
    }

    #[test]
    fn flags_values_and_leftovers() {
        let mut a = args("--version 1.2.3 --dry-run --no-test");
        assert!(a.flag("--dry-run"));
        assert!(!a.flag("--dry-run"));
        assert_eq!(a.value("--version").unwrap().as_deref(), Some("1.2.3"));
        assert!(a.flag("--no-test"));
        a.finish().unwrap();

        let mut a = args("--version=2.0.0");
        assert_eq!(a.value("--version").unwrap().as_deref(), Some("2.0.0"));
        assert_eq!(a.value("--date").unwrap(), None);
        a.finish().unwrap();

        let mut a = args("--version --dry-run");
        let e = a.value("--version").unwrap_err().to_string();
        assert_eq!(e, "--version needs a value");

        let mut a = args("--version 1.0.0 --version 2.0.0");
        let e = a.value("--version").unwrap_err().to_string();
        assert_eq!(e, "--version given more than once");

        let e = args("--chek").finish().unwrap_err().to_string();
        assert!(e.starts_with("unexpected argument \"--chek\""), "{e}");
    }
}
