//! Broadcast fan-out, side by side: the hub's `broadcast` example against Node's `ws` and
//! Python's `websockets` (asyncio) broadcast servers (scripts/bench_broadcast_node.js and
//! scripts/bench_broadcast_server.py), each its own process, in one run, with the same load
//! driver: this file.
//!
//! Each server is started twice. First, resident memory (VmRSS) per idle connection: with
//! none, then with 1,000 connected and idle, each once it settles. Then, on a fresh process,
//! for each message size (64 B, 4 KiB), 1,000 receivers and 1 sender connect (the sender
//! gets its own messages too, as every client). Warm-up messages go out until a few in a
//! row reach every connection (a server may register a connection a moment after its
//! handshake). Then the sender sends binary messages that carry their sequence number and
//! send time, with at most `--window` of them (16) sent and not yet at every connection, so
//! that no server buffers without bound and the hub never drops a receiver for being slow;
//! then a few more, one at a time. Measured: messages delivered per second (receivers x
//! messages / elapsed), and for each message the time from its send until the last
//! connection has it (p50, p99), with the window full and one at a time; the servers' CPU
//! time and context switches. Every message must reach every connection exactly once: a
//! loss, a duplicate, a connection closed by the server or a stall fails the run loudly.
//!
//! The driver runs on this thread alone: every socket is non-blocking on one poller (mio),
//! server frames are parsed in place, the sender masks its frames. It leaves the servers the
//! other core of a two-core machine; its own CPU use is printed next to theirs.
//!
//! With `--redis`, the hub across processes too, right after its own rows, in the same run
//! and with the same messages and window: a redis-server of its own on a free loopback port,
//! two broadcast processes on it (hub A and hub B, `--redis`), half the receivers on each and
//! the sender on A. A delivers to its own connections and publishes each message once; Redis
//! sends it to A (which ignores its own) and B, which delivers to its connections. Measured as
//! above, the time until the last connection of both processes has a message (and until the
//! last of each), against the hub in one process; and the bytes Redis read and wrote per
//! message, from its own counters (`INFO stats`: `total_net_input_bytes`,
//! `total_net_output_bytes`; `INFO commandstats`: PUBLISH calls, which must be one per
//! message), read over a plain TCP connection before and after the measured messages.
//!
//! ```text
//! cargo bench -p wsio-hub --bench broadcast -- [--node PATH] [--node-path DIR]
//!     [--python PATH] [--receivers N] [--window N] [--quick]
//!     [--redis] [--redis-server PATH]
//! ```
//!
//! `scripts/bench_broadcast.sh` installs Node's `ws` and Python's `websockets` and runs it
//! with both peers. `--node-path` is the `node_modules` directory holding `ws` (else
//! `NODE_PATH` from the environment); `--quick` sends a tenth of the messages;
//! `--redis-server` is the redis-server to start (else `WSIO_REDIS_SERVER` from the
//! environment, else `redis-server` on the `PATH`).

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mio::{Events, Interest, Poll, Token};
use wsio::frame::{FrameHeader, MAX_HEADER_LEN, OpCode};

type Result<T> = std::result::Result<T, String>;

const USAGE: &str = "cargo bench -p wsio-hub --bench broadcast -- [--node PATH] [--node-path DIR] \
                     [--python PATH] [--receivers N] [--window N] [--quick] \
                     [--redis] [--redis-server PATH]";

/// Message sizes, and how many messages each run sends.
const WORKLOADS: [(usize, usize); 2] = [(64, 2_000), (4096, 1_500)];

/// Messages sent one at a time after the measured ones, at most (and a tenth as many).
const SOLO: usize = 200;

/// Warm-up messages at most, one at a time, before the measured ones.
const WARMUP_MAX: usize = 100;
/// Warm-up ends after this many in a row reached every connection.
const WARMUP_GOOD: usize = 3;
/// How long a warm-up message may take to reach everyone before the next one goes.
const WARMUP_WAIT: Duration = Duration::from_millis(500);

/// Reads of one connection at most before the driver turns to the others.
const READS: usize = 16;

/// A run fails if no message arrives anywhere for this long.
const STALL: Duration = Duration::from_secs(15);
/// A run fails if it takes longer than this.
const RUN_LIMIT: Duration = Duration::from_secs(150);
/// How long a server may take to say it listens.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long a server may take to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long after the last message the driver keeps reading, for late duplicates.
const DRAIN: Duration = Duration::from_millis(300);

/// Bytes of every payload the driver writes and checks: the sequence number and the send
/// time first, the sequence number again last.
const STAMP: usize = 24;

/// File descriptors the driver wants: its own connections (1,001, or 1,000 idle ones), the
/// servers' (they inherit the limit), and some to spare.
const FD_MARGIN: u64 = 256;

// ---------------------------------------------------------------------------------------
// Arguments.

struct Args {
    node: Option<PathBuf>,
    node_path: Option<String>,
    python: Option<PathBuf>,
    receivers: usize,
    window: usize,
    quick: bool,
    /// The hub across two processes on one Redis, too.
    redis: bool,
    redis_server: PathBuf,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        node: None,
        node_path: std::env::var("NODE_PATH").ok().filter(|p| !p.is_empty()),
        python: None,
        receivers: 1000,
        window: 16,
        quick: false,
        redis: false,
        redis_server: std::env::var_os("WSIO_REDIS_SERVER")
            .filter(|p| !p.is_empty())
            .map_or_else(|| PathBuf::from("redis-server"), PathBuf::from),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--node" => args.node = Some(PathBuf::from(value()?)),
            "--node-path" => args.node_path = Some(value()?),
            "--python" => args.python = Some(PathBuf::from(value()?)),
            "--receivers" => args.receivers = number(&value()?)?,
            "--window" => args.window = number(&value()?)?,
            "--quick" => args.quick = true,
            "--redis" => args.redis = true,
            "--redis-server" => args.redis_server = PathBuf::from(value()?),
            // cargo bench passes it to every bench.
            "--bench" => {}
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(args)
}

fn number(text: &str) -> Result<usize> {
    match text.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text} is not a positive number")),
    }
}

// ---------------------------------------------------------------------------------------
// Clocks and /proc.

/// Nanoseconds since the driver started: the send times in payloads, the receive times.
fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("cannot read /proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or(format!("no VmRSS in /proc/{pid}/status"))
}

/// Resident memory once it stops moving: five samples 200 ms apart within 1% (or 256 KiB)
/// of each other, for at most 15 s (then the last sample, and `false`).
fn settled_rss_kib(pid: u32) -> Result<(u64, bool)> {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut samples: Vec<u64> = Vec::new();
    loop {
        samples.push(rss_kib(pid)?);
        if let Some(last) = samples.last_chunk::<5>() {
            let (lo, hi) = (last.iter().min().unwrap(), last.iter().max().unwrap());
            if hi - lo <= (hi / 100).max(256) {
                return Ok((*hi, true));
            }
        }
        if Instant::now() >= deadline {
            return Ok((*samples.last().unwrap(), false));
        }
        thread::sleep(Duration::from_millis(200));
    }
}

/// CPU time (user and system, all threads) of a process, or of the driver with `None`.
fn cpu_time(pid: Option<u32>) -> Result<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_owned(),
    };
    let stat = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    // After the command name in parentheses: state is field 3, utime 14, stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    match (ticks(11), ticks(12)) {
        // Linux reports these in USER_HZ, which is 100 on every architecture.
        (Some(user), Some(system)) => Ok(Duration::from_millis((user + system) * 10)),
        _ => Err(format!("cannot parse {path}")),
    }
}

/// Context switches (voluntary and not) of all the threads of a process.
fn context_switches(pid: u32) -> Result<u64> {
    let dir = format!("/proc/{pid}/task");
    let tasks = std::fs::read_dir(&dir).map_err(|e| format!("cannot read {dir}: {e}"))?;
    let mut total = 0;
    for task in tasks.flatten() {
        // A thread may end while we look.
        let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
            continue;
        };
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(total)
}

/// Checks that the soft limit on open files covers what the run needs (the servers,
/// started after, inherit it); scripts/bench_broadcast.sh raises it before the run.
fn raise_fd_limit(need: u64) -> Result<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits")
        .map_err(|e| format!("cannot read /proc/self/limits: {e}"))?;
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or("no open file limit in /proc/self/limits")?;
    if soft < need {
        return Err(format!(
            "the run needs {need} open files and the limit is {soft}: run it with \
             `ulimit -n {need}` first (scripts/bench_broadcast.sh does)"
        ));
    }
    Ok(soft)
}

