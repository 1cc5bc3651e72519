//! A socket that gives up on a stalled peer: [`Stall`] wraps any async stream and fails a read
//! or write that has waited longer than its limit, so a peer that stops reading (or, where a read
//! limit is set, stops sending) frees its connection and whatever the connection held — a file,
//! a forwarding slot, an SSE slot — instead of holding it for ever.
//!
//! The clock runs only while an operation is pending and restarts when one completes: a slow
//! reader that drains a little every few seconds is served; one that drains nothing for the limit
//! is cut.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

pub(crate) struct Stall<T> {
    inner: T,
    read_limit: Option<Duration>,
    write_limit: Duration,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<T> Stall<T> {
    /// Writes that make no progress for `write_limit` fail; reads never time out here (the HTTP
    /// server bounds reading a request itself, and an SSE client sends nothing for hours).
    pub(crate) fn writes(inner: T, write_limit: Duration) -> Self {
        Self {
            inner,
            read_limit: None,
            write_limit,
            read_timer: None,
            write_timer: None,
        }
    }

    /// Reads and writes that make no progress for `limit` fail (a client's connection to a peer
    /// that must answer).
    pub(crate) fn both(inner: T, limit: Duration) -> Self {
        Self {
            read_limit: Some(limit),
            ..Self::writes(inner, limit)
        }
    }
}

/// `Pending` while the timer runs (started now if it was not), an error once it has run out.
fn wait<R>(
    timer: &mut Option<Pin<Box<Sleep>>>,
    limit: Duration,
    what: &str,
    cx: &mut Context<'_>,
) -> Poll<io::Result<R>> {
    let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
    match timer.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the peer made no progress {what} for {} s", limit.as_secs()),
        ))),
        Poll::Pending => Poll::Pending,
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Stall<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => match this.read_limit {
                Some(limit) => wait(&mut this.read_timer, limit, "sending", cx),
                None => Poll::Pending,
            },
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stall<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => wait(&mut this.write_timer, this.write_limit, "reading", cx),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => wait(&mut this.write_timer, this.write_limit, "reading", cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(r) => {
                this.write_timer = None;
                Poll::Ready(r)
            }
            Poll::Pending => wait(&mut this.write_timer, this.write_limit, "reading", cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::Stall;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_fails_the_write_after_the_limit() {
        let (a, b) = tokio::io::duplex(1024);
        let mut a = Stall::writes(a, Duration::from_secs(30));
        // The buffer takes 1 KiB; then the writer waits for a reader that never reads.
        let big = vec![7u8; 4096];
        let started = tokio::time::Instant::now();
        let err = a.write_all(&big).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed().as_secs(), 30);
        // A reader that drains in time keeps the writer going.
        let (c, mut d) = tokio::io::duplex(1024);
        let mut c = Stall::writes(c, Duration::from_secs(30));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut buf = [0u8; 256];
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                match d.read(&mut buf).await.unwrap() {
                    0 => return got.len(),
                    n => got.extend_from_slice(&buf[..n]),
                }
            }
        });
        c.write_all(&big).await.unwrap();
        drop(c);
        assert_eq!(reader.await.unwrap(), 4096);
        drop(b);
    }

    #[tokio::test(start_paused = true)]
    async fn a_read_limit_fails_a_peer_that_sends_nothing() {
        let (a, _b) = tokio::io::duplex(64);
        let mut a = Stall::both(a, Duration::from_secs(5));
        let mut buf = [0u8; 8];
        let err = a.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        // Without a read limit, it waits.
        let (c, _d) = tokio::io::duplex(64);
        let mut c = Stall::writes(c, Duration::from_secs(5));
        let waited = tokio::time::timeout(Duration::from_secs(60), c.read(&mut buf)).await;
        assert!(waited.is_err(), "a read without a limit timed out itself");
    }
}
