//! The connection to the receiver: resolve, connect (TLS verified), check it is still
//! open, write and flush each message, and back off between failed attempts.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, SignatureScheme,
    StreamOwned,
};

use super::{octet_counted, Header, Pending, Scheme, Target};
use crate::exit::CliError;

/// Time allowed to connect to one address of the receiver.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one write (a receiver that stopped reading).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest UDP payload (IPv4).
const MAX_DATAGRAM: usize = 65_507;
/// The largest CA file read.
const CA_FILE_LIMIT: u64 = 4 << 20;

/// How TLS receivers are verified.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// `--syslog-ca`: trust only the certificates of this PEM file.
    pub ca: Option<PathBuf>,
    /// `--syslog-insecure-skip-verify`: accept any certificate.
    pub insecure: bool,
}

/// Why a delivery attempt failed.
#[derive(Debug)]
pub enum Failure {
    /// Worth retrying later: the receiver is down, refused, reset, or cannot be resolved.
    Transient(String),
    /// Retrying cannot help: the receiver's certificate or TLS is wrong.
    Fatal(String),
}

/// An open connection.
enum Conn {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

/// Sends events to one receiver, in order, reconnecting as needed.
pub struct Delivery {
    target: Target,
    tls: Option<Arc<ClientConfig>>,
    header: Header,
    conn: Option<Conn>,
    /// Bytes the receiver sent on a connection where it should send none.
    unexpected: u64,
}

impl Delivery {
    /// A delivery to `target`; reads `--syslog-ca` now (exit 3 if it is unusable).
    pub fn new(target: Target, tls: &TlsOptions, header: Header) -> Result<Self, CliError> {
        let tls = match target.scheme {
            Scheme::Tls => Some(tls_config(tls)?),
            Scheme::Udp | Scheme::Tcp => None,
        };
        Ok(Delivery {
            target,
            tls,
            header,
            conn: None,
            unexpected: 0,
        })
    }

    /// The receiver.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Bytes the receiver sent (a syslog receiver sends nothing), discarded.
    pub fn unexpected_bytes(&self) -> u64 {
        self.unexpected
    }

    /// Sends the queue's events in order; each leaves the queue once written and
    /// flushed. Returns how many were sent; on failure the unsent ones stay queued.
    pub fn deliver(&mut self, queue: &mut VecDeque<Pending>) -> Result<usize, Failure> {
        if queue.is_empty() {
            return Ok(0);
        }
        if let Some(conn) = &mut self.conn {
            // A receiver that went away closed the connection; writing into it would
            // succeed locally and lose the events: reconnect first.
            if !alive(conn, &mut self.unexpected) {
                self.conn = None;
            }
        }
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.connect()?,
        };
        let mut sent = 0;
        while let Some(ev) = queue.front() {
            let message = self.header.message(ev);
            if matches!(conn, Conn::Udp(_)) && message.len() > MAX_DATAGRAM {
                return Err(Failure::Fatal(format!(
                    "the message of event {} is {} bytes, more than a UDP datagram holds \
                     ({MAX_DATAGRAM}): use tcp:// or tls://",
                    ev.id,
                    message.len()
                )));
            }
            let written = match &mut conn {
                Conn::Udp(s) => s.send(&message).map(drop),
                Conn::Tcp(s) => s
                    .write_all(&octet_counted(&message))
                    .and_then(|()| s.flush()),
                Conn::Tls(s) => s
                    .write_all(&octet_counted(&message))
                    .and_then(|()| s.flush()),
            };
            if let Err(e) = written {
                return Err(Failure::Transient(format!(
                    "writing to {} failed: {e}",
                    self.target
                )));
            }
            queue.pop_front();
            sent += 1;
        }
        self.conn = Some(conn);
        Ok(sent)
    }

    fn connect(&self) -> Result<Conn, Failure> {
        let t = &self.target;
        let addrs: Vec<SocketAddr> = (t.host.as_str(), t.port)
            .to_socket_addrs()
            .map_err(|e| Failure::Transient(format!("cannot resolve {}: {e}", t.host)))?
            .collect();
        if addrs.is_empty() {
            return Err(Failure::Transient(format!(
                "{} resolves to no address",
                t.host
            )));
        }
        if t.scheme == Scheme::Udp {
            let connected = addrs.iter().find_map(|a| {
                let local: SocketAddr = if a.is_ipv4() {
                    ([0, 0, 0, 0], 0).into()
                } else {
                    ([0u16; 8], 0).into()
                };
                let s = UdpSocket::bind(local).ok()?;
                s.connect(a).ok()?;
                Some(s)
            });
            return connected
                .map(Conn::Udp)
                .ok_or_else(|| Failure::Transient(format!("cannot open a UDP socket to {t}")));
        }
        let mut last = None;
        let mut tcp = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, CONNECT_TIMEOUT) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let Some(tcp) = tcp else {
            let why = last.map_or_else(|| "no address".to_owned(), |e| e.to_string());
            return Err(Failure::Transient(format!("cannot connect to {t}: {why}")));
        };
        let io =
            |e: io::Error| Failure::Transient(format!("cannot set up the connection to {t}: {e}"));
        tcp.set_write_timeout(Some(WRITE_TIMEOUT)).map_err(io)?;
        tcp.set_read_timeout(Some(WRITE_TIMEOUT)).map_err(io)?;
        let _ = tcp.set_nodelay(true);
        let Some(config) = &self.tls else {
            return Ok(Conn::Tcp(tcp));
        };
        let name = ServerName::try_from(t.host.clone())
            .map_err(|e| Failure::Fatal(format!("{} is not a name TLS can verify: {e}", t.host)))?;
        let conn = ClientConnection::new(config.clone(), name)
            .map_err(|e| Failure::Fatal(format!("cannot start TLS with {t}: {e}")))?;
        let mut stream = StreamOwned::new(conn, tcp);
        while stream.conn.is_handshaking() {
            if let Err(e) = stream.conn.complete_io(&mut stream.sock) {
                return Err(tls_failure(t, e));
            }
        }
        Ok(Conn::Tls(Box::new(stream)))
    }
}