// ---------------------------------------------------------------------------------------
// The servers, each its own process.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Hub,
    Node,
    Python,
    /// The redis-server under the hubs of the cross-process runs.
    Redis,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Hub => "hub",
            Kind::Node => "node ws",
            Kind::Python => "python websockets",
            Kind::Redis => "redis-server",
        }
    }

    /// What it prints once it accepts connections.
    fn ready(self) -> &'static str {
        match self {
            Kind::Redis => "Ready to accept connections",
            _ => "listening",
        }
    }
}

/// How to start each server.
struct Launcher {
    root: PathBuf,
    hub: PathBuf,
    node: Option<(PathBuf, Option<String>)>,
    python: Option<PathBuf>,
    redis_server: PathBuf,
}

impl Launcher {
    fn kinds(&self) -> Vec<Kind> {
        let mut kinds = vec![Kind::Hub];
        if self.node.is_some() {
            kinds.push(Kind::Node);
        }
        if self.python.is_some() {
            kinds.push(Kind::Python);
        }
        kinds
    }

    fn start(&self, kind: Kind) -> Result<Running> {
        self.start_as(kind, kind.name(), None)
    }

    /// A hub process named `name` (for the errors) on the Redis at `url`.
    fn start_hub_on_redis(&self, name: &str, url: &str) -> Result<Running> {
        self.start_as(Kind::Hub, name, Some(url))
    }

    fn start_as(&self, kind: Kind, name: &str, redis: Option<&str>) -> Result<Running> {
        let port = free_port()?;
        let mut command = match kind {
            Kind::Hub => {
                let mut c = Command::new(&self.hub);
                c.arg("--addr").arg(format!("127.0.0.1:{port}"));
                if let Some(url) = redis {
                    c.arg("--redis").arg(url);
                }
                c
            }
            Kind::Redis => {
                // No persistence: nothing to write, nothing to load; the log to stdout.
                let mut c = Command::new(&self.redis_server);
                c.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
                    .args(["--daemonize", "no", "--logfile", ""]);
                c
            }
            Kind::Node => {
                let (node, node_path) = self.node.as_ref().expect("node was given");
                let mut c = Command::new(node);
                c.arg(self.root.join("scripts/bench_broadcast_node.js"))
                    .arg("--port")
                    .arg(port.to_string());
                if let Some(path) = node_path {
                    c.env("NODE_PATH", path);
                }
                c
            }
            Kind::Python => {
                let mut c = Command::new(self.python.as_ref().expect("python was given"));
                c.arg(self.root.join("scripts/bench_broadcast_server.py"))
                    .arg("--port")
                    .arg(port.to_string());
                c
            }
        };
        command.current_dir(&self.root);
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        Running::start(kind, name, command, addr)
    }
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

/// A started server. Dropping it stops it: SIGTERM, then SIGKILL after a grace period.
struct Running {
    /// What errors call it: the kind's name, or hub A and hub B.
    name: String,
    child: Child,
    addr: SocketAddr,
    /// The tail of what it printed, for errors.
    log: Arc<Mutex<String>>,
}

impl Running {
    fn start(kind: Kind, name: &str, mut command: Command, addr: SocketAddr) -> Result<Running> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e} ({command:?})"))?;
        let log = Arc::new(Mutex::new(String::new()));
        let (lines, listening) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped");
        let stderr = child.stderr.take().expect("piped");
        {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(io::Result::ok) {
                    keep(&log, &line);
                    let _ = lines.send(line);
                }
            });
        }
        {
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(io::Result::ok) {
                    keep(&log, &line);
                }
            });
        }
        let mut server = Running {
            name: name.to_owned(),
            child,
            addr,
            log,
        };
        let deadline = Instant::now() + START_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match listening.recv_timeout(left) {
                Ok(line) if line.contains(kind.ready()) => break,
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    thread::sleep(Duration::from_millis(200));
                    return Err(server.trouble("exited before it listened"));
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(
                        server.trouble(&format!("did not say {:?} within 30 s", kind.ready()))
                    );
                }
            }
        }
        // Something may print "listening" before it accepts: make sure it does.
        TcpStream::connect_timeout(&addr, Duration::from_secs(10))
            .map_err(|e| server.trouble(&format!("said it listens but refused: {e}")))?;
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// An error about this server, with whether it still runs and what it printed last.
    fn trouble(&mut self, what: &str) -> String {
        let state = self.state();
        format!("{} (pid {}): {what}; {state}", self.name, self.pid())
    }

    /// Whether it still runs, and what it printed last.
    fn state(&mut self) -> String {
        let state = match self.exited() {
            Some(status) => format!("it exited ({status})"),
            None => "it is still running".to_owned(),
        };
        let log = self.log.lock().unwrap_or_else(PoisonError::into_inner);
        let log = if log.is_empty() {
            String::new()
        } else {
            format!("; its output ends with:\n{log}")
        };
        format!("{state}{log}")
    }

    fn stop(&mut self) {
        if self.exited().is_some() {
            return;
        }
        // Our child, not yet reaped (just checked): the pid names no other process.
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "{} did not stop within {STOP_GRACE:?} of SIGTERM: killed",
            self.name
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An error about the servers of a run: about the one, or the error and then how each is.
fn trouble(servers: &mut [Running], what: &str) -> String {
    if let [server] = servers {
        return server.trouble(what);
    }
    let mut text = what.to_owned();
    for server in servers {
        let state = server.state();
        text.push_str(&format!(
            "\n  {} (pid {}): {state}",
            server.name,
            server.pid()
        ));
    }
    text
}

/// Keeps the last few KiB of a server's output.
fn keep(log: &Mutex<String>, line: &str) {
    let mut log = log.lock().unwrap_or_else(PoisonError::into_inner);
    log.push_str(line);
    log.push('\n');
    if log.len() > 4096 {
        let mut cut = log.len() - 4096;
        while !log.is_char_boundary(cut) {
            cut += 1;
        }
        log.drain(..cut);
    }
}

/// Builds the hub's broadcast example, optimized, and returns its path.
fn build_hub(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!(
        "building the hub's broadcast example (cargo build --release -p wsio-hub --example broadcast)"
    );
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "wsio-hub",
            "--example",
            "broadcast",
        ])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err(format!("building the broadcast example failed ({status})"));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_relative() { root.join(t) } else { t })
        .unwrap_or_else(|| root.join("target"));
    let hub = target.join("release/examples/broadcast");
    if !hub.is_file() {
        return Err(format!("built, but {} is not there", hub.display()));
    }
    Ok(hub)
}

// ---------------------------------------------------------------------------------------
// Redis's own counters, over a plain TCP connection.

/// The channel every hub process publishes to and subscribes to (`RedisExchange`'s default
/// prefix).
const CHANNEL: &str = "wsio-hub:all";

/// What Redis has counted since it started.
struct RedisCounters {
    /// Bytes read from and written to its clients (`total_net_input_bytes`,
    /// `total_net_output_bytes`).
    input: u64,
    output: u64,
    /// PUBLISH calls (`cmdstat_publish`).
    publishes: u64,
    /// Subscribers to `CHANNEL` now (`PUBSUB NUMSUB`).
    subscribers: u64,
    /// Clients connected now (`connected_clients`).
    clients: u64,
}

