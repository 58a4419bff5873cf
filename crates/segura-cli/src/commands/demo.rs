//! `segura demo`: a mock appliance on loopback, and the real client against it.
//!
//! The mock serves HTTPS with a certificate of its own throwaway CA, which the client
//! is told to trust, and asks for OAuth 2.0 client credentials: every request goes
//! through the same transport, authentication, decoder and printers as against a real
//! appliance. Its credentials never leave the process.

use std::io::Write;

use segura_api::sort::SortKey;
use segura_http::{Auth, ClientAuthMethod, ClientConfig, HttpClient, Secret};
use segura_mock::{MockConfig, MockServer};
use segura_model::Field;

use crate::cli::{DemoArgs, GroupByArg, ListArgs, StatsArgs};
use crate::exit::CliError;
use crate::feed::{runtime, ApiFeed};
use crate::output::Format;
use crate::output::OutputOpts;
use crate::progress::Progress;

/// Runs the demo, printing tables to `out`.
pub fn run(args: &DemoArgs, mut out: impl Write, opts: &OutputOpts) -> Result<(), CliError> {
    let server = MockServer::start_blocking(
        MockConfig::default()
            .sessions(args.sessions)
            .seed(args.seed)
            .tls(true),
    )
    .map_err(|e| CliError::Local(format!("cannot start the demo appliance: {e}")))?;
    let mut config = ClientConfig::new(
        server.url(),
        Auth::OAuth2 {
            client_id: server.client_id().to_owned(),
            client_secret: Secret::new(server.client_secret()),
            method: ClientAuthMethod::Body,
        },
    );
    if let Some(pem) = server.ca_cert_pem() {
        config = config.ca_cert_pem(pem.as_bytes().to_vec());
    }
    let client = HttpClient::new(config)?;
    let rt = runtime()?;
    let opts = OutputOpts {
        format: Format::Table,
        fields: None,
        ..opts.clone()
    };
    let say = |out: &mut dyn Write, text: &str| -> Result<(), CliError> {
        writeln!(out, "{text}").map_err(CliError::output)
    };
    say(
        &mut out,
        &format!(
            "A mock Segura appliance is listening on {} with {} sessions\n\
             (HTTPS with its own CA, OAuth 2.0 client credentials).\n",
            server.url(),
            args.sessions
        ),
    )?;

    say(&mut out, "$ segura sessions list --sort -start --limit 10")?;
    let list = ListArgs {
        sort: Some(SortKey::descending(Field::Start)),
        limit: Some(10),
        ..ListArgs::default()
    };
    crate::commands::list::run(
        &mut ApiFeed::new(&rt, &client),
        &list,
        &mut out,
        &opts,
        &Progress::disabled(),
    )?;

    say(&mut out, "\n$ segura sessions stats --by protocol")?;
    let stats = StatsArgs {
        by: GroupByArg::Protocol,
        filter: Default::default(),
    };
    crate::commands::stats::run(
        &mut ApiFeed::new(&rt, &client),
        &stats,
        &mut out,
        &opts,
        &mut Progress::disabled(),
    )?;

    say(
        &mut out,
        "\nTry it against your appliance:\n  \
         export SEGURA_URL=https://pam.example.com SEGURA_CLIENT_ID=... SEGURA_CLIENT_SECRET=...\n  \
         segura sessions list --active\n  \
         segura sessions stats --by user --since 7d",
    )?;
    server.shutdown_blocking();
    Ok(())
}
