//! A load generator for WebSocket echo servers, the same client for every server (see
//! scripts/bench_conns.sh). It opens N connections to ws://ADDR/ in batches (each batch's
//! handshakes answered 101 with the right Sec-WebSocket-Accept before the next starts),
//! echoes one masked 128-byte binary message on each, then keeps exactly one message in
//! flight on every connection: a warm-up, then a measured window in which it counts the
//! echoes (each checked byte for byte). Non-blocking sockets on mio, one event loop per
//! thread; the frame is built once and nothing is allocated per message.
//!
//! With `--pid` it also reads the server's resident memory (VmRSS): before connecting, once
//! every connection is open and idle after its first echo ("up"), at the end of the
//! measured window ("busy"), and its peak (VmHWM) by then ("peak"); it reports each as growth
//! per connection from the first reading. It also reports the CPU (in cores) the server,
//! this client and the whole machine used in the measured window (the rest of the machine
//! should be quiet: the difference is what other processes took). It prints one line of
//! `key=value` on stdout; any error is printed and the exit status is 1.
//!
//!     load --addr 127.0.0.1:PORT --conns N [--pid PID] [--threads T] [--batch B]
//!          [--warmup SECS] [--seconds SECS] [--quiet SECS]
//!
//! `--quiet SECS` first waits up to SECS for a second in which the machine is all but idle.
//! Defaults: 1 thread, batches of 100, 1 s warm-up, 5 s measured, no wait.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

const PAYLOAD_LEN: usize = 128;
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// The key of RFC 6455's example, and the accept value it must get back.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &[u8] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// The echo: FIN and binary, unmasked, a 16-bit length, then the payload.
const REPLY_HEAD: [u8; 4] = [0x82, 126, 0, PAYLOAD_LEN as u8];
const REPLY_LEN: usize = REPLY_HEAD.len() + PAYLOAD_LEN;
/// How long a batch's handshakes, or the first echoes, may take.
const WAIT: Duration = Duration::from_secs(30);
const USAGE: &str = "load --addr 127.0.0.1:PORT --conns N [--pid PID] [--threads T] \
                     [--batch B] [--warmup SECS] [--seconds SECS] [--quiet SECS]";

type Res<T> = Result<T, String>;

/// The bytes every connection sends and expects, built once per thread.
struct Wire {
    request: Vec<u8>,
    frame: Vec<u8>,
    reply: Vec<u8>,
}

impl Wire {
    fn new(addr: SocketAddr) -> Wire {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .into_bytes();
        let payload: Vec<u8> = (0..PAYLOAD_LEN).map(|i| (i * 7 + 1) as u8).collect();
        let mut frame = vec![0x82, 0x80 | 126, 0, PAYLOAD_LEN as u8];
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        let mut reply = REPLY_HEAD.to_vec();
        reply.extend_from_slice(&payload);
        Wire {
            request,
            frame,
            reply,
        }
    }
}

#[derive(PartialEq)]
enum State {
    Connecting,
    Handshaking,
    Open,
}

/// What is being written, and how much of it is out.
enum Out {
    Nothing,
    Request(usize),
    Frame(usize),
}

/// What a read completed.
enum Done {
    Nothing,
    Handshake,
    Echo,
}

struct Conn {
    stream: TcpStream,
    state: State,
    out: Out,
    buf: [u8; 1024],
    len: usize,
    echoes: u64,
}

impl Conn {
    /// Writes what is pending, as far as the socket takes it.
    fn flush(&mut self, wire: &Wire) -> Res<()> {
        for _ in 0..16 {
            let (bytes, done) = match &mut self.out {
                Out::Nothing => return Ok(()),
                Out::Request(done) => (&wire.request, done),
                Out::Frame(done) => (&wire.frame, done),
            };
            match self.stream.write(&bytes[*done..]) {
                Ok(0) => return Err("the socket took no bytes".into()),
                Ok(n) if *done + n == bytes.len() => self.out = Out::Nothing,
                Ok(n) => *done += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("write: {e}")),
            }
        }
        Err("16 writes did not finish a message".into())
    }

    /// Reads what has arrived, up to one handshake response or one echo (with one message in
    /// flight nothing else may come, and nothing more arrives before we send again).
    fn read(&mut self, wire: &Wire) -> Res<Done> {
        for _ in 0..=self.buf.len() {
            if self.len == self.buf.len() {
                return Err("the handshake response is longer than 1 KiB".into());
            }
            match self.stream.read(&mut self.buf[self.len..]) {
                Ok(0) => return Err("the server closed the connection".into()),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Done::Nothing),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("read: {e}")),
            }
            let got = &self.buf[..self.len];
            match self.state {
                State::Connecting => return Err("bytes before the connection was up".into()),
                State::Handshaking => {
                    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = &got[..end];
                    if !head.starts_with(b"HTTP/1.1 101 ") || !head.windows(28).any(|w| w == ACCEPT)
                    {
                        let head = String::from_utf8_lossy(head);
                        return Err(format!("handshake refused: {head:?}"));
                    }
                    if self.len > end + 4 {
                        return Err("a frame came before any message was sent".into());
                    }
                    self.len = 0;
                    self.state = State::Open;
                    return Ok(Done::Handshake);
                }
                State::Open if got.len() < REPLY_LEN => continue,
                State::Open if got != wire.reply.as_slice() => {
                    let start = &got[..got.len().min(16)];
                    return Err(format!(
                        "expected the 128-byte echo, got {} bytes starting {start:02x?}",
                        got.len()
                    ));
                }
                State::Open => {
                    self.len = 0;
                    self.echoes += 1;
                    return Ok(Done::Echo);
                }
            }
        }
        Err("a read loop that did not end".into())
    }
}