/// Reads Redis's counters on a connection of its own: three commands in one write, three
/// replies.
fn redis_counters(addr: SocketAddr) -> Result<RedisCounters> {
    let fail = |e: &dyn std::fmt::Display| format!("reading Redis's counters at {addr}: {e}");
    let mut stream =
        TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| fail(&e))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(5))))
        .map_err(|e| fail(&e))?;
    stream
        .write_all(
            format!(
                "INFO stats\r\nINFO commandstats\r\nPUBSUB NUMSUB {CHANNEL}\r\nINFO clients\r\n"
            )
            .as_bytes(),
        )
        .map_err(|e| fail(&e))?;
    let mut buf = Vec::with_capacity(16 << 10);
    let mut chunk = [0u8; 8192];
    let mut replies = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while replies.len() < 4 {
        match resp(&buf).map_err(|e| fail(&e))? {
            Some((reply, used)) => {
                replies.push(reply);
                buf.drain(..used);
                continue;
            }
            None if buf.len() > 1 << 20 || Instant::now() > deadline => {
                return Err(fail(&"no whole reply in 1 MiB or 5 s"));
            }
            None => {}
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(fail(&"closed before its replies")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(fail(&e)),
        }
    }
    let text = |reply: &Resp| match reply {
        Resp::Bulk(bytes) => Ok(String::from_utf8_lossy(bytes).into_owned()),
        other => Err(fail(&format!("expected a bulk string, got {other:?}"))),
    };
    let (stats, commands, clients) = (text(&replies[0])?, text(&replies[1])?, text(&replies[3])?);
    let field = |info: &str, name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    let input = field(&stats, "total_net_input_bytes");
    let output = field(&stats, "total_net_output_bytes");
    let clients = field(&clients, "connected_clients");
    // cmdstat_publish:calls=N,usec=..., absent before the first PUBLISH.
    let publishes = match commands
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_publish:"))
    {
        Some(rest) => rest
            .split(',')
            .find_map(|kv| kv.strip_prefix("calls="))
            .and_then(|n| n.parse::<u64>().ok()),
        None => Some(0),
    };
    // [channel, count]
    let subscribers = match &replies[2] {
        Resp::Array(items) => match items.as_slice() {
            [_, Resp::Integer(n)] => u64::try_from(*n).ok(),
            _ => None,
        },
        _ => None,
    };
    match (input, output, publishes, subscribers, clients) {
        (Some(input), Some(output), Some(publishes), Some(subscribers), Some(clients)) => {
            Ok(RedisCounters {
                input,
                output,
                publishes,
                subscribers,
                clients,
            })
        }
        _ => Err(fail(&format!(
            "missing counters in {stats:?} {commands:?} {:?} {clients:?}",
            replies[2]
        ))),
    }
}

/// A Redis reply (RESP2), as far as `redis_counters` needs them.
#[derive(Debug)]
enum Resp {
    Integer(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Resp>),
}

/// One whole reply at the start of `buf` and the bytes it took, `None` if it is not all
/// there yet, an error for what Redis answered with an error or not in RESP.
fn resp(buf: &[u8]) -> Result<Option<(Resp, usize)>> {
    let Some(eol) = buf.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = String::from_utf8_lossy(&buf[1..eol]).into_owned();
    let after = eol + 2;
    let number = || {
        line.parse::<i64>()
            .map_err(|_| format!("a bad length or integer in a reply: {line:?}"))
    };
    match buf.first() {
        Some(b'+') => Ok(Some((Resp::Bulk(line.into_bytes()), after))),
        Some(b'-') => Err(format!("Redis answered with an error: {line}")),
        Some(b':') => Ok(Some((Resp::Integer(number()?), after))),
        Some(b'$') => {
            let len = number()?;
            if len < 0 {
                return Ok(Some((Resp::Nil, after)));
            }
            let end = after + len as usize;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            Ok(Some((Resp::Bulk(buf[after..end].to_vec()), end + 2)))
        }
        Some(b'*') => {
            let n = number()?;
            let mut items = Vec::new();
            let mut at = after;
            for _ in 0..n.max(0) {
                match resp(&buf[at..])? {
                    Some((item, used)) => {
                        items.push(item);
                        at += used;
                    }
                    None => return Ok(None),
                }
            }
            Ok(Some((Resp::Array(items), at)))
        }
        _ => Err(format!(
            "not a RESP reply: {:?}",
            String::from_utf8_lossy(&buf[..eol])
        )),
    }
}

/// What Redis read and wrote for the measured messages of a run across processes.
struct RedisTraffic {
    messages: usize,
    publishes: u64,
    subscribers: u64,
    /// Bytes per message it read (the PUBLISH commands) and wrote (each message to each
    /// subscriber, and the PUBLISH replies), without what reading the counters cost.
    input: f64,
    output: f64,
    /// What one reading of the counters cost, in and out, subtracted from the above.
    reading: (u64, u64),
}

impl RedisTraffic {
    /// From the counters read twice before the messages (nothing in between) and once
    /// after: reading them costs what the first two differ by (the second read's command
    /// in, the first read's replies out), and the last delta holds one such cost too.
    fn new(
        first: &RedisCounters,
        second: &RedisCounters,
        after: &RedisCounters,
        messages: usize,
    ) -> RedisTraffic {
        let reading = (
            second.input.saturating_sub(first.input),
            second.output.saturating_sub(first.output),
        );
        let per_message = |from: u64, to: u64, cost: u64| {
            to.saturating_sub(from).saturating_sub(cost) as f64 / messages as f64
        };
        RedisTraffic {
            messages,
            publishes: after.publishes.saturating_sub(second.publishes),
            subscribers: after.subscribers,
            input: per_message(second.input, after.input, reading.0),
            output: per_message(second.output, after.output, reading.1),
            reading,
        }
    }
}

/// For a run across processes that failed: what Redis counted during it.
fn redis_report(addr: SocketAddr, start: &RedisCounters, load: &Load) -> String {
    match redis_counters(addr) {
        Ok(now) => format!(
            "Redis during this run: {} PUBLISH calls for the {} messages the sender sent \
             (warm-up included; one each expected); now {} subscribers to {CHANNEL} and {} \
             clients; {} bytes read and {} written",
            now.publishes.saturating_sub(start.publishes),
            load.sends,
            now.subscribers,
            now.clients,
            now.input.saturating_sub(start.input),
            now.output.saturating_sub(start.output)
        ),
        Err(e) => format!("Redis after this run: {e}"),
    }
}

// ---------------------------------------------------------------------------------------
// Connections: the handshake by hand, then non-blocking on the poller.

/// Connects and upgrades; the stream (blocking) and whatever came after the response.
fn handshake(addr: SocketAddr) -> Result<(TcpStream, Vec<u8>)> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| format!("handshake with {addr}: {what}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| fail("connect", &e))?;
    stream.set_nodelay(true).map_err(|e| fail("nodelay", &e))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .and_then(|()| stream.set_write_timeout(Some(Duration::from_secs(10))))
        .map_err(|e| fail("timeouts", &e))?;
    let key = BASE64.encode(rand::random::<[u8; 16]>());
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| fail("write", &e))?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(10);
    let end = loop {
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if buf.len() > 16 << 10 || Instant::now() > deadline {
            return Err(fail("response", &"no end of headers in 16 KiB or 10 s"));
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Err(fail("response", &"closed before the response")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(fail("read", &e)),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(fail("response", &status));
    }
    let mut accepted = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "sec-websocket-accept" => accepted = value == wsio::accept_key(key.as_bytes()),
            "sec-websocket-extensions" | "sec-websocket-protocol" => {
                return Err(fail("response", &format!("unasked for {line}")));
            }
            _ => {}
        }
    }
    if !accepted {
        return Err(fail("response", &"no valid Sec-WebSocket-Accept"));
    }
    Ok((stream, buf[end..].to_vec()))
}

/// A masked frame from the client, appended to `out`.
fn client_frame(out: &mut Vec<u8>, opcode: OpCode, payload: &[u8], key: [u8; 4]) {
    let mut header = FrameHeader::new(opcode, true, payload.len() as u64);
    header.masking_key = Some(key);
    let mut bytes = [0u8; MAX_HEADER_LEN];
    let n = header.encode(&mut bytes);
    out.extend_from_slice(&bytes[..n]);
    let start = out.len();
    out.extend_from_slice(payload);
    wsio::mask::apply_mask(&mut out[start..], key, 0);
}

/// Sends a close frame and drops the connection, without waiting for the answer.
fn close(mut stream: impl Write) {
    let mut frame = Vec::new();
    client_frame(
        &mut frame,
        OpCode::Close,
        &1000u16.to_be_bytes(),
        rand::random(),
    );
    let _ = stream.write(&frame);
}

/// One client of a load run, on the poller.
struct Peer {
    stream: mio::net::TcpStream,
    /// Bytes read and not parsed yet: `buf[..have]`.
    buf: Vec<u8>,
    have: usize,
    /// Bytes to write that the socket did not take yet.
    out: Vec<u8>,
    /// Whether the poller watches it for writability (while `out` is not empty).
    watching_writes: bool,
    /// Which sequence numbers it got.
    seen: Vec<u64>,
    /// The highest sequence number it got, plus one.
    next: usize,
    /// Which target (server process) it is connected to.
    group: usize,
}

/// Where the connections of a load run go: this many receivers to each server; the sender
/// to the first.
struct Target {
    name: String,
    addr: SocketAddr,
    receivers: usize,
}

/// The times until the last connection of one target has a message.
struct GroupTimes {
    name: String,
    /// Its connections, the sender's included.
    connections: usize,
    p50: Duration,
    p99: Duration,
    solo_p50: Duration,
    solo_p99: Duration,
}

