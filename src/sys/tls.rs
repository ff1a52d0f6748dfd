//! HTTPS' TLS over any [`Stream`] (the download's TCP connection):
//! rustls' unbuffered client (the one that needs no `std`: it never touches
//! `std::io`, the bytes in and out are ours to move) with ring's
//! cryptography, TLS 1.2 and 1.3.
//!
//! The server is checked against a PEM bundle packed into the initramfs,
//! at the time of the system clock (`CLOCK_REALTIME`, which the kernel set
//! from the RTC); with `rd.noverifyssl` nothing is checked but the
//! handshake's own signatures. Every wait is the underlying stream's, with
//! the caller's timeout, so a TLS stream is bounded exactly as the socket
//! under it. Stopping at the end of the body (`Content-Length`) is the HTTP
//! code's job: servers often close without TLS' closing message, which
//! reads as a reset connection (`ECONNRESET`), never as a clean end.

#[allow(unused_imports)]
use crate::prelude::*;

use alloc::sync::Arc;
use core::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::UnbufferedClientConnection;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncryptError, InsufficientSizeError, UnbufferedStatus,
};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme,
};

use super::tls_failure::{Bundle, CertProblem, TlsFailure};
use super::{errno_text, Errno, Stream, SysResult};

pub use crate::contract::CA_BUNDLE;

/// The largest handshake message the client buffers (a certificate chain
/// of a few certificates is 5–15 KiB; real ones stay far below this).
const MAX_INCOMING: usize = 256 * 1024;

/// One TLS record and its header: 16 KiB of data plus TLS 1.2's largest
/// expansion.
const RECORD: usize = 16 * 1024 + 2048 + 5;

/// How connections check the server, made once per download.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    config: Arc<ClientConfig>,
    /// The roots, for messages; `None` when nothing is checked.
    bundle: Option<Bundle>,
}

impl TlsSettings {
    /// Checks servers against the certificates of the PEM bundle at `path`.
    pub fn verifying(path: &str) -> Result<TlsSettings, TlsFailure> {
        let pem = super::read_file(path).map_err(|errno| TlsFailure::Bundle {
            path: path.to_owned(),
            problem: super::errno_text(errno),
        })?;
        TlsSettings::from_pem(path, &pem)
    }

    /// [`TlsSettings::verifying`] with the bundle's bytes at hand.
    pub fn from_pem(path: &str, pem: &[u8]) -> Result<TlsSettings, TlsFailure> {
        TlsSettings::from_pem_at(path, pem, Arc::new(SystemClock))
    }

    fn from_pem_at(
        path: &str,
        pem: &[u8],
        clock: Arc<dyn TimeProvider>,
    ) -> Result<TlsSettings, TlsFailure> {
        let mut roots = RootCertStore::empty();
        let certificates = CertificateDer::pem_slice_iter(pem).filter_map(Result::ok);
        let (added, _unusable) = roots.add_parsable_certificates(certificates);
        if added == 0 {
            return Err(TlsFailure::Bundle {
                path: path.to_owned(),
                problem: "no certificate in it (a PEM file of \
                          -----BEGIN CERTIFICATE----- blocks is needed)"
                    .to_owned(),
            });
        }
        let config = builder(clock)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(TlsSettings {
            config: Arc::new(config),
            bundle: Some(Bundle {
                path: path.to_owned(),
                certificates: added,
            }),
        })
    }

    /// `rd.noverifyssl`: any certificate is accepted (the download warns
    /// on every boot).
    pub fn not_verifying() -> Result<TlsSettings, TlsFailure> {
        let verifier = Arc::new(AcceptAnyCertificate(provider()));
        let config = builder(Arc::new(SystemClock))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(TlsSettings {
            config: Arc::new(config),
            bundle: None,
        })
    }

    /// Whether servers are checked (`false` with `rd.noverifyssl`).
    pub fn verifies(&self) -> bool {
        self.bundle.is_some()
    }

