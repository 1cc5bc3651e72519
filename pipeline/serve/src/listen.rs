//! The accept loop: each connection gets a task of its own, served by hyper's HTTP/1 with a
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
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
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
        let service = app
            .clone()
            .map_request(move |mut request: axum::http::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ)
            .serve_connection(
                TokioIo::new(Stall::writes(tcp, STALL)),
                TowerToHyperService::new(service),
            );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}