/// What a load run found.
struct LoadResult {
    /// Messages delivered to receivers per second.
    rate: f64,
    /// Send to the last delivery, with the window full.
    p50: Duration,
    p99: Duration,
    /// Send to the last delivery, one message at a time.
    solo_p50: Duration,
    solo_p99: Duration,
    elapsed: Duration,
    /// CPU time over elapsed time.
    server_cpu: f64,
    driver_cpu: f64,
    /// The server's CPU time and context switches per delivery.
    server_us: f64,
    switches: f64,
    warmups: usize,
    reordered: usize,
    /// Per server process: its CPU time over elapsed time.
    cpu_each: Vec<f64>,
    /// Per target: the times until its last connection has a message.
    groups: Vec<GroupTimes>,
    /// What Redis read and wrote, in a run across processes.
    redis: Option<RedisTraffic>,
}

/// The state of a load run: every connection, and every message's deliveries.
struct Load {
    poll: Poll,
    peers: Vec<Peer>,
    /// The sender's index in `peers`: the last, after the receivers.
    sender: usize,
    receivers: usize,
    size: usize,
    /// Per sequence number: how many connections have it, when it was sent (from the
    /// payload), when the last connection got it.
    delivered: Vec<u32>,
    sent_ns: Vec<u64>,
    last_ns: Vec<u64>,
    /// Measured messages (sequence numbers from `WARMUP_MAX` on) every connection has.
    completed: usize,
    /// The sequence numbers sent are below this.
    sent: usize,
    /// Messages sent, warm-up included.
    sends: usize,
    /// Connections that may have more to read, for the next pump.
    unfinished: Vec<usize>,
    /// Deliveries of all messages, for stall detection.
    deliveries: u64,
    duplicates: usize,
    reordered: usize,
    /// Per target: its name, its connections, when its last connection got each message,
    /// the duplicates its connections got.
    group_names: Vec<String>,
    group_sizes: Vec<u32>,
    group_last_ns: Vec<Vec<u64>>,
    group_duplicates: Vec<usize>,
    /// The masking key for the next frame (xorshift).
    mask: u32,
}

impl Load {
    fn connect(targets: &[Target], size: usize, total: usize) -> Result<Load> {
        if size < STAMP {
            return Err(format!(
                "messages of {size} bytes cannot carry their {STAMP}-byte stamp"
            ));
        }
        let receivers: usize = targets.iter().map(|t| t.receivers).sum();
        // Each target's receivers in turn, then the sender, on the first.
        let places: Vec<usize> = (0..targets.len())
            .flat_map(|g| std::iter::repeat_n(g, targets[g].receivers))
            .chain([0])
            .collect();
        let mut group_sizes = vec![0u32; targets.len()];
        for &g in &places {
            group_sizes[g] += 1;
        }
        let poll = Poll::new().map_err(|e| format!("cannot make a poller: {e}"))?;
        let mut peers = Vec::with_capacity(receivers + 1);
        for (i, &group) in places.iter().enumerate() {
            let addr = targets[group].addr;
            let (stream, rest) = handshake(addr).map_err(|e| format!("connection {i}: {e}"))?;
            stream
                .set_nonblocking(true)
                .map_err(|e| format!("nonblocking: {e}"))?;
            let mut stream = mio::net::TcpStream::from_std(stream);
            poll.registry()
                .register(&mut stream, Token(i), Interest::READABLE)
                .map_err(|e| format!("cannot register connection {i}: {e}"))?;
            let mut buf = vec![0u8; (64 << 10).max(4 * (size + MAX_HEADER_LEN))];
            buf[..rest.len()].copy_from_slice(&rest);
            peers.push(Peer {
                stream,
                buf,
                have: rest.len(),
                out: Vec::new(),
                watching_writes: false,
                seen: vec![0; total.div_ceil(64)],
                next: 0,
                group,
            });
        }
        let mut load = Load {
            poll,
            peers,
            sender: receivers,
            receivers,
            size,
            delivered: vec![0; total],
            sent_ns: vec![0; total],
            last_ns: vec![0; total],
            completed: 0,
            sent: 0,
            sends: 0,
            unfinished: Vec::new(),
            deliveries: 0,
            duplicates: 0,
            reordered: 0,
            group_names: targets.iter().map(|t| t.name.clone()).collect(),
            group_sizes,
            group_last_ns: vec![vec![0; total]; targets.len()],
            group_duplicates: vec![0; targets.len()],
            mask: rand::random::<u32>() | 1,
        };
        // Frames may have come with the handshake responses.
        for i in 0..load.peers.len() {
            load.parse(i, now_ns())?;
        }
        Ok(load)
    }

    fn connections(&self) -> u32 {
        self.peers.len() as u32
    }

    fn next_mask(&mut self) -> [u8; 4] {
        let mut x = self.mask;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask = x;
        x.to_le_bytes()
    }

    /// The sender sends message `seq`: its number, the time, filler, its number again.
    fn send(&mut self, seq: usize) -> Result<()> {
        let mut payload = vec![0xA5u8; self.size];
        payload[..8].copy_from_slice(&(seq as u64).to_le_bytes());
        payload[8..16].copy_from_slice(&now_ns().to_le_bytes());
        let tail = self.size - 8;
        payload[tail..].copy_from_slice(&(seq as u64).to_le_bytes());
        let key = self.next_mask();
        client_frame(
            &mut self.peers[self.sender].out,
            OpCode::Binary,
            &payload,
            key,
        );
        self.sent = self.sent.max(seq + 1);
        self.sends += 1;
        self.flush(self.sender)
    }

    /// Writes what a connection has to write, as far as the socket takes it, and watches
    /// for writability while something is left.
    fn flush(&mut self, i: usize) -> Result<()> {
        let peer = &mut self.peers[i];
        let mut written = 0;
        while written < peer.out.len() {
            match peer.stream.write(&peer.out[written..]) {
                Ok(0) => return Err(format!("connection {i}: the socket took nothing")),
                Ok(n) => written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection {i}: write: {e}")),
            }
        }
        peer.out.drain(..written);
        let want = !peer.out.is_empty();
        if want != peer.watching_writes {
            let interest = if want {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            self.poll
                .registry()
                .reregister(&mut peer.stream, Token(i), interest)
                .map_err(|e| format!("connection {i}: reregister: {e}"))?;
            peer.watching_writes = want;
        }
        Ok(())
    }

    /// Waits up to `timeout` for the sockets (not at all if some were left readable), then
    /// reads and writes what they are ready for.
    fn pump(&mut self, timeout: Duration, events: &mut Events) -> Result<()> {
        let timeout = if self.unfinished.is_empty() {
            timeout
        } else {
            Duration::ZERO
        };
        match self.poll.poll(events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(format!("poll: {e}")),
        }
        for i in std::mem::take(&mut self.unfinished) {
            self.read(i, true)?;
        }
        for event in events.iter() {
            let i = event.token().0;
            if event.is_readable() || event.is_read_closed() || event.is_error() {
                self.read(i, event.is_read_closed() || event.is_error())?;
            }
            if event.is_writable() {
                self.flush(i)?;
            }
        }
        Ok(())
    }

    /// Reads a connection until the socket is empty (the poller is edge-triggered), and
    /// handles every whole frame. A read that does not fill the buffer emptied the socket:
    /// no second read to hear so, unless the peer closed its end (`to_end`), to see EOF.
    /// After `READS` reads the connection waits in `unfinished` for the next pump, so that
    /// a server that never stops sending cannot keep the driver here.
    fn read(&mut self, i: usize, to_end: bool) -> Result<()> {
        for _ in 0..READS {
            let peer = &mut self.peers[i];
            if peer.have == peer.buf.len() {
                let len = peer.buf.len() * 2;
                peer.buf.resize(len, 0);
            }
            let room = peer.buf.len() - peer.have;
            match peer.stream.read(&mut peer.buf[peer.have..]) {
                Ok(0) => return Err(format!("connection {i}: the server closed it (EOF)")),
                Ok(n) => {
                    peer.have += n;
                    self.parse(i, now_ns())?;
                    if n < room && !to_end {
                        return Ok(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection {i}: read: {e}")),
            }
        }
        self.unfinished.push(i);
        Ok(())
    }

    /// Handles the whole frames in a connection's buffer, received at `at_ns`.
    fn parse(&mut self, i: usize, at_ns: u64) -> Result<()> {
        let mut at = 0;
        let mut pongs = Vec::new();
        loop {
            let peer = &mut self.peers[i];
            let (header, n) = match FrameHeader::parse(&peer.buf[at..peer.have]) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => break,
                Err(e) => return Err(format!("connection {i}: bad frame from the server: {e}")),
            };
            let len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
            if len > 64 << 20 {
                return Err(format!(
                    "connection {i}: a {len}-byte frame from the server"
                ));
            }
            if peer.have - at < n + len {
                // It will start the buffer once the bytes before it are dropped.
                if peer.buf.len() < n + len {
                    peer.buf.resize(n + len, 0);
                }
                break;
            }
            let payload = at + n..at + n + len;
            at += n + len;
            if header.masking_key.is_some() || header.rsv1 || header.rsv2 || header.rsv3 {
                return Err(format!(
                    "connection {i}: a masked or RSV frame from the server: {header:?}"
                ));
            }
            if !header.fin || header.opcode == OpCode::Continuation {
                return Err(format!(
                    "connection {i}: a fragmented message (the driver expects whole frames)"
                ));
            }
            match header.opcode {
                OpCode::Binary => self.message(i, payload, at_ns)?,
                OpCode::Ping => {
                    let key = self.next_mask();
                    client_frame(&mut pongs, OpCode::Pong, &self.peers[i].buf[payload], key);
                }
                OpCode::Pong => {}
                OpCode::Close => {
                    let body = &self.peers[i].buf[payload];
                    let code = body
                        .get(..2)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]).to_string())
                        .unwrap_or_else(|| "no code".to_owned());
                    let reason = String::from_utf8_lossy(body.get(2..).unwrap_or_default());
                    return Err(format!(
                        "connection {i}: the server closed it: {code} {reason:?} (after {} of its messages)",
                        self.peers[i].next
                    ));
                }
                OpCode::Text => {
                    return Err(format!(
                        "connection {i}: a text message (only binary was sent)"
                    ));
                }
                OpCode::Continuation => unreachable!("refused above"),
            }
        }
        let peer = &mut self.peers[i];
        peer.buf.copy_within(at..peer.have, 0);
        peer.have -= at;
        if !pongs.is_empty() {
            peer.out.extend_from_slice(&pongs);
            self.flush(i)?;
        }
        Ok(())
    }