    /// The TLS handshake with `host` (a name, or an IP address with or
    /// without `[ ]`) over `transport`, already connected to it; each wait
    /// at most `timeout`.
    pub fn connect<T: Stream>(
        &self,
        transport: T,
        host: &str,
        timeout: Duration,
    ) -> Result<TlsStream<T>, TlsFailure> {
        let bare = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        let name = ServerName::try_from(bare)
            .map_err(|_| TlsFailure::ServerName {
                host: host.to_owned(),
            })?
            .to_owned();
        let conn = UnbufferedClientConnection::new(self.config.clone(), name)
            .map_err(|e| failure(host, self.bundle.as_ref(), e))?;
        let mut stream = TlsStream {
            conn,
            transport,
            host: host.to_owned(),
            bundle: self.bundle.clone(),
            incoming: vec![0; RECORD],
            received: 0,
            outgoing: vec![0; RECORD],
            plain: Vec::new(),
            plain_read: 0,
            peer_closed: false,
        };
        stream.handshake(timeout).map_err(|broken| match broken {
            Broken::Tls(failure) => failure,
            Broken::Io(errno) => TlsFailure::Io {
                host: host.to_owned(),
                error: errno_text(errno),
            },
        })?;
        Ok(stream)
    }
}

/// TLS over a connection the download made: the settings read from the
/// packed bundle (or none checked, `verify` false, for `rd.noverifyssl`),
/// then the handshake. What `Sys::start_tls` of an HTTPS build does.
pub fn start_tls<'a>(
    transport: Box<dyn Stream + 'a>,
    host: &str,
    verify: bool,
    timeout: Duration,
) -> Result<Box<dyn Stream + 'a>, TlsFailure> {
    let settings = if verify {
        TlsSettings::verifying(CA_BUNDLE)?
    } else {
        TlsSettings::not_verifying()?
    };
    Ok(Box::new(settings.connect(transport, host, timeout)?))
}

impl<S: Stream + ?Sized> Stream for Box<S> {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize> {
        (**self).read(buf, timeout)
    }

    fn write_all(&mut self, data: &[u8], timeout: Duration) -> SysResult<()> {
        (**self).write_all(data, timeout)
    }
}

/// What stopped a TLS stream: the connection under it, or TLS itself.
enum Broken {
    Io(Errno),
    Tls(TlsFailure),
}

impl From<Errno> for Broken {
    fn from(errno: Errno) -> Broken {
        Broken::Io(errno)
    }
}

impl From<TlsFailure> for Broken {
    fn from(failure: TlsFailure) -> Broken {
        Broken::Tls(failure)
    }
}