/// One thread's event loop and its share of the connections.
struct Worker {
    addr: SocketAddr,
    wire: Wire,
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    open: usize,
    echoes: u64,
    /// Whether an echo is answered with the next message.
    resend: bool,
}

impl Worker {
    fn new(addr: SocketAddr) -> Res<Worker> {
        Ok(Worker {
            addr,
            wire: Wire::new(addr),
            poll: Poll::new().map_err(|e| format!("epoll: {e}"))?,
            events: Events::with_capacity(1024),
            conns: Vec::new(),
            open: 0,
            echoes: 0,
            resend: false,
        })
    }

    fn connect(&mut self) -> Res<()> {
        let mut stream = TcpStream::connect(self.addr).map_err(|e| format!("connect: {e}"))?;
        let token = Token(self.conns.len());
        self.poll
            .registry()
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .map_err(|e| format!("epoll: {e}"))?;
        self.conns.push(Conn {
            stream,
            state: State::Connecting,
            out: Out::Nothing,
            buf: [0; 1024],
            len: 0,
            echoes: 0,
        });
        Ok(())
    }

    /// Starts a message on every connection.
    fn send_all(&mut self) -> Res<()> {
        for (i, conn) in self.conns.iter_mut().enumerate() {
            conn.out = Out::Frame(0);
            conn.flush(&self.wire)
                .map_err(|e| format!("connection {i}: {e}"))?;
        }
        Ok(())
    }

    /// Waits up to `timeout` for events and handles them.
    fn turn(&mut self, timeout: Duration) -> Res<()> {
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(format!("epoll: {e}")),
        }
        for event in self.events.iter() {
            let i = event.token().0;
            let conn = &mut self.conns[i];
            let fail = |e: String| format!("connection {i}: {e}");
            if conn.state == State::Connecting {
                if !event.is_writable() {
                    continue;
                }
                if let Some(e) = conn.stream.take_error().map_err(|e| fail(e.to_string()))? {
                    return Err(fail(format!("connect: {e}")));
                }
                match conn.stream.peer_addr() {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::NotConnected => continue,
                    Err(e) => return Err(fail(format!("connect: {e}"))),
                }
                conn.stream
                    .set_nodelay(true)
                    .map_err(|e| fail(e.to_string()))?;
                conn.state = State::Handshaking;
                conn.out = Out::Request(0);
            }
            conn.flush(&self.wire).map_err(fail)?;
            if !event.is_readable() {
                continue;
            }
            match conn.read(&self.wire).map_err(fail)? {
                Done::Nothing => {}
                Done::Handshake => self.open += 1,
                Done::Echo => {
                    self.echoes += 1;
                    if self.resend {
                        conn.out = Out::Frame(0);
                        conn.flush(&self.wire).map_err(fail)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Handles events until `done` holds, for up to WAIT.
    fn wait(&mut self, what: &str, done: impl Fn(&Worker) -> bool) -> Res<()> {
        let deadline = Instant::now() + WAIT;
        loop {
            if done(self) {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "{what}: not done after {} s ({} connections open, {} echoes)",
                    WAIT.as_secs(),
                    self.open,
                    self.echoes
                ));
            }
            self.turn(deadline - now)?;
        }
    }

    /// Opens `n` connections, `batch` at a time, and echoes one message on each.
    fn open(&mut self, n: usize, batch: usize) -> Res<()> {
        while self.conns.len() < n {
            let target = (self.conns.len() + batch).min(n);
            while self.conns.len() < target {
                self.connect()?;
            }
            self.wait("handshakes", |w| w.open == target)?;
        }
        self.send_all()?;
        self.wait("the first echoes", |w| w.echoes == n as u64)
    }

    /// Keeps one message in flight on every connection until `end`; counts the echoes that
    /// arrive from `from` on. Returns each connection's count.
    fn run(&mut self, from: Instant, end: Instant) -> Res<Vec<u64>> {
        self.resend = true;
        self.send_all()?;
        let mut measuring = false;
        loop {
            let now = Instant::now();
            if now >= end {
                return Ok(self.conns.iter().map(|c| c.echoes).collect());
            }
            if !measuring && now >= from {
                measuring = true;
                for conn in &mut self.conns {
                    conn.echoes = 0;
                }
            }
            self.turn((if measuring { end } else { from }) - now)?;
        }
    }
}

/// The resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> Res<u64> {
    status_kib(pid, "VmRSS:")
}

/// A line of /proc/PID/status in KiB: VmRSS (resident now), VmHWM (the peak so far).
fn status_kib(pid: u32, key: &str) -> Res<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no {key} in /proc/{pid}/status"))
}

