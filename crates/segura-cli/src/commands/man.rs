//! `segura man`: the manual page, with the sections clap does not write (EXAMPLES,
//! ENVIRONMENT, FILES, EXIT STATUS).

use std::io::{self, Write};
use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;

/// Sections after the options and subcommands, in roff.
const SECTIONS: &str = r#".SH EXAMPLES
.TP
\fBsegura sessions list \-\-active\fR
The open sessions, as a table fitted to the terminal.
.TP
\fBsegura sessions list \-\-user alice \-\-since 24h \-\-sort \-time \-\-limit 20\fR
Alice's twenty longest sessions of the last day.
.TP
\fBsegura sessions list \-o ndjson | gzip > snap.ndjson.gz\fR
A snapshot; \fBsegura sessions stats \-\-input snap.ndjson.gz \-\-by user\fR reads it back.
.TP
\fBsegura sessions get 1043\fR
One session by its numeric id.
.TP
\fBsegura sessions drop e7acacb6aedbab70073456da5744166939b77527 \-\-yes\fR
Terminates a session by its 40\-hex session_id.
.TP
\fBsegura sessions watch \-\-interval 30s \-o ndjson\fR
One event per line for each new, ended or vanished session.
.TP
\fBsegura config show\fR
The effective configuration and where each value came from.
.SH ENVIRONMENT
.TP
\fBSEGURA_URL\fR, \fBSENHASEGURA_URL\fR
Base URL of the appliance (as \fB\-\-url\fR).
.TP
\fBSEGURA_CLIENT_ID\fR, \fBSEGURA_CLIENT_SECRET\fR, \fBSEGURA_CLIENT_SECRET_FILE\fR (and \fBSENHASEGURA_CLIENT_ID\fR, \fBSENHASEGURA_CLIENT_SECRET\fR)
OAuth 2.0 client credentials; the secret may be read from a file.
.TP
\fBSEGURA_TOKEN\fR
A fixed bearer token, used as it is.
.TP
\fBSEGURA_CONSUMER_KEY\fR, \fBSEGURA_CONSUMER_SECRET\fR, \fBSEGURA_TOKEN_KEY\fR, \fBSEGURA_TOKEN_SECRET\fR
OAuth 1.0a credentials.
.TP
\fBSEGURA_PROFILE\fR
The profile of the config file (as \fB\-\-profile\fR).
.TP
\fBSEGURA_CONFIG\fR
The config file (as \fB\-\-config\fR).
.TP
\fBSEGURA_CA_CERT\fR
An extra CA certificate, PEM (as \fB\-\-ca\-cert\fR).
.TP
\fBSEGURA_TIMEOUT\fR
Deadline of each whole request (as \fB\-\-timeout\fR).
.TP
\fBSEGURA_COMPLETE\fR
Set by the completion scripts of \fBsegura completions\fR to ask for candidates.
.TP
\fBNO_COLOR\fR
When set and not empty, no colours (as \fB\-\-no\-color\fR).
.TP
\fBCOLUMNS\fR
The width of a table on a terminal, instead of the terminal's own.
.TP
\fBTERM\fR
\fBdumb\fR turns colours off.
.SH FILES
.TP
\fI~/.config/segura/config.toml\fR
The config file (the user's config directory; \fBSEGURA_CONFIG\fR or \fB\-\-config\fR name another): one \fB[profiles.NAME]\fR table per profile. A file that holds a secret must be private (mode 600).
.TP
\fIFILE\fR and \fIFILE.lock\fR of \fBsessions watch \-\-state FILE\fR
The sessions already reported, written atomically after each poll, and the lock that keeps a second watcher off the same state.
.TP
Logs
\fBsegura\fR writes no log file: diagnostics and the \fB\-v\fR logs go to standard error.
.SH "EXIT STATUS"
.TP
\fB0\fR
Success (also when the reader of the output goes away early, as with \fB| head\fR).
.TP
\fB1\fR
Not completed for a local reason: confirmation declined, the output or the watch state could not be written or is in use.
.TP
\fB2\fR
Usage: an unknown option, a malformed value, criteria that contradict each other, \fBdrop\fR without \fB\-\-yes\fR off a terminal.
.TP
\fB3\fR
Configuration: missing URL or credentials, a bad config file, an unreadable \fB\-\-input\fR.
.TP
\fB4\fR
Authentication or authorization refused by the server or its gateway.
.TP
\fB5\fR
Not found: no session has this id or hash, or the URL names no resource.
.TP
\fB6\fR
Server error: HTTP 5xx, "Unexpected error.", bad gateway, another refusal.
.TP
\fB7\fR
Network or timeout: connect, DNS, TLS, idle timeout, gateway timeout.
.TP
\fB8\fR
Invalid or truncated response.
"#;

/// Writes `segura.1`: clap's sections, then [`SECTIONS`].
pub fn render(out: &mut dyn Write) -> io::Result<()> {
    let man = clap_mangen::Man::new(Cli::command());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    man.render_subcommands_section(out)?;
    out.write_all(SECTIONS.as_bytes())?;
    man.render_version_section(out)
}

/// Writes `segura.1` and one page per subcommand into `dir`.
pub fn generate_to(dir: &Path) -> io::Result<()> {
    clap_mangen::generate_to(Cli::command(), dir)?;
    let mut file = io::BufWriter::new(std::fs::File::create(dir.join("segura.1"))?);
    render(&mut file)?;
    file.flush()
}
