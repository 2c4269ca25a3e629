//! The TCP front door of `serve`: a cap on concurrent connections per client address and a
//! deadline for reading each request's headers. Without them a client that opens connections and
//! sends half a request, or dribbles one byte at a time, holds sockets until the process runs out of
//! file descriptors. (Connections silent altogether are closed by poem's idle timeout, set next to
//! this in `main.rs`.)
//!
//! The header deadline starts with the first byte of a request and ends at the blank line that
//! closes its headers (`\r\n\r\n`); bodies are not timed here. HTTP/2 (prior knowledge, `PRI *`)
//! connections are left to hyper's own limits.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

/// The limits of [`GuardedAcceptor`].
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Most connections open at once from one address; more are closed on accept.
    pub per_address: usize,
    /// Longest time from a request's first byte to the end of its headers.
    pub header_timeout: Duration,
    /// Peers exempt from the per-address cap: reverse proxies carry many visitors.
    pub exempt: Arc<[IpAddr]>,
}

type OpenCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// Wraps an acceptor (e.g. poem's `TcpListener`'s) with [`ConnectionLimits`].
pub struct GuardedAcceptor<A> {
    inner: A,
    limits: ConnectionLimits,
    open: OpenCounts,
}

impl<A> GuardedAcceptor<A> {
    pub fn new(inner: A, limits: ConnectionLimits) -> Self {
        Self {
            inner,
            limits,
            open: OpenCounts::default(),
        }
    }

    fn take_slot(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = open.entry(ip).or_default();
        if *count >= self.limits.per_address {
            return None;
        }
        *count += 1;
        Some(Slot {
            ip,
            open: self.open.clone(),
        })
    }
}

/// One counted connection; gives its place back when the connection ends.
struct Slot {
    ip: IpAddr,
    open: OpenCounts,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

impl<A: Acceptor> Acceptor for GuardedAcceptor<A> {
    type Io = GuardedIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        loop {
            let (io, local, remote, scheme) = self.inner.accept().await?;
            let ip = remote.as_socket_addr().map(|a| a.ip());
            let slot = match ip.filter(|ip| !self.limits.exempt.contains(ip)) {
                None => None,
                Some(ip) => match self.take_slot(ip) {
                    Some(slot) => Some(slot),
                    None => {
                        tracing::warn!(%ip, limit = self.limits.per_address, "too many connections from one address: closed");
                        continue;
                    }
                },
            };
            let io = GuardedIo {
                inner: io,
                _slot: slot,
                timeout: self.limits.header_timeout,
                deadline: None,
                in_headers: true,
                started: false,
                http2: false,
                tail: Vec::with_capacity(3),
            };
            return Ok((io, local, remote, scheme));
        }
    }
}

/// A connection whose request headers must arrive within the deadline.
pub struct GuardedIo<T> {
    inner: T,
    _slot: Option<Slot>,
    timeout: Duration,
    deadline: Option<Pin<Box<Sleep>>>,
    /// Between requests or inside a request's headers (the deadline runs once bytes come).
    in_headers: bool,
    /// Whether any byte has been read (to recognise HTTP/2's preface).
    started: bool,
    http2: bool,
    /// The last bytes read, to find `\r\n\r\n` across reads.
    tail: Vec<u8>,
}

impl<T> GuardedIo<T> {
    fn saw(&mut self, bytes: &[u8]) {
        if !self.started {
            self.started = true;
            self.http2 = bytes.starts_with(b"PRI * HTTP/2");
        }
        if self.http2 || !self.in_headers || bytes.is_empty() {
            return;
        }
        if self.deadline.is_none() {
            self.deadline = Some(Box::pin(tokio::time::sleep(self.timeout)));
        }
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(bytes);
        if window.windows(4).any(|w| w == b"\r\n\r\n") {
            self.in_headers = false;
            self.deadline = None;
        } else {
            let keep = window.len().saturating_sub(3);
            self.tail = window.split_off(keep);
        }
    }

    /// After the server starts a response (not a `100 Continue`), the next bytes are a new request.
    fn wrote(&mut self, bytes: &[u8]) {
        if bytes.starts_with(b"HTTP/1.") && bytes.get(9..10).is_none_or(|d| d != b"1") {
            self.in_headers = true;
            self.deadline = None;
            self.tail.clear();
        }
    }
}

fn timed_out() -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        "request headers not received in time",
    )
}

impl<T: AsyncRead + Unpin> AsyncRead for GuardedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(deadline) = this.deadline.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(timed_out()));
            }
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = buf.filled()[before..].to_vec();
                this.saw(&fresh);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for GuardedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = written {
            this.wrote(&buf[..n]);
        }
        written
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let (Poll::Ready(Ok(n)), Some(first)) = (&written, bufs.iter().find(|b| !b.is_empty())) {
            let n = (*n).min(first.len());
            this.wrote(&first[..n]);
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