impl Broken {
    /// For a read or write after the handshake, which can only say an
    /// errno: the TLS reason goes to the log first. A connection closed
    /// without close_notify is a reset (the download resumes), never a
    /// clean end that could pass a cut body off as complete.
    fn errno(self) -> Errno {
        match self {
            Broken::Io(errno) => errno,
            Broken::Tls(failure) => {
                log::warn!("TLS: {failure}");
                match failure {
                    TlsFailure::Truncated { .. } => Errno::CONNRESET,
                    _ => Errno::PROTO,
                }
            }
        }
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder(
    clock: Arc<dyn TimeProvider>,
) -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsFailure> {
    ClientConfig::builder_with_details(provider(), clock)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsFailure::Protocol {
            host: String::new(),
            detail: e.to_string(),
        })
}

/// Certificate validity is checked against the wall clock, which the
/// kernel set from the RTC at boot.
#[derive(Debug)]
struct SystemClock;

impl TimeProvider for SystemClock {
    fn current_time(&self) -> Option<UnixTime> {
        let now = rustix::time::clock_gettime(rustix::time::ClockId::Realtime);
        let seconds = u64::try_from(now.tv_sec).ok()?;
        let nanos = u32::try_from(now.tv_nsec).ok()?;
        Some(UnixTime::since_unix_epoch(Duration::new(seconds, nanos)))
    }
}

/// `rd.noverifyssl`: every certificate passes, but the handshake's
/// signatures are still checked with the certificate's key, so the
/// connection is at least with whoever holds that key.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
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
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
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

/// A TLS connection over `T`, itself a [`Stream`] of the plain bytes.
pub struct TlsStream<T> {
    conn: UnbufferedClientConnection,
    transport: T,
    host: String,
    bundle: Option<Bundle>,
    /// TLS bytes received, `received` of them not processed yet.
    incoming: Vec<u8>,
    received: usize,
    /// Room to encode TLS bytes into before sending them.
    outgoing: Vec<u8>,
    /// Decrypted data not handed out yet, from `plain_read` on.
    plain: Vec<u8>,
    plain_read: usize,
    /// The server sent close_notify: the end of the data, for certain.
    peer_closed: bool,
}

/// What [`TlsStream::advance`] stopped at.
enum Step {
    /// Data can be sent (the handshake is over) and none is waiting to be read.
    CanWrite,
    /// More TLS bytes from the server are needed.
    NeedsInput,
    /// Something was done (records sent, data decrypted): look again.
    Progress,
    /// The server closed the connection cleanly.
    Closed,
}

impl<T: Stream> TlsStream<T> {
    fn handshake(&mut self, timeout: Duration) -> Result<(), Broken> {
        loop {
            match self.advance(None, timeout)? {
                Step::CanWrite => return Ok(()),
                Step::NeedsInput => self.receive(timeout)?,
                Step::Progress => {}
                Step::Closed => {
                    return Err(TlsFailure::Truncated {
                        host: self.host.clone(),
                    }
                    .into())
                }
            }
        }
    }

    /// One turn of rustls' state machine: hands it the TLS bytes received,
    /// sends what it wants sent, keeps what it decrypted, and (given
    /// `data` once the handshake is over) encrypts and sends `data`.
    fn advance(&mut self, data: Option<&[u8]>, timeout: Duration) -> Result<Step, Broken> {
        let UnbufferedStatus { mut discard, state } = self
            .conn
            .process_tls_records(self.incoming.get_mut(..self.received).unwrap_or_default());
        let state = state.map_err(|e| failure(&self.host, self.bundle.as_ref(), e))?;
        let step = match state {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record.map_err(|e| failure(&self.host, None, e))?;
                    discard += record.discard;
                    self.plain.extend_from_slice(record.payload);
                }
                Step::Progress
            }
            ConnectionState::EncodeTlsData(mut encode) => {
                let written = loop {
                    match encode.encode(&mut self.outgoing) {
                        Ok(written) => break written,
                        Err(EncodeError::InsufficientSize(InsufficientSizeError {
                            required_size,
                        })) => self.outgoing.resize(required_size, 0),
                        Err(other) => return Err(protocol(&self.host, other.to_string()).into()),
                    }
                };
                let bytes = self.outgoing.get(..written).unwrap_or_default();
                self.transport.write_all(bytes, timeout)?;
                Step::Progress
            }
            // Records were encoded and sent at once (above): nothing waits.
            ConnectionState::TransmitTlsData(transmit) => {
                transmit.done();
                Step::Progress
            }
            ConnectionState::WriteTraffic(mut traffic) => match data {
                Some(data) => {
                    let written = loop {
                        match traffic.encrypt(data, &mut self.outgoing) {
                            Ok(written) => break written,
                            Err(EncryptError::InsufficientSize(InsufficientSizeError {
                                required_size,
                            })) => self.outgoing.resize(required_size, 0),
                            Err(other) => {
                                return Err(protocol(&self.host, other.to_string()).into())
                            }
                        }
                    };
                    let bytes = self.outgoing.get(..written).unwrap_or_default();
                    self.transport.write_all(bytes, timeout)?;
                    Step::CanWrite
                }
                None => Step::CanWrite,
            },
            ConnectionState::BlockedHandshake => Step::NeedsInput,
            ConnectionState::PeerClosed | ConnectionState::Closed => Step::Closed,
            // Early data is the server's; any state a later rustls adds is
            // waited out like a handshake.
            _ => Step::NeedsInput,
        };
        if discard > 0 {
            self.incoming.copy_within(discard..self.received, 0);
            self.received -= discard;
        }
        Ok(step)
    }

    /// Reads more TLS bytes from the server (one bounded wait).
    fn receive(&mut self, timeout: Duration) -> Result<(), Broken> {
        if self.received == self.incoming.len() {
            if self.incoming.len() >= MAX_INCOMING {
                return Err(protocol(
                    &self.host,
                    format!("a handshake message larger than {MAX_INCOMING} bytes"),
                )
                .into());
            }
            self.incoming.resize(self.incoming.len() * 2, 0);
        }
        let free = self.incoming.get_mut(self.received..).unwrap_or_default();
        match self.transport.read(free, timeout)? {
            0 => Err(TlsFailure::Truncated {
                host: self.host.clone(),
            }
            .into()),
            n => {
                self.received += n;
                Ok(())
            }
        }
    }
}