/// The CPU time `pid` has used (all its threads, user and system), in clock ticks.
fn cpu_ticks(pid: &str) -> Res<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map_err(|e| format!("/proc/{pid}/stat: {e}"))?;
    // The command name, in parentheses, may hold spaces: fields count from its end.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap_or(0)..].split(' ').collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (field(12), field(13)) {
        (Some(user), Some(system)) => Ok(user + system),
        _ => Err(format!("no CPU times in /proc/{pid}/stat")),
    }
}

/// The CPU time every core of the machine has spent busy (not idle, not waiting for I/O),
/// in clock ticks: with `cpu_ticks`, it shows what other processes took.
fn machine_ticks() -> Res<u64> {
    let stat = std::fs::read_to_string("/proc/stat").map_err(|e| format!("/proc/stat: {e}"))?;
    let line = stat.lines().next().unwrap_or("");
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    if !line.starts_with("cpu ") || ticks.len() < 8 {
        return Err("no cpu line in /proc/stat".into());
    }
    // user nice system idle iowait irq softirq steal: the busy ones, steal left out.
    Ok(ticks[..7].iter().sum::<u64>() - ticks[3] - ticks[4])
}

/// Clock ticks per second, as /proc counts them.
fn ticks_per_second() -> Res<f64> {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .map_err(|e| format!("getconf CLK_TCK: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|_| "getconf CLK_TCK printed no number".to_string())
}

/// The resident memory once it stops moving (or after 3 s).
fn settled_rss_kib(pid: u32) -> Res<u64> {
    let mut last = rss_kib(pid)?;
    for _ in 0..30 {
        thread::sleep(Duration::from_millis(100));
        let now = rss_kib(pid)?;
        if now == last {
            break;
        }
        last = now;
    }
    Ok(last)
}

struct Args {
    addr: SocketAddr,
    conns: usize,
    pid: Option<u32>,
    threads: usize,
    batch: usize,
    warmup: f64,
    seconds: f64,
    quiet: u64,
}

fn parse_args() -> Res<Args> {
    let mut args = Args {
        addr: SocketAddr::from(([127, 0, 0, 1], 9001)),
        conns: 0,
        pid: None,
        threads: 1,
        batch: 100,
        warmup: 1.0,
        seconds: 5.0,
        quiet: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |_| format!("bad value for {flag}: {value}");
        match flag.as_str() {
            "--addr" => args.addr = value.parse().map_err(|_| bad(()))?,
            "--conns" => args.conns = value.parse().map_err(|_| bad(()))?,
            "--pid" => args.pid = Some(value.parse().map_err(|_| bad(()))?),
            "--threads" => args.threads = value.parse().map_err(|_| bad(()))?,
            "--batch" => args.batch = value.parse().map_err(|_| bad(()))?,
            "--warmup" => args.warmup = value.parse().map_err(|_| bad(()))?,
            "--seconds" => args.seconds = value.parse().map_err(|_| bad(()))?,
            "--quiet" => args.quiet = value.parse().map_err(|_| bad(()))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let seconds_ok = args.seconds.is_finite() && args.seconds > 0.0;
    let warmup_ok = args.warmup.is_finite() && args.warmup >= 0.0;
    if args.conns == 0 || args.threads == 0 || args.batch == 0 || !seconds_ok || !warmup_ok {
        return Err("--conns, --threads, --batch and --seconds must be positive".into());
    }
    Ok(args)
}

/// Waits up to `limit` for a second in which the machine is all but idle (other processes
/// use under a quarter of a core), so that they take no CPU from the run.
fn wait_until_quiet(limit: Duration) -> Res<()> {
    if limit.is_zero() {
        return Ok(());
    }
    let ticks = ticks_per_second()?;
    let deadline = Instant::now() + limit;
    let mut said = false;
    while Instant::now() < deadline {
        let start = machine_ticks()?;
        thread::sleep(Duration::from_secs(1));
        let busy = (machine_ticks()? - start) as f64 / ticks;
        if busy < 0.25 {
            return Ok(());
        }
        if !said {
            eprintln!("load: other processes use {busy:.2} cores; waiting for a quiet second");
            said = true;
        }
    }
    eprintln!(
        "load: the machine was not quiet for {} s; measuring anyway",
        limit.as_secs()
    );
    Ok(())
}

/// Waits up to 10 s for the server to listen.
fn wait_for_server(addr: SocketAddr) -> Res<()> {
    for _ in 0..200 {
        if std::net::TcpStream::connect(addr).is_ok() {
            return Ok(());
        }
        thread::sleep(Duration::from_millis(50));
    }
    Err(format!("nothing listens on {addr}"))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("load: {e}\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    match load(&args) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("load: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load(args: &Args) -> Res<String> {
    wait_for_server(args.addr)?;
    wait_until_quiet(Duration::from_secs(args.quiet))?;
    let before = args.pid.map(settled_rss_kib).transpose()?;

    // Each thread opens its share and says so, then waits for the window.
    let started = Instant::now();
    let (ready_tx, ready_rx) = mpsc::channel::<Res<()>>();
    let mut workers = Vec::new();
    for t in 0..args.threads {
        let n = args.conns / args.threads + usize::from(t < args.conns % args.threads);
        let batch = args.batch.div_ceil(args.threads);
        let ready = ready_tx.clone();
        let (go_tx, go_rx) = mpsc::channel::<(Instant, Instant)>();
        let addr = args.addr;
        let handle = thread::spawn(move || -> Res<Vec<u64>> {
            // The main thread reports a failure to open; the thread just ends.
            let opened = Worker::new(addr).and_then(|mut w| w.open(n, batch).map(|()| w));
            let mut worker = match opened {
                Ok(worker) => worker,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return Ok(Vec::new());
                }
            };
            let _ = ready.send(Ok(()));
            let (from, end) = go_rx.recv().map_err(|_| "no start signal".to_string())?;
            worker.run(from, end)
        });
        workers.push((handle, go_tx));
    }
    drop(ready_tx);
    for _ in 0..args.threads {
        ready_rx
            .recv_timeout(Duration::from_secs(600))
            .map_err(|_| "a thread neither opened its connections nor failed".to_string())??;
    }
    eprintln!(
        "load: {} connections open, one echo each, in {:.1} s",
        args.conns,
        started.elapsed().as_secs_f64()
    );
    let up = args.pid.map(settled_rss_kib).transpose()?;

    let from = Instant::now() + Duration::from_secs_f64(args.warmup);
    let end = from + Duration::from_secs_f64(args.seconds);
    for (_, go) in &workers {
        go.send((from, end))
            .map_err(|_| "a thread is gone".to_string())?;
    }
    // The CPU both sides use in the measured window, and the server's memory at its end.
    let pid = args.pid.map_or("self".to_string(), |p| p.to_string());
    thread::sleep(from.saturating_duration_since(Instant::now()));
    let cpu_from = (cpu_ticks(&pid)?, cpu_ticks("self")?, machine_ticks()?);
    thread::sleep(end.saturating_duration_since(Instant::now() + Duration::from_millis(100)));
    let busy = args.pid.map(rss_kib).transpose()?;
    let peak = args.pid.map(|pid| status_kib(pid, "VmHWM:")).transpose()?;
    let cpu_end = (cpu_ticks(&pid)?, cpu_ticks("self")?, machine_ticks()?);
    let mut counts = Vec::with_capacity(args.conns);
    for (handle, _) in workers {
        counts.extend(
            handle
                .join()
                .map_err(|_| "a thread panicked".to_string())??,
        );
    }

    let total: u64 = counts.iter().sum();
    let mut line = format!(
        "conns={} msgs_per_sec={:.0} min_per_conn={} max_per_conn={}",
        args.conns,
        total as f64 / args.seconds,
        counts.iter().min().unwrap_or(&0),
        counts.iter().max().unwrap_or(&0),
    );
    let ticks = ticks_per_second()? * (args.seconds - 0.1);
    if args.pid.is_some() {
        let server = (cpu_end.0 - cpu_from.0) as f64 / ticks;
        line += &format!(" server_cpu={server:.2}");
    }
    let client = (cpu_end.1 - cpu_from.1) as f64 / ticks;
    let machine = (cpu_end.2 - cpu_from.2) as f64 / ticks;
    line += &format!(" client_cpu={client:.2} machine_cpu={machine:.2}");
    if let (Some(before), Some(up), Some(busy), Some(peak)) = (before, up, busy, peak) {
        let per_conn = |kib: u64| (kib as f64 - before as f64) * 1024.0 / args.conns as f64;
        line += &format!(
            " rss_start_kib={before} bytes_per_conn_up={:.0} bytes_per_conn_busy={:.0} \
             bytes_per_conn_peak={:.0}",
            per_conn(up),
            per_conn(busy),
            per_conn(peak)
        );
    }
    Ok(line)
}
