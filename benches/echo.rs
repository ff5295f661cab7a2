//! End-to-end: echo servers written as a user would (a thread per connection) for wsio and
//! for tungstenite, run side by side on loopback in one run, driven by the same cheap client,
//! on the same workloads. Prints each workload's median over several alternating rounds and
//! the ratio wsio / tungstenite (above 1 means wsio is better), and server heap measured with a
//! counting allocator that attributes allocations to server threads. Then the same over TLS:
//! wsio's `Upgrader::upgrade_tls` against tungstenite over `rustls::StreamOwned` (the stream
//! tungstenite's own TLS support uses), both with one rustls `ServerConfig` (ring provider,
//! a certificate for `localhost` from a CA made for the run), the client over
//! `rustls::StreamOwned` too.
//!
//! `cargo bench --bench echo` (add `-- --quick` for one round per workload, `-- --only TEXT`
//! for just the rows whose name contains TEXT, `-- --only TLS` for the TLS rows)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};
use wsio::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use wsio::rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
};

// ---------------------------------------------------------------------------------------
// Heap accounting for server threads.

struct Counting;

static SERVER_LIVE: AtomicIsize = AtomicIsize::new(0);
static SERVER_PEAK: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    static IS_SERVER: Cell<bool> = const { Cell::new(false) };
}

fn on_server() -> bool {
    IS_SERVER.try_with(Cell::get).unwrap_or(false)
}

fn count(delta: isize) {
    if on_server() {
        let live = SERVER_LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
        SERVER_PEAK.fetch_max(live, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to `System` unchanged; the bookkeeping only touches atomics
// and a const-initialized thread-local without a destructor.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            count(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

// ---------------------------------------------------------------------------------------
// The servers, as their users would write them.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Server {
    /// wsio on `wsio::Server`, whole messages into a reused buffer, batched writes.
    Wsio,
    /// wsio on `wsio::Server`, streamed through split halves as the echo example can.
    WsioSplit,
    /// wsio with an accept loop written by hand, as `Wsio` otherwise: what `wsio::Server`
    /// costs.
    WsioLoop,
    /// tungstenite: read, send.
    Tungstenite,
}

/// Every server, in the order the rows and ratios use.
const SERVERS: [Server; 4] = [
    Server::Wsio,
    Server::Tungstenite,
    Server::WsioSplit,
    Server::WsioLoop,
];

impl Server {
    fn name(self) -> &'static str {
        match self {
            Server::Wsio => "wsio",
            Server::WsioSplit => "wsio split",
            Server::WsioLoop => "wsio loop",
            Server::Tungstenite => "tungstenite",
        }
    }

    /// Whether it echoes a message back before the whole message is in.
    fn streams(self) -> bool {
        self == Server::WsioSplit
    }
}

/// What WebSocket runs over: TCP, or TLS over TCP.
#[derive(Clone)]
enum Transport {
    Tcp,
    Tls(Arc<Tls>),
}

impl Transport {
    /// Put before the name of each row.
    fn label(&self) -> &'static str {
        match self {
            Transport::Tcp => "",
            Transport::Tls(_) => "TLS ",
        }
    }

    fn is_tls(&self) -> bool {
        matches!(self, Transport::Tls(_))
    }

    /// Whether the client can read an echo while it writes the message: over TLS it cannot,
    /// since one rustls session is both directions' state.
    fn reads_while_writing(&self) -> bool {
        !self.is_tls()
    }
}

/// A certificate for `localhost` signed by a CA made for this run; one server config for
/// both libraries (wsio's acceptor is made from it, tungstenite's sessions too), and a client
/// config that trusts the CA; all with rustls's ring provider, as wsio's own configs. The
/// client resumes sessions (rustls's default) and the servers share the config's session
/// cache (256 entries), which is full long before the idle row: it adds nothing per
/// connection there.
struct Tls {
    server: Arc<ServerConfig>,
    acceptor: wsio::TlsAcceptor,
    client: Arc<ClientConfig>,
}

impl Tls {
    fn new() -> Tls {
        let named = |name: &str| {
            let mut params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, name);
            params
        };
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = named("wsio bench CA");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca.self_signed(&ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = named("localhost").signed_by(&key, &ca, &ca_key).unwrap();
        let provider = Arc::new(wsio::rustls::crypto::ring::default_provider());
        let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let server = Arc::new(server);
        let mut roots = RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Tls {
            acceptor: wsio::TlsAcceptor::new(Arc::clone(&server)),
            server,
            client: Arc::new(client),
        }
    }
}