impl<T: Stream> Stream for TlsStream<T> {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize> {
        self.read_plain(buf, timeout).map_err(Broken::errno)
    }

    fn write_all(&mut self, data: &[u8], timeout: Duration) -> SysResult<()> {
        self.write_plain(data, timeout).map_err(Broken::errno)
    }
}

impl<T: Stream> TlsStream<T> {
    fn read_plain(&mut self, buf: &mut [u8], timeout: Duration) -> Result<usize, Broken> {
        loop {
            let waiting = self.plain.get(self.plain_read..).unwrap_or_default();
            if !waiting.is_empty() {
                let n = waiting.len().min(buf.len());
                if let (Some(to), Some(from)) = (buf.get_mut(..n), waiting.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.plain_read += n;
                if self.plain_read == self.plain.len() {
                    self.plain.clear();
                    self.plain_read = 0;
                }
                return Ok(n);
            }
            if self.peer_closed {
                return Ok(0);
            }
            match self.advance(None, timeout)? {
                Step::Progress => {}
                Step::CanWrite | Step::NeedsInput => self.receive(timeout)?,
                Step::Closed => self.peer_closed = true,
            }
        }
    }

    fn write_plain(&mut self, data: &[u8], timeout: Duration) -> Result<(), Broken> {
        if data.is_empty() {
            return Ok(());
        }
        loop {
            match self.advance(Some(data), timeout)? {
                Step::CanWrite => return Ok(()),
                Step::Progress => {}
                Step::NeedsInput => self.receive(timeout)?,
                Step::Closed => {
                    return Err(TlsFailure::Truncated {
                        host: self.host.clone(),
                    }
                    .into())
                }
            }
        }
    }
}

fn protocol(host: &str, detail: String) -> TlsFailure {
    TlsFailure::Protocol {
        host: host.to_owned(),
        detail,
    }
}

/// rustls' error in the boot's words: a refused certificate names the
/// bundle it was checked against.
fn failure(host: &str, bundle: Option<&Bundle>, error: Error) -> TlsFailure {
    match (error, bundle) {
        (Error::InvalidCertificate(problem), Some(bundle)) => TlsFailure::Certificate {
            host: host.to_owned(),
            problem: cert_problem(host, problem),
            bundle: bundle.clone(),
        },
        (other, _) => protocol(host, other.to_string()),
    }
}

fn cert_problem(host: &str, error: CertificateError) -> CertProblem {
    let seconds = |t: UnixTime| t.as_secs();
    match error {
        CertificateError::UnknownIssuer => CertProblem::UnknownIssuer,
        CertificateError::NotValidForNameContext { presented, .. } => CertProblem::NameMismatch {
            expected: host.to_owned(),
            presented,
        },
        CertificateError::ExpiredContext { time, not_after } => CertProblem::Expired {
            now: seconds(time),
            not_after: seconds(not_after),
        },
        CertificateError::NotValidYetContext { time, not_before } => CertProblem::NotYetValid {
            now: seconds(time),
            not_before: seconds(not_before),
        },
        other => CertProblem::Other(Error::InvalidCertificate(other).to_string()),
    }
}

/// A handshake needs a server: these run `openssl s_server` on 127.0.0.1
/// with a throw-away CA made by `openssl` for the run (the host setup
/// installs it), and talk to it over a std TCP socket with timeouts.
#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};

