//! Helpers shared by the integration tests: raw frames, handshaken pairs over the in-memory
//! pipe, and a parser for what a connection wrote.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wsio::testing::{PipeEnd, pipe};
use wsio::{Config, Conn, Dialer, Upgrader};

pub const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame with the given first byte's bits and payload, masked with `KEY` if `masked`.
pub fn raw_frame(opcode: OpCode, fin: bool, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut header = FrameHeader::new(opcode, fin, payload.len() as u64);
    if masked {
        header.masking_key = Some(KEY);
    }
    let mut head = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut head);
    let mut out = head[..n].to_vec();
    let start = out.len();
    out.extend_from_slice(payload);
    if masked {
        wsio::mask::apply_mask(&mut out[start..], KEY, 0);
    }
    out
}

/// A frame as a client sends it (masked).
pub fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    raw_frame(opcode, fin, payload, true)
}

/// A frame as a server sends it (unmasked).
pub fn server_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    raw_frame(opcode, fin, payload, false)
}

/// A close payload: code and reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// A parsed frame that a connection wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub header: FrameHeader,
    /// Unmasked payload.
    pub payload: Vec<u8>,
}

impl Frame {
    pub fn close_code(&self) -> Option<u16> {
        assert_eq!(self.header.opcode, OpCode::Close);
        (self.payload.len() >= 2).then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }
}

/// Parses whole frames from `bytes`; panics on trailing garbage.
pub fn parse_frames(mut bytes: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (header, n) = FrameHeader::parse(bytes)
            .expect("valid header")
            .expect("complete header");
        let len = header.payload_len as usize;
        let mut payload = bytes[n..n + len].to_vec();
        if let Some(key) = header.masking_key {
            wsio::mask::apply_mask(&mut payload, key, 0);
        }
        frames.push(Frame { header, payload });
        bytes = &bytes[n + len..];
    }
    frames
}

/// Everything written to `peer` so far, as frames.
pub fn frames_from(peer: &mut PipeEnd) -> Vec<Frame> {
    parse_frames(&peer.take_available())
}

/// A server `Conn` from a real handshake over the pipe, and the raw client end (with the
/// 101 response already consumed). The server reads one byte per read.
pub fn server_and_raw_client(config: Config) -> (Conn<PipeEnd>, PipeEnd) {
    server_and_raw_client_with(config, "")
}

/// As [`server_and_raw_client`], with extra request headers (each ending in CRLF).
pub fn server_and_raw_client_with(config: Config, extra_headers: &str) -> (Conn<PipeEnd>, PipeEnd) {
    let (mut client, mut server_end) = pipe();
    server_end.set_max_read(1);
    client
        .write_all(
            format!(
                "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra_headers}\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let conn = Upgrader::new().config(config).upgrade(server_end).unwrap();
    let response = client.take_available();
    assert!(
        response.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&response)
    );
    (conn, client)
}

/// Reads an HTTP request head byte by byte (leaving what follows it unread) and returns
/// its `Sec-WebSocket-Key`.
pub fn request_key(stream: &mut impl Read) -> std::io::Result<String> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte)?;
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    text.lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .map(str::to_owned)
        .ok_or_else(|| std::io::Error::other("no Sec-WebSocket-Key"))
}

/// The request a test client sends, blank line included.
pub const REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

/// A raw client on loopback that sends [`REQUEST`] and then only reads, until the server
/// closes; returns everything it read.
pub fn silent_peer(addr: std::net::SocketAddr) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(REQUEST).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    })
}

/// A client `Conn` from a real handshake over the pipe, and the raw server end (with the
/// request already consumed). The client reads one byte per read.
pub fn client_and_raw_server(config: Config) -> (Conn<PipeEnd>, PipeEnd) {
    let (mut client_end, mut server) = pipe();
    client_end.set_max_read(1);
    let answer = thread::spawn(move || {
        let key = request_key(&mut server).unwrap();
        write!(
            server,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            wsio::accept_key(key.as_bytes())
        )
        .unwrap();
        server
    });
    let (conn, response) = Dialer::new()
        .config(config)
        .handshake(client_end, "ws://example.com/chat")
        .unwrap();
    assert_eq!(response.status(), 101);
    (conn, answer.join().unwrap())
}

/// A client and a server `Conn` connected over the pipe, both reading one byte at a time.
pub fn conn_pair(config: Config) -> (Conn<PipeEnd>, Conn<PipeEnd>) {
    conn_pair_with(config.clone(), config)
}

/// As [`conn_pair`], with a configuration for each side.
pub fn conn_pair_with(
    client_config: Config,
    server_config: Config,
) -> (Conn<PipeEnd>, Conn<PipeEnd>) {
    let (mut client_end, mut server_end) = pipe();
    client_end.set_max_read(1);
    server_end.set_max_read(1);
    let server = thread::spawn(move || {
        Upgrader::new()
            .config(server_config)
            .upgrade(server_end)
            .unwrap()
    });
    let (client, _) = Dialer::new()
        .config(client_config)
        .handshake(client_end, "ws://example.com/")
        .unwrap();
    (client, server.join().unwrap())
}

/// Deterministic bytes for payloads.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Deterministic text of exactly `len` bytes, with multi-byte characters.
pub fn text(len: usize) -> String {
    let mut s = String::with_capacity(len);
    let alphabet = ['a', 'é', '€', '𝄞', 'z', ' '];
    let mut i = 0;
    while s.len() < len {
        let c = alphabet[i % alphabet.len()];
        if s.len() + c.len_utf8() > len {
            s.push('x');
        } else {
            s.push(c);
        }
        i += 1;
    }
    s
}

pub fn quick_config() -> Config {
    Config::builder()
        .close_timeout(Some(Duration::from_millis(500)))
        .handshake_timeout(Some(Duration::from_secs(5)))
        .build()
}
