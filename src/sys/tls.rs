//! HTTPS' TLS over any [`Stream`]: rustls' unbuffered client (the one that
//! needs no `std`: it never touches `std::io`, the bytes in and out are
//! ours to move) with ring's cryptography, TLS 1.2 and 1.3.
//!
//! The server is checked against a PEM bundle packed into the initramfs,
//! at the time of the system clock (`CLOCK_REALTIME`, which the kernel set
//! from the RTC); with `rd.noverifyssl` nothing is checked but the
//! handshake's own signatures. Every wait is the underlying stream's, so a
//! TLS stream is bounded exactly as the socket under it. Stopping at the end
//! of the body (`Content-Length`) is the HTTP code's job: servers often
//! close without TLS' closing message, which reads as [`TlsFailure::Truncated`].

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

use super::stream::{Stream, StreamError};
use super::tls_failure::{Bundle, CertProblem, TlsFailure};

/// Where the packer puts the CA bundle (Debian's path, which most TLS
/// libraries look at first).
pub const CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Printed on every boot that downloads with `rd.noverifyssl`.
pub const NO_VERIFY_WARNING: &str = "rd.noverifyssl: the HTTPS server's certificate is NOT \
     checked; anyone on the network path can serve this machine an image of their choosing";

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
        let config = builder()?.with_root_certificates(roots).with_no_client_auth();
        Ok(TlsSettings {
            config: Arc::new(config),
            bundle: Some(Bundle {
                path: path.to_owned(),
                certificates: added,
            }),
        })
    }

    /// `rd.noverifyssl`: any certificate is accepted. The caller prints
    /// [`NO_VERIFY_WARNING`].
    pub fn not_verifying() -> Result<TlsSettings, TlsFailure> {
        let verifier = Arc::new(AcceptAnyCertificate(provider()));
        let config = builder()?
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
    /// without `[ ]`) over `transport`, already connected to it.
    pub fn connect<T: Stream>(&self, transport: T, host: &str) -> Result<TlsStream<T>, StreamError> {
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
        stream.handshake()?;
        Ok(stream)
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsFailure> {
    ClientConfig::builder_with_details(provider(), Arc::new(SystemClock))
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
    /// The underlying stream, e.g. to shut it down.
    pub fn get_ref(&self) -> &T {
        &self.transport
    }

    fn handshake(&mut self) -> Result<(), StreamError> {
        loop {
            match self.advance(None)? {
                Step::CanWrite => return Ok(()),
                Step::NeedsInput => self.receive()?,
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
    fn advance(&mut self, data: Option<&[u8]>) -> Result<Step, StreamError> {
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
                        Err(other) => {
                            return Err(protocol(&self.host, other.to_string()).into())
                        }
                    }
                };
                let bytes = self.outgoing.get(..written).unwrap_or_default();
                self.transport.write_all(bytes)?;
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
                    self.transport.write_all(bytes)?;
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
    fn receive(&mut self) -> Result<(), StreamError> {
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
        match self.transport.read(free)? {
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
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, StreamError> {
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
            match self.advance(None)? {
                Step::Progress => {}
                Step::CanWrite | Step::NeedsInput => self.receive()?,
                Step::Closed => self.peer_closed = true,
            }
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> Result<(), StreamError> {
        if buf.is_empty() {
            return Ok(());
        }
        loop {
            match self.advance(Some(buf))? {
                Step::CanWrite => return Ok(()),
                Step::Progress => {}
                Step::NeedsInput => self.receive()?,
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
        CertificateError::NotValidForNameContext { presented, .. } => {
            CertProblem::NameMismatch {
                expected: host.to_owned(),
                presented,
            }
        }
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
