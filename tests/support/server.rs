//! A real echo server on loopback for the adversarial tests: a [`wsio::Server`] whose
//! handler echoes whole messages and records how each connection ended.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wsio::{Config, Error, ServerStream, Upgrader};

pub struct Server {
    pub addr: SocketAddr,
    /// How each finished connection ended (the error that stopped it).
    pub ends: Arc<Mutex<Vec<String>>>,
    server: wsio::Server,
}

impl Server {
    pub fn start(config: Config) -> Server {
        Server::start_with(config, None)
    }

    /// Like `start`, and every echo must be written within `write_timeout`.
    pub fn start_with(config: Config, write_timeout: Option<Duration>) -> Server {
        let ends = Arc::new(Mutex::new(Vec::new()));
        let (failed, handled) = (Arc::clone(&ends), Arc::clone(&ends));
        let server = wsio::Server::builder()
            .upgrader(Upgrader::new().allow_any_origin().config(config))
            .on_error(move |e, _| failed.lock().unwrap().push(format!("handshake: {e}")))
            .bind("127.0.0.1:0")
            .unwrap()
            .start(move |conn| {
                let end = serve(conn, write_timeout);
                handled.lock().unwrap().push(end);
            })
            .unwrap();
        Server {
            addr: server.local_addrs()[0],
            ends,
            server,
        }
    }

    /// Connections live now: in their handshake or echoing.
    pub fn live(&self) -> usize {
        self.server.stats().live
    }

    /// Waits up to `limit` for the live connections to drop to `n`.
    pub fn wait_live(&self, n: usize, limit: Duration) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            if self.live() <= n {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.server.shutdown(Duration::from_secs(1));
    }
}

fn serve(mut conn: wsio::Conn<ServerStream>, write_timeout: Option<Duration>) -> String {
    let mut buf = Vec::new();
    loop {
        match conn.read_message_into(&mut buf) {
            Ok(kind) => {
                if let Some(timeout) = write_timeout
                    && let Err(e) = conn.set_write_deadline(Some(Instant::now() + timeout))
                {
                    return format!("deadline: {e}");
                }
                if let Err(e) = conn.write_message(kind, &buf) {
                    return format!("write: {e}");
                }
            }
            Err(Error::Closed(status)) => return format!("closed: {status}"),
            Err(e) => return format!("read: {e}"),
        }
    }
}

/// A raw TCP client that sends `request` then what the test wants.
pub fn raw_client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

pub const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// Completes a handshake on a raw client (optionally with extra header lines).
pub fn handshake(s: &mut TcpStream, extra: &str) {
    s.write_all(REQUEST).unwrap();
    s.write_all(extra.as_bytes()).unwrap();
    s.write_all(b"\r\n").unwrap();
    let head = read_head(s);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
}

/// Reads an HTTP head.
pub fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Reads server frames until a close frame, EOF or timeout; returns the close code if one
/// came (`Some(0)` for a close frame without a code).
pub fn close_code(s: &mut TcpStream) -> Option<u16> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 65536];
    loop {
        let mut at = 0;
        while let Ok(Some((header, n))) = wsio::frame::FrameHeader::parse(&buf[at..]) {
            let len = header.payload_len as usize;
            if buf.len() - at < n + len {
                break;
            }
            if header.opcode == wsio::frame::OpCode::Close {
                let p = &buf[at + n..at + n + len];
                return Some(if p.len() >= 2 {
                    u16::from_be_bytes([p[0], p[1]])
                } else {
                    0
                });
            }
            at += n + len;
        }
        buf.drain(..at);
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