fn batched() -> wsio::Config {
    wsio::Config::builder()
        .flush_policy(wsio::FlushPolicy::Batched)
        .build()
}

fn serve_wsio(stream: TcpStream, transport: &Transport) {
    let _ = stream.set_nodelay(true);
    let upgrader = wsio::Upgrader::new().config(batched());
    let _ = match transport {
        Transport::Tcp => upgrader.upgrade(stream).map(echo_wsio),
        Transport::Tls(tls) => upgrader.upgrade_tls(stream, &tls.acceptor).map(echo_wsio),
    };
}

fn echo_wsio<S: wsio::Stream>(mut conn: wsio::Conn<S>) {
    let mut buf = Vec::new();
    while let Ok(kind) = conn.read_message_into(&mut buf) {
        if conn.write_message(kind, &buf).is_err() {
            return;
        }
    }
}

fn echo_wsio_split<S: wsio::Stream + wsio::Split>(conn: wsio::Conn<S>) {
    let Ok((mut rx, mut tx)) = conn.split() else {
        return;
    };
    let mut buf = vec![0u8; 64 << 10];
    while let Ok((kind, mut reader)) = rx.next_reader() {
        let Ok(mut writer) = tx.next_writer(kind) else {
            return;
        };
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if writer.write_all(&buf[..n]).is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
        if writer.finish().is_err() {
            return;
        }
    }
}

fn serve_tungstenite(stream: TcpStream, transport: &Transport) {
    let _ = stream.set_nodelay(true);
    match transport {
        Transport::Tcp => echo_tungstenite(stream),
        Transport::Tls(tls) => {
            let Ok(session) = ServerConnection::new(Arc::clone(&tls.server)) else {
                return;
            };
            echo_tungstenite(StreamOwned::new(session, stream));
        }
    }
}

fn echo_tungstenite<S: Read + Write>(stream: S) {
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return;
    };
    while let Ok(message) = ws.read() {
        if (message.is_text() || message.is_binary()) && ws.send(message).is_err() {
            return;
        }
    }
}

/// A wsio server on `wsio::Server`, running for the rest of the process.
fn start_wsio_server<H>(transport: &Transport, handler: H) -> SocketAddr
where
    H: Fn(wsio::Conn<wsio::ServerStream>) + Send + Sync + 'static,
{
    let mut builder = wsio::Server::builder()
        .upgrader(wsio::Upgrader::new().config(batched()))
        .bind("127.0.0.1:0")
        .unwrap();
    if let Transport::Tls(tls) = transport {
        builder = builder.tls(tls.acceptor.clone());
    }
    let server = builder
        .start(move |conn| {
            // Heap from here on is the server's (the handshake's is not counted).
            IS_SERVER.with(|s| s.set(true));
            handler(conn);
        })
        .unwrap();
    let addr = server.local_addrs()[0];
    std::mem::forget(server);
    addr
}

fn start(server: Server, transport: &Transport) -> SocketAddr {
    match server {
        Server::Wsio => return start_wsio_server(transport, echo_wsio),
        Server::WsioSplit => return start_wsio_server(transport, echo_wsio_split),
        Server::WsioLoop | Server::Tungstenite => {}
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let transport = transport.clone();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let transport = transport.clone();
            thread::spawn(move || {
                IS_SERVER.with(|s| s.set(true));
                match server {
                    Server::WsioLoop => serve_wsio(stream, &transport),
                    Server::Tungstenite => serve_tungstenite(stream, &transport),
                    Server::Wsio | Server::WsioSplit => unreachable!("on wsio::Server"),
                }
            });
        }
    });
    addr
}

// ---------------------------------------------------------------------------------------
// The client: one for all servers, cheap: frames are built once, sends and receives are
// batched, and responses are only parsed enough to count them and check their size.

/// Frames larger than this are written by a helper thread while the client reads.
const LARGE_FRAME: usize = 1 << 20;

/// The client's end of a connection.
enum Wire {
    Tcp(TcpStream),
    /// Boxed: the session is large.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Wire {
    fn connect(addr: SocketAddr, transport: &Transport) -> Wire {
        let stream = TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        match transport {
            Transport::Tcp => Wire::Tcp(stream),
            Transport::Tls(tls) => {
                let name = "localhost".try_into().unwrap();
                let session = ClientConnection::new(Arc::clone(&tls.client), name).unwrap();
                Wire::Tls(Box::new(StreamOwned::new(session, stream)))
            }
        }
    }

