//! The TCP layer under the HTTP client: a plain TCP transport like ureq's own, with one
//! addition.
//!
//! Many S3-compatible servers write a response's headers and its body as two small
//! segments and leave Nagle's algorithm on; Linux meanwhile delays the ACK of the first
//! segment on a kept-alive connection, so the body waits up to 40 ms for an ACK that waits
//! for the body. On a sync of many small objects that stall dominates (measured against
//! s3s-fs: 2,000 × 10 KiB downloads took 3.3 s instead of 0.45 s). Asking for an immediate
//! ACK (`TCP_QUICKACK`, Linux only) before a read removes it.
//!
//! Only the first [`QUICK_ACK_READS`] reads after each write (each request) ask. That covers
//! all of a small or medium answer (64 reads were 1-2 MiB over loopback), where the stalls
//! happen; asked once per request, or for 16 reads, 300 downloads of 300-600 KiB still took
//! 10% longer. The reads deep in a large body do not ask: with data streaming in, the kernel
//! acknowledges as it should, and asking there only sent more ACKs. Measured on a 1 GiB
//! download of 8 MiB parts: asking on every read cost 35,000 `setsockopt` calls and 0.2 s of
//! the client's 1.5 s of system time (wall time 2.9 -> 2.7 s); 100 downloads of 3 MiB were
//! no slower.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Weak};
use std::time::Duration;

use ureq::Error;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};

/// Opens TCP connections (unless an earlier connector in the chain, e.g. a CONNECT proxy,
/// already did) whose reads ask for immediate ACKs.
#[derive(Debug, Default)]
pub struct QuickAckConnector;

impl<In: Transport> Connector<In> for QuickAckConnector {
    type Out = Either<In, QuickAckTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        if chained.is_some() {
            return Ok(chained.map(Either::A));
        }
        let budget = details.timeout.not_zero().map(|t| *t);
        let mut last: Option<std::io::Error> = None;
        let mut stream = None;
        for addr in details.addrs.iter() {
            let attempt = match budget {
                Some(t) => TcpStream::connect_timeout(addr, t),
                None => TcpStream::connect(addr),
            };
            match attempt {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(Error::Timeout(details.timeout.reason));
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = match stream {
            Some(s) => s,
            None => {
                return Err(Error::Io(last.unwrap_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::ConnectionRefused,
                        "no address to connect to",
                    )
                })));
            }
        };
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = Arc::new(stream);
        (details.register_shutdown)(Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>)?;
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(Either::B(QuickAckTransport {
            stream,
            buffers,
            read_timeout: None,
            write_timeout: None,
            quick_acks: QuickAcks::default(),
        })))
    }
}

/// Reads after each write that ask for immediate ACKs (see the module documentation).
const QUICK_ACK_READS: u32 = 64;

/// Which reads ask for immediate ACKs: the first [`QUICK_ACK_READS`] after a write (and
/// after connecting).
#[derive(Debug)]
struct QuickAcks {
    left: u32,
}

impl Default for QuickAcks {
    fn default() -> QuickAcks {
        QuickAcks {
            left: QUICK_ACK_READS,
        }
    }
}

impl QuickAcks {
    /// A request (or part of one) was sent: its answer is awaited.
    fn wrote(&mut self) {
        self.left = QUICK_ACK_READS;
    }

    /// A read is about to block: whether it asks for immediate ACKs.
    fn reading(&mut self) -> bool {
        let ask = self.left > 0;
        self.left = self.left.saturating_sub(1);
        ask
    }
}

/// A plain TCP transport (as ureq's own) that asks for immediate ACKs when it reads after
/// writing.
pub struct QuickAckTransport {
    /// Shared (weakly) with the agent's shutdown handle.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// The socket's current timeouts, so they are set only when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    quick_acks: QuickAcks,
}

impl std::fmt::Debug for QuickAckTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuickAckTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

/// The timeout to give the socket for `timeout`, or an error when it already ran out.
fn remaining(timeout: NextTimeout) -> Result<Option<Duration>, Error> {
    if timeout.after.is_zero() {
        return Err(Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|t| *t))
}

fn io_error(e: std::io::Error, timeout: &NextTimeout) -> Error {
    match e.kind() {
        ErrorKind::TimedOut | ErrorKind::WouldBlock => Error::Timeout(timeout.reason),
        _ => Error::Io(e),
    }
}

impl Transport for QuickAckTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        let limit = remaining(timeout)?;
        if limit != self.write_timeout {
            self.stream.set_write_timeout(limit)?;
            self.write_timeout = limit;
        }
        self.quick_acks.wrote();
        let output = &self.buffers.output()[..amount];
        (&*self.stream)
            .write_all(output)
            .map_err(|e| io_error(e, &timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let timeout = timeout.for_read();
        let limit = remaining(timeout)?;
        if limit != self.read_timeout {
            self.stream.set_read_timeout(limit)?;
            self.read_timeout = limit;
        }
        if self.quick_acks.reading() {
            quick_ack(&self.stream);
        }
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                Ok(n) => break n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e, &timeout)),
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// A kept-alive connection is reusable when nothing is waiting on it and it is not
    /// closed: a non-blocking read must find no bytes.
    fn is_open(&mut self) -> bool {
        let stream = &*self.stream;
        if stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut byte = [0u8; 1];
        let open =
            matches!((&*self.stream).read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock);
        open && stream.set_nonblocking(false).is_ok()
    }
}

#[cfg(target_os = "linux")]
fn quick_ack(socket: &TcpStream) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor owned by `socket`, a pointer to a live c_int and its
    // size; the call only sets an option and its result is deliberately ignored (a socket
    // that refuses it just keeps delayed ACKs).
    unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn quick_ack(_socket: &TcpStream) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reads_after_each_write_ask_for_immediate_acks() {
        let mut acks = QuickAcks::default();
        let asked =
            |acks: &mut QuickAcks, reads: u32| (0..reads).filter(|_| acks.reading()).count();
        // A fresh connection, then the body of a large answer: only the first reads ask.
        assert_eq!(asked(&mut acks, 1000), QUICK_ACK_READS as usize);
        // Each request starts the count again, however far the last answer went.
        acks.wrote();
        assert!(acks.reading());
        assert_eq!(asked(&mut acks, 1000), QUICK_ACK_READS as usize - 1);
        acks.wrote();
        acks.wrote();
        assert_eq!(asked(&mut acks, 10), 10);
    }
}