/// A TLS handshake error: the certificate or the protocol is wrong (fatal), or the
/// connection broke (transient).
fn tls_failure(t: &Target, e: io::Error) -> Failure {
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(why)) => Failure::Fatal(format!(
            "the TLS certificate of {t} is not trusted ({why:?}): pass --syslog-ca with the \
             CA that signed it"
        )),
        Some(tls) => Failure::Fatal(format!("the TLS handshake with {t} failed: {tls}")),
        None => Failure::Transient(format!("the TLS handshake with {t} failed: {e}")),
    }
}

/// Whether the connection is still open: a stream the receiver closed reads as ended
/// at once. Bytes it sent (a syslog receiver sends none) are counted and dropped.
fn alive(conn: &mut Conn, unexpected: &mut u64) -> bool {
    let mut buf = [0u8; 4096];
    match conn {
        Conn::Udp(_) => true,
        Conn::Tcp(s) => {
            if s.set_nonblocking(true).is_err() {
                return false;
            }
            let open = loop {
                match s.read(&mut buf) {
                    Ok(0) => break false,
                    Ok(n) => *unexpected += n as u64,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break false,
                }
            };
            s.set_nonblocking(false).is_ok() && open
        }
        Conn::Tls(s) => {
            if s.sock.set_nonblocking(true).is_err() {
                return false;
            }
            let open = loop {
                match s.conn.read_tls(&mut s.sock) {
                    Ok(0) => break false,
                    Ok(_) => {
                        if s.conn.process_new_packets().is_err() {
                            break false;
                        }
                        match s.conn.reader().read(&mut buf) {
                            Ok(0) => break false,
                            Ok(n) => *unexpected += n as u64,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                            Err(_) => break false,
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break false,
                }
            };
            s.sock.set_nonblocking(false).is_ok() && open
        }
    }
}

/// The TLS client configuration: the system's and webpki's roots, or only the
/// certificates of `--syslog-ca`; or no verification at all when asked by name.
fn tls_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, CliError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| CliError::Local(format!("cannot set up TLS: {e}")))?;
    if opts.insecure {
        let config = builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        return Ok(Arc::new(config));
    }
    let mut roots = RootCertStore::empty();
    match &opts.ca {
        Some(path) => {
            let bad = |why: String| {
                CliError::config(
                    format!("cannot use --syslog-ca {}: {why}", path.display()),
                    "pass a PEM file holding the CA certificate that signed the receiver's",
                )
            };
            let file = segura_http::local_file::read_regular_file(
                path,
                CA_FILE_LIMIT,
                segura_http::local_file::Links::Follow,
            )
            .map_err(|e| bad(e.to_string()))?;
            for cert in CertificateDer::pem_slice_iter(&file.bytes) {
                let cert = cert.map_err(|e| bad(format!("not PEM: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("not a usable certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(bad("it holds no certificate".into()));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(native.certs);
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
    }
    Ok(Arc::new(
        builder.with_root_certificates(roots).with_no_client_auth(),
    ))
}

/// `--syslog-insecure-skip-verify`: any certificate is accepted (signatures are still
/// checked, so the connection is encrypted, to anyone).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Exponential backoff with jitter: the n-th wait after consecutive failures is drawn
/// between half and all of `min(first × 2ⁿ, max)`.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    failures: u32,
}

impl Backoff {
    /// Waits from `first` doubling up to `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        Backoff {
            first: first.min(max),
            max,
            failures: 0,
        }
    }

    /// A failure: how long to wait before the next attempt.
    pub fn failed(&mut self) -> Duration {
        let ceiling = self
            .first
            .saturating_mul(1u32 << self.failures.min(20))
            .min(self.max);
        self.failures = self.failures.saturating_add(1);
        let half = ceiling / 2;
        half + half.mul_f64(jitter())
    }

    /// A success: the next failure waits `first` again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A number in [0, 1) that differs between processes and calls (a hasher with a
/// random key: no generator needed for jitter).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_cap() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(4));
        let waits: Vec<Duration> = (0..6).map(|_| b.failed()).collect();
        for (w, ceiling) in waits.iter().zip([500u64, 1000, 2000, 4000, 4000, 4000]) {
            let c = Duration::from_millis(ceiling);
            assert!(*w >= c / 2 && *w <= c, "{w:?} for {c:?}");
        }
        assert_eq!(b.failures, 6);
        b.reset();
        assert!(b.failed() <= Duration::from_millis(500));
    }
}
