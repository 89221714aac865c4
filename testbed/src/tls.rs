//! TLS for the local index (benchmarks): a self-signed CA made at start, its PEM for the
//! clients to trust through their usual settings, and HTTP/2 offered through ALPN or not, as
//! a real index behind HTTPS negotiates it.
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::sigstore::{ca, encoding};

const H2: &[u8] = b"h2";
const HTTP1: &[u8] = b"http/1.1";
/// The most one read of a connection's socket takes.
const READ_BUFFER: usize = 256 * 1024;

/// A server's TLS setup: certificates for `127.0.0.1` and `localhost`, issued by a CA that
/// lives only as long as this value's process.
#[derive(Clone, Debug)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    ca_pem: String,
}

impl ServerTls {
    /// A fresh CA and server certificate; `http2` offers `h2` before `http/1.1` in ALPN,
    /// otherwise only `http/1.1` is offered and every client speaks HTTP/1.1.
    pub fn self_signed(http2: bool) -> anyhow::Result<Self> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs();
        let certs = ca::tls_server(now)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("choosing the TLS versions")?
            .with_no_client_auth()
            .with_single_cert(
                vec![
                    CertificateDer::from(certs.leaf_der),
                    CertificateDer::from(certs.ca_der.clone()),
                ],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key_pkcs8_der)),
            )
            .context("loading the server certificate")?;
        config.alpn_protocols = if http2 {
            vec![H2.to_vec(), HTTP1.to_vec()]
        } else {
            vec![HTTP1.to_vec()]
        };
        Ok(Self {
            config: Arc::new(config),
            ca_pem: encoding::pem("CERTIFICATE", &certs.ca_der),
        })
    }

    /// The CA's certificate, PEM: what a client adds to its trust store.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }
}

/// Serve `app` over TLS on `listener` until `shutdown` fires; the connections in flight end
/// with it.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: ServerTls,
    mut shutdown: oneshot::Receiver<()>,
) {
    let acceptor = TlsAcceptor::from(tls.config);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    connections.spawn(connection(acceptor.clone(), tcp, app.clone()));
                }
                Err(err) => tracing::warn!(error = %err, "the local Warehouse could not accept"),
            },
        }
    }
}

async fn connection(acceptor: TlsAcceptor, tcp: TcpStream, app: Router) {
    // As axum::serve does for plain HTTP: small answers go out at once.
    let _ = tcp.set_nodelay(true);
    // rustls asks the socket for one TLS record (16 KiB) at a time; reading it in larger
    // gulps spares the benchmark's index thousands of system calls per release, on the cores
    // the client is measured on.
    let tcp = tokio::io::BufReader::with_capacity(READ_BUFFER, tcp);
    let stream = match acceptor.accept(tcp).await {
        Ok(stream) => stream,
        Err(err) => {
            tracing::debug!(error = %err, "a TLS handshake with the local Warehouse failed");
            return;
        }
    };
    let h2 = stream.get_ref().1.alpn_protocol() == Some(H2);
    let io = TokioIo::new(stream);
    let service = TowerToHyperService::new(app);
    let served = if h2 {
        hyper::server::conn::http2::Builder::new(TokioExecutor::new())
            .serve_connection(io, service)
            .await
    } else {
        hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await
    };
    if let Err(err) = served {
        tracing::debug!(error = %err, "a TLS connection to the local Warehouse ended in error");
    }
}
