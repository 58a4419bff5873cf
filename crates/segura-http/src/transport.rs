//! [`ReqwestTransport`]: the seam of `segura-api` implemented with reqwest over rustls.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use segura_api::{config_error, Error, Transport, TransportError, TransportResponse};

use crate::classify::{body_error, error_chain, send_error, Context};
use crate::config::ClientConfig;
use crate::USER_AGENT;

/// Sends requests with reqwest: rustls with the system's and webpki's roots plus the
/// configured CA, no redirects, connect and read timeouts, gzip when asked for, a
/// connection pool. It knows no endpoint and no protocol rule: wrap it in a
/// [`segura_api::Client`] (as [`crate::HttpClient`] does).
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    http: reqwest::Client,
    context: Context,
}

impl ReqwestTransport {
    /// A transport with the TLS, timeout and compression settings of `config`; fails with
    /// [`Error::Config`] on a CA certificate that is not PEM.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        for (name, d) in [
            ("connect timeout", config.connect_timeout),
            ("read timeout", config.read_timeout),
        ] {
            if d.is_zero() {
                return Err(config_error(format!("the {name} must be longer than zero")));
            }
        }
        Ok(Self {
            http: build_http(config)?,
            context: Context {
                connect_timeout: config.connect_timeout,
                read_timeout: config.read_timeout,
                ca_cert_path: config.ca_cert_path.clone(),
            },
        })
    }

    /// A transport over a reqwest client the caller built (its own proxy, TLS and pool
    /// settings). It must not follow redirects.
    pub fn from_client(
        http: reqwest::Client,
        connect_timeout: Duration,
        read_timeout: Duration,
    ) -> Self {
        Self {
            http,
            context: Context {
                connect_timeout,
                read_timeout,
                ca_cert_path: None,
            },
        }
    }
}

#[async_trait]
impl Transport for ReqwestTransport {
    async fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<TransportResponse, TransportError> {
        let request =
            reqwest::Request::try_from(request).map_err(|e| send_error(e, &self.context))?;
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| send_error(e, &self.context))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes_stream()
            .map(|chunk| chunk.map_err(body_error));
        Ok(TransportResponse {
            status,
            headers,
            body: Box::pin(read_ahead(body)),
        })
    }
}

/// Chunks the body task may read ahead of the consumer: memory stays flat.
const AHEAD_CHUNKS: usize = 4;

/// `body`, polled by a task of its own: on a multi-threaded runtime the socket, TLS and
/// gzip work of the body happen on a worker thread while the caller decodes the chunks
/// already received (on a current-thread runtime the two simply interleave). Chunks and
/// the error that ends a body arrive in order; a body is complete only when `body`
/// itself ended. When the consumer goes away the task stops at its next chunk and drops
/// the response (closing the connection).
fn read_ahead(
    body: impl futures_util::Stream<Item = Result<Bytes, TransportError>> + Send + 'static,
) -> impl futures_util::Stream<Item = Result<Bytes, TransportError>> + Send {
    let (tx, mut rx) = tokio::sync::mpsc::channel(AHEAD_CHUNKS);
    tokio::spawn(async move {
        let mut body = Box::pin(body);
        loop {
            tokio::select! {
                next = body.next() => {
                    let Some(chunk) = next else { return };
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        return;
                    }
                }
                () = tx.closed() => return,
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The reqwest client: rustls, the system's and webpki's roots plus the caller's CA,
/// no redirects, the configured timeouts.
fn build_http(config: &ClientConfig) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .user_agent(USER_AGENT)
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .tcp_keepalive(Duration::from_secs(60))
        .gzip(config.compression)
        .redirect(reqwest::redirect::Policy::none())
        .danger_accept_invalid_certs(config.danger_accept_invalid_certs);
    if let Some(pem) = &config.ca_cert_pem {
        let name = config
            .ca_cert_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the CA certificate".to_owned());
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| {
            config_error(format!(
                "{name} is not a PEM certificate: {}",
                error_chain(&e)
            ))
        })?;
        if certs.is_empty() {
            return Err(config_error(format!(
                "{name} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
            )));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| {
        config_error(format!(
            "cannot set up the HTTP client: {}",
            error_chain(&e)
        ))
    })
}