    /// A message for connection `i`: checked, and counted unless it is a duplicate.
    fn message(&mut self, i: usize, payload: std::ops::Range<usize>, at_ns: u64) -> Result<()> {
        let peer = &mut self.peers[i];
        let bytes = &peer.buf[payload];
        if bytes.len() != self.size {
            return Err(format!(
                "connection {i}: a {}-byte message, {} were sent",
                bytes.len(),
                self.size
            ));
        }
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let (seq, sent) = (word(0), word(8));
        if word(self.size - 8) != seq || seq >= self.delivered.len() as u64 {
            return Err(format!("connection {i}: a corrupt message (seq {seq})"));
        }
        let seq = seq as usize;
        let (word, bit) = (seq / 64, 1u64 << (seq % 64));
        if peer.seen[word] & bit != 0 {
            self.duplicates += 1;
            self.group_duplicates[peer.group] += 1;
            return Ok(());
        }
        peer.seen[word] |= bit;
        if seq < peer.next {
            self.reordered += 1;
        }
        peer.next = peer.next.max(seq + 1);
        self.deliveries += 1;
        self.sent_ns[seq] = sent;
        self.last_ns[seq] = self.last_ns[seq].max(at_ns);
        let last = &mut self.group_last_ns[peer.group][seq];
        *last = (*last).max(at_ns);
        self.delivered[seq] += 1;
        if self.delivered[seq] == self.connections() && seq >= WARMUP_MAX {
            self.completed += 1;
        }
        Ok(())
    }

    /// Why no message arrives: the oldest that did not reach everyone, and how many
    /// connections miss some.
    fn stall_report(&self) -> String {
        let all = self.connections();
        let unfinished: Vec<usize> = (WARMUP_MAX..self.sent)
            .filter(|&s| self.delivered[s] < all)
            .collect();
        let has = |p: &Peer, s: usize| p.seen[s / 64] & (1 << (s % 64)) != 0;
        let behind = self
            .peers
            .iter()
            .filter(|p| unfinished.iter().any(|&s| !has(p, s)))
            .count();
        let oldest: Vec<String> = unfinished
            .iter()
            .take(5)
            .map(|&s| {
                format!(
                    "message {} reached {} of {all}",
                    s - WARMUP_MAX,
                    self.delivered[s]
                )
            })
            .collect();
        let mut report = format!(
            "{} unfinished ({}); {behind} connections miss some; {} duplicates so far",
            unfinished.len(),
            oldest.join(", "),
            self.duplicates
        );
        if self.group_names.len() > 1 {
            report.push_str(&format!("; {}", self.by_group(&unfinished)));
        }
        report
    }

    /// Per target, of the messages `seqs`: the deliveries missing, the connections that
    /// miss some, the messages none of its connections has, the duplicates.
    fn by_group(&self, seqs: &[usize]) -> String {
        let has = |p: &Peer, s: usize| p.seen[s / 64] & (1 << (s % 64)) != 0;
        let mut parts = Vec::new();
        for (g, name) in self.group_names.iter().enumerate() {
            let peers: Vec<&Peer> = self.peers.iter().filter(|p| p.group == g).collect();
            let missing: usize = seqs
                .iter()
                .map(|&s| peers.iter().filter(|p| !has(p, s)).count())
                .sum();
            let behind = peers
                .iter()
                .filter(|p| seqs.iter().any(|&s| !has(p, s)))
                .count();
            let nowhere = seqs
                .iter()
                .filter(|&&s| peers.iter().all(|p| !has(p, s)))
                .count();
            parts.push(format!(
                "{name} ({} connections): {missing} deliveries missing, {behind} connections miss some, \
                 {nowhere} of {} messages reached none of them, {} duplicates",
                self.group_sizes[g],
                seqs.len(),
                self.group_duplicates[g]
            ));
        }
        parts.join("; ")
    }

    /// Closes every connection: a close frame each, no waiting.
    fn close(self) {
        for peer in self.peers {
            close(peer.stream);
        }
    }
}

/// One load run against started servers: connect to the targets, warm up, measure. The
/// servers are the targets' processes and any other the messages go through (Redis), for
/// their CPU time and for errors; with `redis`, its counters are read around the measured
/// messages.
fn load_run(
    servers: &mut [Running],
    targets: &[Target],
    redis: Option<SocketAddr>,
    size: usize,
    messages: usize,
    window: usize,
) -> Result<LoadResult> {
    let solo = (messages / 10).min(SOLO);
    let total = WARMUP_MAX + messages + solo;
    let mut load = Load::connect(targets, size, total)
        .map_err(|e| trouble(servers, &format!("while connecting: {e}")))?;
    let result = match redis {
        None => measure(&mut load, servers, messages, window, solo, None),
        Some(addr) => {
            // What Redis did in this run, should it fail.
            let start = redis_counters(addr).map_err(|e| trouble(servers, &e))?;
            measure(&mut load, servers, messages, window, solo, redis)
                .map_err(|e| format!("{e}\n{}", redis_report(addr, &start, &load)))
        }
    };
    load.close();
    result
}

/// Waits on the sockets of a run, and fails it if nothing arrives for too long or it runs
/// too long.
struct Pump {
    events: Events,
    started: Instant,
    /// When deliveries last grew, and to what.
    progress: (Instant, u64),
}

impl Pump {
    fn new() -> Pump {
        Pump {
            events: Events::with_capacity(1024),
            started: Instant::now(),
            progress: (Instant::now(), 0),
        }
    }

    /// One wait on the sockets, for at most `timeout`; `phase` says where the run is, for
    /// errors.
    fn step(
        &mut self,
        load: &mut Load,
        servers: &mut [Running],
        timeout: Duration,
        phase: &dyn Fn(&Load) -> String,
    ) -> Result<()> {
        load.pump(timeout, &mut self.events)
            .map_err(|e| trouble(servers, &format!("{}: {e}", phase(load))))?;
        if load.deliveries != self.progress.1 {
            self.progress = (Instant::now(), load.deliveries);
        } else if self.progress.0.elapsed() > STALL {
            return Err(trouble(
                servers,
                &format!(
                    "{}: no message arrived for {STALL:?}: {}",
                    phase(load),
                    load.stall_report()
                ),
            ));
        }
        if self.started.elapsed() > RUN_LIMIT {
            return Err(trouble(
                servers,
                &format!("{}: over {RUN_LIMIT:?}", phase(load)),
            ));
        }
        Ok(())
    }
}