    /// A second handle that writes while this one reads, where the transport has one.
    fn writer(&self) -> Option<TcpStream> {
        match self {
            Wire::Tcp(stream) => Some(stream.try_clone().unwrap()),
            Wire::Tls(_) => None,
        }
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Wire::Tcp(stream) => stream.read(buf),
            Wire::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Wire::Tcp(stream) => stream.write(buf),
            Wire::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Wire::Tcp(stream) => stream.flush(),
            Wire::Tls(stream) => stream.flush(),
        }
    }
}

struct Client {
    stream: Wire,
    /// Large frames are written by a helper thread, so that the client reads the echo while
    /// it writes (a streaming server answers before the message is all in); over TCP only.
    sender: Option<thread::JoinHandle<()>>,
    frame: Vec<u8>,
    payload_len: usize,
    buf: Vec<u8>,
    have: usize,
    /// Payload bytes of the fragmented echo being received.
    partial: usize,
}

impl Client {
    fn connect(addr: SocketAddr, transport: &Transport, payload_len: usize, text: bool) -> Client {
        let mut stream = Wire::connect(addr, transport);
        stream
            .write_all(
                format!(
                    "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                     Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                )
                .as_bytes(),
            )
            .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        assert!(head.starts_with(b"HTTP/1.1 101"));
        let payload: Vec<u8> = (0..payload_len).map(|i| b'a' + (i % 26) as u8).collect();
        let mut header = FrameHeader::new(
            if text { OpCode::Text } else { OpCode::Binary },
            true,
            payload_len as u64,
        );
        header.masking_key = Some([0x12, 0x34, 0x56, 0x78]);
        let mut bytes = [0u8; MAX_HEADER_LEN];
        let n = header.encode(&mut bytes);
        let mut frame = bytes[..n].to_vec();
        let start = frame.len();
        frame.extend_from_slice(&payload);
        wsio::mask::apply_mask(&mut frame[start..], [0x12, 0x34, 0x56, 0x78], 0);
        Client {
            stream,
            sender: None,
            frame,
            payload_len,
            buf: vec![0u8; (payload_len + 16).max(256 << 10)],
            have: 0,
            partial: 0,
        }
    }

    fn send(&mut self, count: usize) {
        if count == 0 {
            return;
        }
        if let Some(sender) = self.sender.take() {
            sender.join().unwrap();
        }
        let writer = if self.frame.len() > LARGE_FRAME {
            self.stream.writer()
        } else {
            None
        };
        if let Some(mut stream) = writer {
            let frame = self.frame.clone();
            self.sender = Some(thread::spawn(move || {
                for _ in 0..count {
                    stream.write_all(&frame).unwrap();
                }
            }));
        } else if count == 1 {
            self.stream.write_all(&self.frame).unwrap();
        } else {
            let batch = self.frame.repeat(count);
            self.stream.write_all(&batch).unwrap();
        }
    }

    /// Reads until at least one whole echo is in (an echo may come in several frames);
    /// returns how many arrived.
    fn receive(&mut self) -> usize {
        loop {
            let mut done = 0;
            let mut at = 0;
            while let Ok(Some((header, n))) = FrameHeader::parse(&self.buf[at..self.have]) {
                let len = header.payload_len as usize;
                if self.have - at < n + len {
                    break;
                }
                assert!(header.masking_key.is_none());
                self.partial += len;
                if header.fin {
                    assert_eq!(self.partial, self.payload_len, "echo length");
                    self.partial = 0;
                    done += 1;
                }
                at += n + len;
            }
            self.buf.copy_within(at..self.have, 0);
            self.have -= at;
            if done > 0 {
                return done;
            }
            let n = self.stream.read(&mut self.buf[self.have..]).unwrap();
            assert!(n > 0, "server closed");
            self.have += n;
        }
    }

    /// Sends `total` messages keeping `in_flight` outstanding.
    fn pipeline(&mut self, total: usize, in_flight: usize) {
        let first = in_flight.min(total);
        self.send(first);
        let (mut sent, mut received) = (first, 0);
        while received < total {
            let got = self.receive();
            received += got;
            let more = got.min(total - sent);
            self.send(more);
            sent += more;
        }
    }

    /// Round trips, one at a time; returns each one's time.
    fn ping_pong(&mut self, total: usize) -> Vec<Duration> {
        let mut times = Vec::with_capacity(total);
        for _ in 0..total {
            let t = Instant::now();
            self.send(1);
            assert_eq!(self.receive(), 1);
            times.push(t.elapsed());
        }
        times
    }
}

// ---------------------------------------------------------------------------------------
// Workloads.

struct Workload {
    name: &'static str,
    conns: usize,
    in_flight: usize,
    size: usize,
    text: bool,
    per_conn: usize,
    /// Also run over TLS.
    tls: bool,
}

const WORKLOADS: &[Workload] = &[
    Workload {
        name: "4 conns x 64 in flight x 16 B",
        conns: 4,
        in_flight: 64,
        size: 16,
        text: false,
        per_conn: 100_000,
        tls: true,
    },
    Workload {
        name: "4 conns x 16 in flight x 1 KiB binary",
        conns: 4,
        in_flight: 16,
        size: 1024,
        text: false,
        per_conn: 25_000,
        tls: true,
    },
    Workload {
        name: "4 conns x 16 in flight x 1 KiB text",
        conns: 4,
        in_flight: 16,
        size: 1024,
        text: true,
        per_conn: 25_000,
        tls: false,
    },
    Workload {
        name: "2 conns x 4 in flight x 64 KiB",
        conns: 2,
        in_flight: 4,
        size: 64 << 10,
        text: false,
        per_conn: 1_500,
        tls: true,
    },
    Workload {
        name: "1 conn x 1 in flight x 16 MiB",
        conns: 1,
        in_flight: 1,
        size: 16 << 20,
        text: false,
        per_conn: 6,
        tls: true,
    },
    Workload {
        name: "200 conns x 4 in flight x 128 B",
        conns: 200,
        in_flight: 4,
        size: 128,
        text: false,
        per_conn: 1_000,
        tls: true,
    },
];

/// Messages per second over `w` against `addr`, and the server's peak heap growth.
fn throughput(addr: SocketAddr, transport: &Transport, w: &Workload) -> (f64, isize) {
    // Let the previous workload's server threads finish, then count from before these
    // connections exist: the peak includes everything they allocate.
    thread::sleep(Duration::from_millis(100));
    let base = SERVER_LIVE.load(Ordering::Relaxed);
    SERVER_PEAK.store(base, Ordering::Relaxed);
    let barrier = Arc::new(Barrier::new(w.conns + 1));
    let clients: Vec<_> = (0..w.conns)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let (size, text, in_flight, total) = (w.size, w.text, w.in_flight, w.per_conn);
            let transport = transport.clone();
            thread::spawn(move || {
                let mut client = Client::connect(addr, &transport, size, text);
                client.pipeline(in_flight, in_flight); // warm up
                barrier.wait();
                client.pipeline(total, in_flight);
                barrier.wait();
                client
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    barrier.wait();
    let elapsed = started.elapsed();
    let peak = SERVER_PEAK.load(Ordering::Relaxed) - base;
    for c in clients {
        drop(c.join().unwrap());
    }
    ((w.conns * w.per_conn) as f64 / elapsed.as_secs_f64(), peak)
}

/// Server heap per idle connection: `n` connections, one message each, then idle.
fn heap_per_connection(addr: SocketAddr, transport: &Transport, n: usize) -> f64 {
    thread::sleep(Duration::from_millis(200));
    let before = SERVER_LIVE.load(Ordering::Relaxed);
    let mut clients: Vec<Client> = (0..n)
        .map(|_| Client::connect(addr, transport, 128, false))
        .collect();
    for c in &mut clients {
        c.pipeline(1, 1);
    }
    thread::sleep(Duration::from_millis(200));
    let after = SERVER_LIVE.load(Ordering::Relaxed);
    drop(clients);
    (after - before) as f64 / n as f64
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[xs.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The name of the latency row.
const LATENCY: &str = "1 conn ping-pong 16 B (latency)";

/// The servers of one transport, started.
struct Lane {
    transport: Transport,
    addrs: Vec<SocketAddr>,
}

impl Lane {
    fn start(transport: Transport) -> Lane {
        let addrs = SERVERS.iter().map(|&s| start(s, &transport)).collect();
        Lane { transport, addrs }
    }

    /// One connection, one 16-byte message at a time.
    fn latency(&self, rounds: usize) {
        let name = format!("{}{LATENCY}", self.transport.label());
        let width = 40 + self.transport.label().len();
        let mut lat = Vec::new();
        for (i, server) in SERVERS.iter().enumerate() {
            let mut all = Vec::new();
            for _ in 0..rounds {
                let mut client = Client::connect(self.addrs[i], &self.transport, 16, false);
                client.ping_pong(500);
                all.extend(client.ping_pong(10_000));
            }
            all.sort();
            lat.push((percentile(&all, 0.5), percentile(&all, 0.99)));
            println!(
                "{name:<width$} {:<12} p50 {:>8.1?} p99 {:>8.1?}",
                server.name(),
                lat[i].0,
                lat[i].1
            );
        }
        println!(
            "{:<width$} ratio p50 {:.2}x  p99 {:.2}x (tungstenite time / wsio time)\n",
            "",
            lat[1].0.as_secs_f64() / lat[0].0.as_secs_f64(),
            lat[1].1.as_secs_f64() / lat[0].1.as_secs_f64()
        );
    }

    fn throughput(&self, w: &Workload, rounds: usize) {
        let name = format!("{}{}", self.transport.label(), w.name);
        let width = 40 + self.transport.label().len();
        // A server that echoes while the message comes in needs a client that reads while it
        // writes, once a message no longer fits in the sockets' buffers.
        let runs = |server: Server| {
            !server.streams() || w.size <= LARGE_FRAME || self.transport.reads_while_writing()
        };
        let mut results = vec![Vec::new(); SERVERS.len()];
        let mut peaks = vec![0isize; SERVERS.len()];
        for round in 0..rounds {
            // Each round starts with a different server, so no server always goes first.
            for k in 0..SERVERS.len() {
                let i = (round + k) % SERVERS.len();
                if runs(SERVERS[i]) {
                    let (rate, peak) = throughput(self.addrs[i], &self.transport, w);
                    results[i].push(rate);
                    peaks[i] = peaks[i].max(peak);
                }
            }
        }
        let medians: Vec<f64> = results
            .into_iter()
            .map(|r| if r.is_empty() { f64::NAN } else { median(r) })
            .collect();
        for (i, server) in SERVERS.iter().enumerate() {
            if !runs(*server) {
                println!(
                    "{name:<width$} {:<12} not run: the TLS client cannot read while it writes",
                    server.name()
                );
                continue;
            }
            println!(
                "{name:<width$} {:<12} {:>12.0} msg/s {:>9.1} MB/s  server peak heap {:>8.2} MiB",
                server.name(),
                medians[i],
                medians[i] * w.size as f64 / 1e6,
                peaks[i] as f64 / (1 << 20) as f64
            );
        }
        let split = if medians[2].is_nan() {
            String::new()
        } else {
            format!("   split/unsplit {:.2}x", medians[2] / medians[0])
        };
        println!(
            "{:<width$} ratio wsio/tungstenite {:.2}x{split}   Server/hand loop {:.2}x\n",
            "",
            medians[0] / medians[1],
            medians[0] / medians[3],
        );
    }

    /// Server heap per idle connection, wsio's and tungstenite's. wsio's is measured on the
    /// hand-written loop, where the counting sees the handshake too (the connection is the
    /// same).
    fn idle_heap(&self) {
        let per = |i: usize| heap_per_connection(self.addrs[i], &self.transport, 200);
        let (w, t) = (per(3), per(1));
        println!(
            "server heap per idle {}connection (200 connections): wsio {w:.0} B, tungstenite {t:.0} B, ratio {:.1}x less",
            self.transport.label(),
            t / w
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    // `--only TEXT`: run just the rows whose name contains TEXT (for profiling).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wanted = |name: String| only.as_ref().is_none_or(|o| name.contains(o.as_str()));
    let rounds = if quick { 1 } else { 5 };
    let lanes = [
        Lane::start(Transport::Tcp),
        Lane::start(Transport::Tls(Arc::new(Tls::new()))),
    ];
    println!("wsio vs tungstenite, loopback, thread per connection, {rounds} rounds, medians");
    println!("(ratio above 1: wsio better; \"wsio\" and \"wsio split\" run on wsio::Server, whose");
    println!("peak heap leaves out each handshake's allocations: compare it with \"wsio loop\")\n");

    for lane in &lanes {
        let label = lane.transport.label();
        if lane.transport.is_tls() {
            println!(
                "over TLS 1.3 (rustls 0.23, ring): wsio's TlsStream vs tungstenite over rustls::StreamOwned\n"
            );
        }
        if wanted(format!("{label}{LATENCY}")) {
            lane.latency(rounds);
        }
        for w in WORKLOADS {
            if (w.tls || !lane.transport.is_tls()) && wanted(format!("{label}{}", w.name)) {
                lane.throughput(w, rounds);
            }
        }
    }

    if only.is_some() {
        return;
    }
    for lane in &lanes {
        lane.idle_heap();
    }
}
