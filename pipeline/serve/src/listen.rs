//! The accept loop: each connection gets a task of its own — a TLS handshake first when the API
//! has a certificate — served by hyper's HTTP/1 with a
//! deadline for the request head ([`HEADER_READ`]) and a socket that cuts a peer that stops
//! reading ([`Stall`], [`STALL`]); at most [`CONNECTIONS`] are open at once (one more is closed
//! as it arrives, and counted). The peer's address travels with each request as
//! [`ConnectInfo`], for the logs and the access audit.

use crate::limits::{CONNECTIONS, HEADER_READ, Limits, STALL};
use crate::stall::Stall;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How long open requests may finish after the server is told to stop.
const DRAIN: Duration = Duration::from_secs(1);

/// Serves `app` on `listener` until `stopped` resolves; then lets open requests finish for
/// [`DRAIN`].
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Arc<Limits>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stopped: impl std::future::Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut stopped = std::pin::pin!(stopped);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors, most likely: wait rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stopped => break,
        };
        let Ok(slot) = limits.connections.clone().try_acquire_owned() else {
            let n = limits.connections_refused.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() {
                tracing::warn!(%peer, open = CONNECTIONS, "too many connections: closing new ones");
            }
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match tls {
                None => serve_one(tcp, peer, app, watcher).await,
                // The handshake, like a request head, must be done within HEADER_READ.
                Some(acceptor) => {
                    match tokio::time::timeout(HEADER_READ, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => serve_one(stream, peer, app, watcher).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake not done in time"),
                    }
                }
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

/// Serves HTTP/1 on one connection (plain or TLS) until it ends or the server drains.
async fn serve_one<I>(io: I, peer: SocketAddr, app: Router, watcher: Watcher)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = app.map_request(move |mut request: axum::http::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ)
        .serve_connection(
            TokioIo::new(Stall::writes(io, STALL)),
            TowerToHyperService::new(service),
        );
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// The TLS side of the server: the certificate chain and key of `files` (PEM).
pub(crate) fn acceptor(
    files: &vigil_config::TlsFiles,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let show = |p: &std::path::Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|certs| certs.collect())
        .map_err(|e| show(&files.cert_file, &e))?;
    let key =
        PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| show(&files.key_file, &e))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| show(&files.cert_file, &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}