fn measure(
    load: &mut Load,
    servers: &mut [Running],
    messages: usize,
    window: usize,
    solo: usize,
    redis: Option<SocketAddr>,
) -> Result<LoadResult> {
    let mut pump = Pump::new();
    let all = load.connections();

    // Warm-up: one message at a time, until a few in a row reach every connection.
    let mut good = 0;
    let mut warmups = 0;
    while good < WARMUP_GOOD {
        if warmups == WARMUP_MAX {
            let reached = load.delivered[..WARMUP_MAX].iter().max().copied();
            let mut what = format!(
                "after {WARMUP_MAX} warm-up messages, the best reached {} of {all} connections",
                reached.unwrap_or(0)
            );
            if load.group_names.len() > 1 {
                let seqs: Vec<usize> = (0..WARMUP_MAX).collect();
                what.push_str(&format!("; {}", load.by_group(&seqs)));
            }
            return Err(trouble(servers, &what));
        }
        let seq = warmups;
        load.send(seq)?;
        warmups += 1;
        let sent = Instant::now();
        while load.delivered[seq] < all && sent.elapsed() < WARMUP_WAIT {
            pump.step(load, servers, Duration::from_millis(20), &|_| {
                format!("in warm-up message {seq}")
            })?;
        }
        good = if load.delivered[seq] == all {
            good + 1
        } else {
            0
        };
    }

    // Redis's counters twice with nothing in between, for what reading them costs, then
    // again after the measured messages.
    let redis_before = match redis {
        Some(addr) => {
            let first = redis_counters(addr).map_err(|e| trouble(servers, &e))?;
            let second = redis_counters(addr).map_err(|e| trouble(servers, &e))?;
            Some((first, second))
        }
        None => None,
    };

    // Measured: at most `window` messages sent and not yet at every connection.
    let first = WARMUP_MAX;
    let end = first + messages;
    let pids: Vec<u32> = servers.iter().map(Running::pid).collect();
    let before = (
        pids.iter()
            .map(|&pid| cpu_time(Some(pid)))
            .collect::<Result<Vec<_>>>()?,
        cpu_time(None)?,
        pids.iter()
            .map(|&pid| context_switches(pid))
            .sum::<Result<u64>>()?,
    );
    let mut next = first;
    while load.completed < messages {
        while next < end && next - first - load.completed < window {
            load.send(next)?;
            next += 1;
        }
        pump.step(load, servers, Duration::from_millis(100), &|load| {
            format!("{} of {messages} messages done", load.completed)
        })?;
    }
    let last_in = load.last_ns[first..end].iter().max().copied().unwrap_or(0);
    let elapsed = Duration::from_nanos(last_in.saturating_sub(load.sent_ns[first]));
    let mut cpu_each = Vec::with_capacity(pids.len());
    for (&pid, &was) in pids.iter().zip(&before.0) {
        cpu_each.push(cpu_time(Some(pid))?.saturating_sub(was));
    }
    let server_cpu: Duration = cpu_each.iter().sum();
    let driver_cpu = cpu_time(None)?.saturating_sub(before.1);
    let switches = pids
        .iter()
        .map(|&pid| context_switches(pid))
        .sum::<Result<u64>>()?
        .saturating_sub(before.2);

    // One at a time: how long one message takes to reach everyone when nothing else is in
    // flight.
    for seq in end..end + solo {
        load.send(seq)?;
        while load.delivered[seq] < all {
            pump.step(load, servers, Duration::from_millis(100), &|_| {
                format!("one at a time, message {}", seq - end)
            })?;
        }
    }

    // Late duplicates would show up now.
    let drain = Instant::now();
    while drain.elapsed() < DRAIN {
        pump.step(load, servers, Duration::from_millis(20), &|_| {
            "after the last message".to_owned()
        })?;
    }
    let lost: u64 = (first..end + solo)
        .map(|s| u64::from(all - load.delivered[s]))
        .sum();
    if lost > 0 || load.duplicates > 0 {
        let mut what = format!("{lost} deliveries lost and {} duplicated", load.duplicates);
        if load.group_names.len() > 1 {
            let seqs: Vec<usize> = (first..end + solo).collect();
            what.push_str(&format!(
                " of {} messages to {all} connections; {}",
                seqs.len(),
                load.by_group(&seqs)
            ));
        }
        return Err(trouble(servers, &what));
    }

    // Redis: one PUBLISH per message, to every hub process.
    let redis = match (redis, redis_before) {
        (Some(addr), Some((first, second))) => {
            let after = redis_counters(addr).map_err(|e| trouble(servers, &e))?;
            let traffic = RedisTraffic::new(&first, &second, &after, messages + solo);
            if traffic.publishes != traffic.messages as u64
                || after.subscribers != load.group_names.len() as u64
            {
                return Err(trouble(
                    servers,
                    &format!(
                        "Redis processed {} PUBLISH calls for {} messages (one each expected) \
                         and has {} subscribers to {CHANNEL} ({} hub processes)",
                        traffic.publishes,
                        traffic.messages,
                        after.subscribers,
                        load.group_names.len()
                    ),
                ));
            }
            Some(traffic)
        }
        _ => None,
    };

    let times = |last_ns: &[u64], seqs: std::ops::Range<usize>| {
        let mut times: Vec<Duration> = seqs
            .map(|s| Duration::from_nanos(last_ns[s].saturating_sub(load.sent_ns[s])))
            .collect();
        times.sort();
        times
    };
    let (windowed, one_by_one) = (
        times(&load.last_ns, first..end),
        times(&load.last_ns, end..end + solo),
    );
    let groups = (0..load.group_names.len())
        .map(|g| {
            let last_ns = &load.group_last_ns[g];
            let (windowed, one_by_one) =
                (times(last_ns, first..end), times(last_ns, end..end + solo));
            GroupTimes {
                name: load.group_names[g].clone(),
                connections: load.group_sizes[g] as usize,
                p50: percentile(&windowed, 0.50),
                p99: percentile(&windowed, 0.99),
                solo_p50: percentile(&one_by_one, 0.50),
                solo_p99: percentile(&one_by_one, 0.99),
            }
        })
        .collect();
    let secs = elapsed.as_secs_f64();
    let deliveries = (load.receivers * messages) as f64;
    Ok(LoadResult {
        rate: deliveries / secs,
        p50: percentile(&windowed, 0.50),
        p99: percentile(&windowed, 0.99),
        solo_p50: percentile(&one_by_one, 0.50),
        solo_p99: percentile(&one_by_one, 0.99),
        elapsed,
        server_cpu: server_cpu.as_secs_f64() / secs,
        driver_cpu: driver_cpu.as_secs_f64() / secs,
        server_us: server_cpu.as_secs_f64() * 1e6 / deliveries,
        switches: switches as f64 / deliveries,
        warmups,
        reordered: load.reordered,
        cpu_each: cpu_each.iter().map(|c| c.as_secs_f64() / secs).collect(),
        groups,
        redis,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Resident memory with no client, then with `n` idle ones.
struct Memory {
    before_kib: u64,
    after_kib: u64,
    settled: bool,
    n: usize,
}

impl Memory {
    fn per_connection(&self) -> f64 {
        (self.after_kib as f64 - self.before_kib as f64) * 1024.0 / self.n as f64
    }
}

fn idle_memory(server: &mut Running, n: usize) -> Result<Memory> {
    let pid = server.pid();
    let (before_kib, settled_before) = settled_rss_kib(pid)?;
    let mut idle = Vec::with_capacity(n);
    for i in 0..n {
        let (stream, _) = handshake(server.addr)
            .map_err(|e| server.trouble(&format!("idle connection {i}: {e}")))?;
        idle.push(stream);
    }
    let (after_kib, settled_after) = settled_rss_kib(pid)?;
    if let Some(status) = server.exited() {
        return Err(server.trouble(&format!("exited with idle connections ({status})")));
    }
    for stream in idle {
        close(stream);
    }
    Ok(Memory {
        before_kib,
        after_kib,
        settled: settled_before && settled_after,
        n,
    })
}

// ---------------------------------------------------------------------------------------
// The run and the table.

struct Row {
    size: usize,
    kind: Kind,
    result: LoadResult,
}

fn size_name(size: usize) -> String {
    if size >= 1024 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("broadcast bench: {e}\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nbroadcast bench FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    now_ns();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("wsio-hub is in the workspace")
        .to_path_buf();
    let limit = raise_fd_limit(args.receivers as u64 + 1 + FD_MARGIN)?;
    if args.node.is_some() && args.node_path.is_none() {
        return Err("--node needs --node-path DIR or NODE_PATH: where Node finds ws".to_owned());
    }
    if args.redis && args.receivers < 2 {
        return Err("--redis needs at least 2 receivers: half on each hub process".to_owned());
    }
    let launcher = Launcher {
        hub: build_hub(&root)?,
        node: args.node.clone().map(|n| (n, args.node_path.clone())),
        python: args.python.clone(),
        redis_server: args.redis_server.clone(),
        root,
    };
    let kinds = launcher.kinds();
    let scale = if args.quick { 10 } else { 1 };
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    eprintln!(
        "{} receivers + 1 sender, window {}, open file limit {limit}, {cores} cores",
        args.receivers, args.window
    );

    let mut rows = Vec::new();
    let mut memory = Vec::new();
    let mut cross = None;
    for &kind in &kinds {
        // Memory first, on a fresh process: what it holds with none, then with idle clients.
        let mut server = launcher.start(kind)?;
        eprintln!("{}: idle memory", kind.name());
        memory.push((kind, idle_memory(&mut server, args.receivers)?));
        drop(server);
        // A fresh process for the load runs too: the idle connections are all gone.
        let mut server = launcher.start(kind)?;
        for (size, messages) in WORKLOADS {
            let messages = messages / scale;
            eprintln!(
                "{}: {} x {messages} messages to {} receivers",
                kind.name(),
                size_name(size),
                args.receivers
            );
            let targets = [Target {
                name: kind.name().to_owned(),
                addr: server.addr,
                receivers: args.receivers,
            }];
            let servers = std::slice::from_mut(&mut server);
            let result = load_run(servers, &targets, None, size, messages, args.window)?;
            progress(&result);
            rows.push(Row { size, kind, result });
            // Let the server see those connections go before the next run.
            thread::sleep(Duration::from_millis(500));
        }
        drop(server);
        // The hub across processes right after the hub in one, for the ratios.
        if kind == Kind::Hub && args.redis {
            cross = Some(cross_process(&launcher, args, scale)?);
        }
    }
    print_table(args, &kinds, &rows, &memory);
    if let Some(cross) = &cross {
        print_cross_table(args, &rows, cross);
    }
    Ok(())
}

/// What a load run found, on one line, as it goes.
fn progress(result: &LoadResult) {
    eprintln!(
        "  {:.0} msg/s in {:.2} s, p50 {}, p99 {}; one at a time p50 {}, p99 {}; {} warm-up messages",
        result.rate,
        result.elapsed.as_secs_f64(),
        ms(result.p50),
        ms(result.p99),
        ms(result.solo_p50),
        ms(result.solo_p99),
        result.warmups
    );
}

/// The runs of the hub across processes.
struct Cross {
    /// redis-server's version, as it says.
    version: String,
    /// Receivers on hub A (with the sender) and on hub B.
    split: (usize, usize),
    rows: Vec<(usize, LoadResult)>,
}

/// The hub across processes: a redis-server of its own, hub A and hub B on it (each a
/// broadcast process with `--redis`), the receivers split between them and the sender on
/// A; each message size in turn, on the same three processes.
fn cross_process(launcher: &Launcher, args: &Args, scale: usize) -> Result<Cross> {
    let version = redis_version(&launcher.redis_server);
    eprintln!("hub A + hub B on {version}: starting");
    let redis = launcher.start(Kind::Redis)?;
    let redis_addr = redis.addr;
    let url = format!("redis://{redis_addr}/");
    // If one fails to start, those started already stop as they are dropped.
    let hub_a = launcher.start_hub_on_redis("hub A", &url)?;
    let hub_b = launcher.start_hub_on_redis("hub B", &url)?;
    // Dropped in this order: the hubs stop before Redis.
    let mut servers = vec![hub_a, hub_b, redis];
    let on_b = args.receivers / 2;
    let split = (args.receivers - on_b, on_b);
    let targets = [
        Target {
            name: "hub A".to_owned(),
            addr: servers[0].addr,
            receivers: split.0,
        },
        Target {
            name: "hub B".to_owned(),
            addr: servers[1].addr,
            receivers: split.1,
        },
    ];
    let mut rows = Vec::new();
    for (size, messages) in WORKLOADS {
        let messages = messages / scale;
        eprintln!(
            "hub A + hub B on redis: {} x {messages} messages to {} + {} receivers",
            size_name(size),
            split.0,
            split.1
        );
        let result = load_run(
            &mut servers,
            &targets,
            Some(redis_addr),
            size,
            messages,
            args.window,
        )?;
        progress(&result);
        for g in &result.groups {
            eprintln!(
                "  last on {} ({} connections): p50 {}, p99 {}; one at a time p50 {}, p99 {}",
                g.name,
                g.connections,
                ms(g.p50),
                ms(g.p99),
                ms(g.solo_p50),
                ms(g.solo_p99)
            );
        }
        if let Some(r) = &result.redis {
            eprintln!(
                "  Redis: {} PUBLISH for {} messages, {} subscribers, {:.1} B in and {:.1} B out per message",
                r.publishes, r.messages, r.subscribers, r.input, r.output
            );
        }
        rows.push((size, result));
        thread::sleep(Duration::from_millis(500));
    }
    Ok(Cross {
        version,
        split,
        rows,
    })
}

/// `redis-server --version`, shortened: "redis-server 7.0.15".
fn redis_version(program: &Path) -> String {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output();
    let text = out
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    match text.split_whitespace().find_map(|w| w.strip_prefix("v=")) {
        Some(v) => format!("redis-server {v}"),
        None => "redis-server".to_owned(),
    }
}

fn print_table(args: &Args, kinds: &[Kind], rows: &[Row], memory: &[(Kind, Memory)]) {
    let scale = if args.quick { 10 } else { 1 };
    let (receivers, window) = (args.receivers, args.window);
    println!();
    println!(
        "broadcast fan-out on loopback, {} cores: {receivers} receivers + 1 sender (which gets its own messages too),",
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "binary messages; each server a process of its own, the load driver one thread; 0 lost, 0 duplicated in every row"
    );
    println!(
        "msgs/s      receivers x messages / elapsed, at most {window} messages in flight (higher is better)"
    );
    println!(
        "p50, p99    send -> the last of {} connections has it, at most {window} in flight (lower is better)",
        receivers + 1
    );
    println!("1by1 p50..  the same, one message at a time (lower is better)");
    println!(
        "srv, drv    the server's and the driver's CPU time / elapsed; us/dlv and cs/dlv: the server's CPU"
    );
    println!("            microseconds and context switches per delivery (with the window)");
    println!();
    println!(
        "{:<6} {:<18} {:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>5} {:>5} {:>6} {:>6}",
        "size",
        "server",
        "msgs",
        "msgs/s",
        "p50",
        "p99",
        "1by1 p50",
        "1by1 p99",
        "srv",
        "drv",
        "us/dlv",
        "cs/dlv"
    );
    let find = |size: usize, kind: Kind| rows.iter().find(|r| r.size == size && r.kind == kind);
    let mut summary = Vec::new();
    for (size, messages) in WORKLOADS {
        for &kind in kinds {
            let Some(row) = find(size, kind) else {
                continue;
            };
            let r = &row.result;
            println!(
                "{:<6} {:<18} {:>5} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>4.0}% {:>4.0}% {:>6.1} {:>6.2}{}",
                size_name(size),
                kind.name(),
                messages / scale,
                r.rate,
                ms(r.p50),
                ms(r.p99),
                ms(r.solo_p50),
                ms(r.solo_p99),
                r.server_cpu * 100.0,
                r.driver_cpu * 100.0,
                r.server_us,
                r.switches,
                if r.reordered > 0 {
                    format!("  ({} reordered)", r.reordered)
                } else {
                    String::new()
                }
            );
        }
        let Some(hub) = find(size, Kind::Hub) else {
            continue;
        };
        for &peer in &kinds[1..] {
            let Some(other) = find(size, peer) else {
                continue;
            };
            let (h, o) = (&hub.result, &other.result);
            let time = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
            let rate = h.rate / o.rate;
            let (p50, p99) = (time(h.p50, o.p50), time(h.p99, o.p99));
            let (s50, s99) = (time(h.solo_p50, o.solo_p50), time(h.solo_p99, o.solo_p99));
            println!(
                "{:<6} {:<18} msgs/s {rate:.2}x (above 1: hub better); times (below 1: hub better): p50 {p50:.2}x, p99 {p99:.2}x, 1by1 p50 {s50:.2}x, p99 {s99:.2}x",
                "",
                format!("hub/{}", short(peer))
            );
            summary.push(format!(
                "{} hub/{}: msgs/s {rate:.2}x, p99 {p99:.2}x, 1by1 p99 {s99:.2}x",
                size_name(size),
                short(peer)
            ));
        }
        println!();
    }
    println!(
        "memory per idle connection: (VmRSS with {receivers} idle clients - VmRSS with none) / {receivers} (lower is better)"
    );
    for (kind, m) in memory {
        println!(
            "{:<6} {:<18} {:>6.1} KiB per connection   (RSS {:.1} MiB -> {:.1} MiB{})",
            "idle",
            kind.name(),
            m.per_connection() / 1024.0,
            m.before_kib as f64 / 1024.0,
            m.after_kib as f64 / 1024.0,
            if m.settled {
                ""
            } else {
                ", not settled in 15 s"
            }
        );
    }
    if let Some((_, hub)) = memory.iter().find(|(k, _)| *k == Kind::Hub) {
        for (kind, m) in &memory[1..] {
            let ratio = hub.per_connection() / m.per_connection();
            println!(
                "{:<6} {:<18} memory per connection {ratio:.2}x (below 1: hub uses less)",
                "",
                format!("hub/{}", short(*kind))
            );
            summary.push(format!("memory hub/{}: {ratio:.2}x", short(*kind)));
        }
    }
    println!();
    if kinds.len() == 1 {
        println!(
            "node ws and python websockets were NOT measured: run scripts/bench_broadcast.sh, or pass \
             --node PATH --node-path NODE_MODULES --python VENV_PYTHON"
        );
    } else {
        println!(
            "summary (hub/peer; msgs/s above 1, times and memory below 1: hub better): {}",
            summary.join("; ")
        );
    }
}

fn short(kind: Kind) -> &'static str {
    match kind {
        Kind::Hub => "hub",
        Kind::Node => "node",
        Kind::Python => "python",
        Kind::Redis => "redis",
    }
}

/// The hub across processes against the hub in one (its rows in `rows`), and what Redis
/// read and wrote per message.
fn print_cross_table(args: &Args, rows: &[Row], cross: &Cross) {
    let scale = if args.quick { 10 } else { 1 };
    let (receivers, window) = (args.receivers, args.window);
    let (on_a, on_b) = cross.split;
    println!();
    println!(
        "the hub across processes through Redis ({} on loopback), in the same run, with the same messages and window:",
        cross.version
    );
    println!(
        "1 process   the hub above: {receivers} receivers + the sender on one hub process, no Redis"
    );
    println!(
        "2 + redis   hub A and hub B, each a broadcast process of its own with --redis on one redis-server:"
    );
    println!(
        "            {on_a} receivers + the sender on A, {on_b} receivers on B; A delivers to its own connections and"
    );
    println!(
        "            publishes each message once, Redis sends it to A (which ignores its own) and to B, which delivers"
    );
    println!("            to its connections; 0 lost, 0 duplicated in every row");
    println!(
        "msgs/s      receivers x messages / elapsed, at most {window} messages in flight (higher is better)"
    );
    println!(
        "p50, p99    send -> the last of all {} connections (both processes) has it; 1by1: one at a time",
        receivers + 1
    );
    println!(
        "last on A/B the same, until the last connection of hub A ({} with the sender) / hub B ({on_b}) has it;",
        on_a + 1
    );
    println!("            hubs: that hub process's CPU time / elapsed");
    println!(
        "hubs, redis CPU time / elapsed of the hub processes (together) and of redis-server; drv: the driver's;"
    );
    println!(
        "            us/dlv and cs/dlv: all the server processes' CPU microseconds and context switches per delivery"
    );
    println!();
    println!(
        "{:<6} {:<18} {:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>5} {:>5} {:>5} {:>6} {:>6}",
        "size",
        "setup",
        "msgs",
        "msgs/s",
        "p50",
        "p99",
        "1by1 p50",
        "1by1 p99",
        "hubs",
        "redis",
        "drv",
        "us/dlv",
        "cs/dlv"
    );
    let percent = |x: f64| format!("{:.0}%", x * 100.0);
    let mut summary = Vec::new();
    for (size, messages) in WORKLOADS {
        let one = rows
            .iter()
            .find(|r| r.size == size && r.kind == Kind::Hub)
            .map(|r| &r.result);
        let Some((_, two)) = cross.rows.iter().find(|(s, _)| *s == size) else {
            continue;
        };
        let line = |setup: &str, r: &LoadResult, hubs: f64, redis: String| {
            println!(
                "{:<6} {:<18} {:>5} {:>9.0} {:>10} {:>10} {:>10} {:>10} {:>5} {:>5} {:>5} {:>6.1} {:>6.2}{}",
                size_name(size),
                setup,
                messages / scale,
                r.rate,
                ms(r.p50),
                ms(r.p99),
                ms(r.solo_p50),
                ms(r.solo_p99),
                percent(hubs),
                redis,
                percent(r.driver_cpu),
                r.server_us,
                r.switches,
                if r.reordered > 0 {
                    format!("  ({} reordered)", r.reordered)
                } else {
                    String::new()
                }
            );
        };
        if let Some(one) = one {
            line("1 process", one, one.server_cpu, "-".to_owned());
        }
        let hubs: f64 = two.cpu_each.iter().take(2).sum();
        let redis = two.cpu_each.get(2).copied().unwrap_or_default();
        line("2 + redis", two, hubs, percent(redis));
        // The hubs are the first servers, in the order of the groups.
        for (g, cpu) in two.groups.iter().zip(&two.cpu_each) {
            println!(
                "{:<6} {:<18} {:>5} {:>9} {:>10} {:>10} {:>10} {:>10} {:>5}",
                "",
                format!("  last on {}", g.name.trim_start_matches("hub ")),
                "",
                "",
                ms(g.p50),
                ms(g.p99),
                ms(g.solo_p50),
                ms(g.solo_p99),
                percent(*cpu)
            );
        }
        if let Some(one) = one {
            let time = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
            let rate = two.rate / one.rate;
            let (p50, p99) = (time(two.p50, one.p50), time(two.p99, one.p99));
            let (s50, s99) = (
                time(two.solo_p50, one.solo_p50),
                time(two.solo_p99, one.solo_p99),
            );
            println!(
                "{:<6} {:<18} msgs/s {rate:.2}x (above 1: faster across processes); times (below 1: faster across processes): p50 {p50:.2}x, p99 {p99:.2}x, 1by1 p50 {s50:.2}x, p99 {s99:.2}x",
                "", "2 + redis / 1"
            );
            summary.push(format!(
                "{}: msgs/s {rate:.2}x, p99 {p99:.2}x, 1by1 p99 {s99:.2}x",
                size_name(size)
            ));
        }
        println!();
    }
    println!(
        "Redis per message: its counters (INFO stats total_net_input_bytes, total_net_output_bytes; INFO commandstats"
    );
    println!(
        "PUBLISH calls; PUBSUB NUMSUB {CHANNEL}) before and after the measured messages (with the window and one"
    );
    println!(
        "at a time), less what reading them cost, / messages. in: what the hub processes sent Redis (the PUBLISH"
    );
    println!(
        "commands); out: what Redis sent them (the message to each subscriber, the PUBLISH replies). x size: / message size"
    );
    println!();
    println!(
        "{:<6} {:>8} {:>11} {:>12} {:>10} {:>8} {:>10} {:>8}",
        "size",
        "messages",
        "PUBLISH/msg",
        "subscribers",
        "in B/msg",
        "x size",
        "out B/msg",
        "x size"
    );
    for (size, result) in &cross.rows {
        let Some(r) = &result.redis else {
            continue;
        };
        println!(
            "{:<6} {:>8} {:>11.2} {:>12} {:>10.1} {:>7.2}x {:>10.1} {:>7.2}x",
            size_name(*size),
            r.messages,
            r.publishes as f64 / r.messages as f64,
            r.subscribers,
            r.input,
            r.input / *size as f64,
            r.output,
            r.output / *size as f64
        );
        summary.push(format!(
            "Redis {}: {:.0} B in, {:.0} B out per message",
            size_name(*size),
            r.input,
            r.output
        ));
    }
    if let Some(r) = cross.rows.first().and_then(|(_, r)| r.redis.as_ref()) {
        println!(
            "(reading the counters cost {} B in and {} B out each time, subtracted)",
            r.reading.0, r.reading.1
        );
    }
    println!();
    println!(
        "summary (2 hub processes + redis / 1 hub process; msgs/s above 1, times below 1: faster across processes): {}",
        summary.join("; ")
    );
}