    struct Tcp(TcpStream);

    fn errno(e: std::io::Error) -> Errno {
        e.raw_os_error().map_or(Errno::IO, Errno::from_raw_os_error)
    }

    impl Stream for Tcp {
        fn read(&mut self, buf: &mut [u8], timeout: Duration) -> SysResult<usize> {
            self.0.set_read_timeout(Some(timeout)).map_err(errno)?;
            self.0.read(buf).map_err(errno)
        }
        fn write_all(&mut self, data: &[u8], timeout: Duration) -> SysResult<()> {
            self.0.set_write_timeout(Some(timeout)).map_err(errno)?;
            self.0.write_all(data).map_err(errno)
        }
    }

    const WAIT: Duration = Duration::from_secs(10);

    fn openssl(dir: &Path, args: &[&str]) {
        let out = Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl (Debian package openssl) must be installed");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A CA named `name` in `dir` (`<name>.pem`, `<name>.key`).
    fn make_ca(dir: &Path, name: &str) {
        std::fs::write(
            dir.join("ca.cnf"),
            "[req]\ndistinguished_name=dn\n[dn]\n[ext]\n\
             basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n",
        )
        .unwrap();
        let (key, pem, subj) = (
            format!("{name}.key"),
            format!("{name}.pem"),
            format!("/CN={name}"),
        );
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                &key,
                "-out",
                &pem,
                "-days",
                "2",
                "-subj",
                &subj,
                "-config",
                "ca.cnf",
                "-extensions",
                "ext",
            ],
        );
    }

    /// `server.pem`/`server.key` for localhost and 127.0.0.1, signed by `ca`.
    fn make_server_cert(dir: &Path, ca: &str) {
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
                "-config",
                "ca.cnf",
            ],
        );
        let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "server.ext",
            ],
        );
    }

    /// A directory with two CAs (`good`, `other`) and a server certificate
    /// signed by `good`.
    fn pki(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("liveinit-tls-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        make_ca(&dir, "good");
        make_ca(&dir, "other");
        make_server_cert(&dir, "good");
        dir
    }

    /// `openssl s_server -www` (answers a GET with a status page) on a free
    /// port of 127.0.0.1, with extra options; killed when dropped.
    struct Server {
        child: Child,
        port: u16,
    }

    impl Server {
        fn start(dir: &Path, extra: &[&str]) -> Server {
            let mut child = Command::new("openssl")
                .current_dir(dir)
                .args([
                    "s_server",
                    "-accept",
                    "127.0.0.1:0",
                    "-www",
                    "-naccept",
                    "1",
                ])
                .args(["-cert", "server.pem", "-key", "server.key"])
                .args(extra)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("openssl s_server");
            let stdout = child.stdout.take().unwrap();
            let mut lines = BufReader::new(stdout).lines();
            let port = loop {
                let line = lines.next().expect("s_server said ACCEPT").unwrap();
                if let Some(addr) = line.strip_prefix("ACCEPT ") {
                    break addr.rsplit(':').next().unwrap().parse().unwrap();
                }
            };
            Server { child, port }
        }

        fn connect(&self) -> Tcp {
            Tcp(TcpStream::connect(("127.0.0.1", self.port)).unwrap())
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    fn settings(dir: &Path, ca: &str) -> TlsSettings {
        let pem = std::fs::read(dir.join(format!("{ca}.pem"))).unwrap();
        TlsSettings::from_pem(CA_BUNDLE, &pem).unwrap()
    }

    /// GET / and everything until the server closes.
    fn get(stream: &mut impl Stream) -> SysResult<String> {
        stream.write_all(b"GET / HTTP/1.0\r\n\r\n", WAIT)?;
        let mut page = Vec::new();
        let mut buf = [0u8; 777];
        loop {
            match stream.read(&mut buf, WAIT)? {
                0 => return Ok(String::from_utf8_lossy(&page).into_owned()),
                n => page.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn refusal(result: Result<TlsStream<Tcp>, TlsFailure>) -> TlsFailure {
        match result {
            Err(failure) => failure,
            Ok(_) => panic!("the handshake succeeded"),
        }
    }

    #[test]
    fn fetches_over_tls13_and_tls12_with_the_right_ca() {
        let dir = pki("good");
        for version in ["-tls1_3", "-tls1_2"] {
            let server = Server::start(&dir, &[version]);
            let tls = settings(&dir, "good");
            assert!(tls.verifies());
            let mut stream = tls.connect(server.connect(), "localhost", WAIT).unwrap();
            let page = get(&mut stream).unwrap();
            assert!(page.starts_with("HTTP/1.0 200 ok"), "{version}: {page}");
            let want = if version == "-tls1_3" {
                "TLSv1.3"
            } else {
                "TLSv1.2"
            };
            assert!(page.contains(want), "{version}: {page}");
        }
    }

    #[test]
    fn an_ip_address_is_checked_against_the_ip_san() {
        let dir = pki("ip");
        let server = Server::start(&dir, &[]);
        let mut stream = settings(&dir, "good")
            .connect(server.connect(), "127.0.0.1", WAIT)
            .unwrap();
        assert!(get(&mut stream).unwrap().starts_with("HTTP/1.0 200 ok"));
    }

    #[test]
    fn another_ca_is_an_unknown_issuer_naming_the_bundle() {
        let dir = pki("other");
        let server = Server::start(&dir, &[]);
        let failure = refusal(settings(&dir, "other").connect(server.connect(), "localhost", WAIT));
        let want = TlsFailure::Certificate {
            host: "localhost".into(),
            problem: CertProblem::UnknownIssuer,
            bundle: Bundle {
                path: CA_BUNDLE.into(),
                certificates: 1,
            },
        };
        assert_eq!(failure, want);
        assert!(failure.is_fatal());
    }

    #[test]
    fn a_name_the_certificate_lacks_is_a_mismatch() {
        let dir = pki("name");
        let server = Server::start(&dir, &[]);
        let failure = refusal(settings(&dir, "good").connect(server.connect(), "10.0.2.2", WAIT));
        let TlsFailure::Certificate {
            problem:
                CertProblem::NameMismatch {
                    expected,
                    presented,
                },
            ..
        } = &failure
        else {
            panic!("{failure:?}");
        };
        assert_eq!(expected, "10.0.2.2");
        assert!(
            presented.iter().any(|n| n.contains("localhost")),
            "{presented:?}"
        );
        assert!(
            failure.to_string().contains("IP address 127.0.0.1"),
            "{failure}"
        );
    }

    #[derive(Debug)]
    struct FixedClock(u64);

    impl TimeProvider for FixedClock {
        fn current_time(&self) -> Option<UnixTime> {
            Some(UnixTime::since_unix_epoch(Duration::from_secs(self.0)))
        }
    }

    #[test]
    fn a_clock_outside_the_validity_window_is_reported_with_both() {
        let dir = pki("time");
        let pem = std::fs::read(dir.join("good.pem")).unwrap();
        for (now, expired) in [(4_102_444_800, true), (86_400, false)] {
            let server = Server::start(&dir, &[]);
            let clock = Arc::new(FixedClock(now));
            let tls = TlsSettings::from_pem_at(CA_BUNDLE, &pem, clock).unwrap();
            let failure = refusal(tls.connect(server.connect(), "localhost", WAIT));
            let TlsFailure::Certificate { problem, .. } = &failure else {
                panic!("{failure:?}");
            };
            match (problem, expired) {
                (CertProblem::Expired { now: n, not_after }, true) => {
                    assert_eq!(*n, now);
                    assert!(*not_after < now);
                }
                (CertProblem::NotYetValid { now: n, not_before }, false) => {
                    assert_eq!(*n, now);
                    assert!(*not_before > now);
                }
                other => panic!("{other:?}"),
            }
            assert!(failure.to_string().contains("system time is"), "{failure}");
        }
    }

    #[test]
    fn noverifyssl_accepts_any_certificate() {
        let dir = pki("noverify");
        let server = Server::start(&dir, &[]);
        let tls = TlsSettings::not_verifying().unwrap();
        assert!(!tls.verifies());
        let mut stream = tls.connect(server.connect(), "wrong.name", WAIT).unwrap();
        assert!(get(&mut stream).unwrap().starts_with("HTTP/1.0 200 ok"));
    }

    #[test]
    fn a_bundle_without_certificates_or_file_is_refused() {
        let failure = TlsSettings::from_pem("/b.crt", b"just text\n").unwrap_err();
        assert!(failure
            .to_string()
            .contains("CA bundle /b.crt: no certificate in it"));
        let failure = TlsSettings::verifying("/nonexistent/ca.crt").unwrap_err();
        assert!(
            failure
                .to_string()
                .contains("CA bundle /nonexistent/ca.crt: No such file or directory"),
            "{failure}"
        );
    }

    /// A server that accepts and says nothing: the handshake waits one
    /// bound and fails as an I/O error, which the download may retry.
    #[test]
    fn a_silent_server_times_out_within_the_bound() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tcp = Tcp(TcpStream::connect(("127.0.0.1", port)).unwrap());
        let started = std::time::Instant::now();
        let tls = TlsSettings::not_verifying().unwrap();
        let failure = refusal(tls.connect(tcp, "localhost", Duration::from_millis(300)));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(matches!(failure, TlsFailure::Io { .. }), "{failure:?}");
        assert!(!failure.is_fatal());
        assert!(failure.to_string().contains("localhost"), "{failure}");
        drop(listener);
    }

    /// What `Sys::start_tls` hands the download: a boxed stream over a
    /// boxed one; the bundle is the packed one, absent on a host.
    #[test]
    fn start_tls_boxes_and_reads_the_packed_bundle() {
        let dir = pki("boxed");
        let server = Server::start(&dir, &[]);
        let boxed: Box<dyn Stream> = Box::new(server.connect());
        let mut stream = start_tls(boxed, "localhost", false, WAIT).unwrap();
        assert!(get(&mut stream).unwrap().starts_with("HTTP/1.0 200 ok"));
        // Checked, our throw-away CA is in no bundle: the host's refuses
        // it as an unknown issuer, a host without one says so.
        let server = Server::start(&dir, &[]);
        let boxed: Box<dyn Stream> = Box::new(server.connect());
        let Err(failure) = start_tls(boxed, "localhost", true, WAIT) else {
            panic!("a throw-away CA passed the packed bundle");
        };
        let refused = matches!(
            &failure,
            TlsFailure::Certificate {
                problem: CertProblem::UnknownIssuer,
                bundle: Bundle { path, .. },
                ..
            } if path == CA_BUNDLE
        );
        let absent = matches!(failure, TlsFailure::Bundle { .. });
        assert!(refused || absent, "{failure:?}");
    }

    /// After the handshake a stream can only say an errno: a cut
    /// connection must read as a reset (retried, resumed), never as the end.
    #[test]
    fn failures_after_the_handshake_become_errnos() {
        let cut = Broken::Tls(TlsFailure::Truncated { host: "h".into() });
        assert_eq!(cut.errno(), Errno::CONNRESET);
        let bad = Broken::Tls(protocol("h", "decrypt error".into()));
        assert_eq!(bad.errno(), Errno::PROTO);
        assert_eq!(Broken::Io(Errno::TIMEDOUT).errno(), Errno::TIMEDOUT);
    }

    #[test]
    fn a_host_that_is_no_name_is_refused_before_connecting() {
        let dir = pki("sni");
        let server = Server::start(&dir, &[]);
        let failure = refusal(settings(&dir, "good").connect(server.connect(), "bad host!", WAIT));
        assert!(
            matches!(failure, TlsFailure::ServerName { .. }),
            "{failure:?}"
        );
    }
}
