//! An echo server: every message comes back as it arrived, one thread per connection, any
//! origin accepted, the first subprotocol a client offers agreed to (a test server). Built
//! on [`wsio::Server`]; Ctrl-C or SIGTERM stops it gracefully (close 1001 to every client,
//! up to 5 s for them to go) and it exits 0.
//!
//! ```text
//! cargo run --example echo -- [--addr HOST:PORT] [--deflate] [--stream] [--max-connections N]
//! cargo run --example echo -- --cert CERT.pem --key KEY.pem             # wss://
//! ```
//!
//! The default address is 127.0.0.1:9001. With `--cert` and `--key` (a PEM certificate
//! chain, the server's own first, and its private key) it serves `wss://`; the TLS
//! handshake and the upgrade together must end within the handshake timeout (10 s by
//! default). Past `--max-connections` (default 10,000) a new client is answered 503.
//!
//! Whole messages by default, which every client can talk to. `--stream` echoes each message
//! as it arrives, through a 64 KiB buffer whatever its size; a client that writes a large
//! message whole before reading (a single-threaded one) then blocks with this server (see
//! `common::echo`).

mod common;

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use wsio::{
    Config, Conn, DeflateConfig, Error, FlushPolicy, Server, ServerStream, TlsAcceptor, Upgrader,
};

const USAGE: &str = "echo [--addr HOST:PORT] [--deflate] [--stream] [--max-connections N] \
                     [--cert CERT.pem --key KEY.pem]";

fn main() -> ExitCode {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--stream"],
        &["--addr", "--cert", "--key", "--max-connections"],
    );
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let max_connections = match args.value("--max-connections").map(|n| n.parse()) {
        None => wsio::DEFAULT_MAX_CONNECTIONS,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("--max-connections takes a number\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };

    // Batched writes: echoes of pipelined messages leave in one write, flushed whenever the
    // connection is about to wait for more input. Messages up to 64 MiB, the default limit.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if args.flag("--deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let upgrader = Upgrader::new()
        .allow_any_origin()
        .config(config.build())
        .check_request(|request, accept| {
            // A test server speaks whatever the client wants: its first choice. Clients
            // that offer subprotocols (browsers' and Node's among them) refuse a response
            // that names none.
            if let Some(protocol) = request.subprotocols().next() {
                accept.set_subprotocol(protocol);
            }
            Ok(())
        });
    let mut builder = Server::builder()
        .upgrader(upgrader)
        .max_connections(max_connections)
        .on_error(|e, peer| match peer {
            Some(peer) => eprintln!("{peer}: {e}"),
            None => eprintln!("{e}"),
        });
    let scheme = match (args.value("--cert"), args.value("--key")) {
        (Some(cert), Some(key)) => match TlsAcceptor::from_pem_files(&cert, &key) {
            Ok(acceptor) => {
                builder = builder.tls(acceptor);
                "wss"
            }
            Err(e) => {
                eprintln!("echo: {e}");
                return ExitCode::FAILURE;
            }
        },
        (None, None) => "ws",
        _ => {
            eprintln!("--cert and --key go together\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    let stream = args.flag("--stream");
    let server = match builder.bind(&addr).and_then(|b| {
        b.start(move |conn| {
            let peer = conn.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = echo(conn, stream) {
                eprintln!("{peer}: {e}");
            }
        })
    }) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("echo: cannot serve on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "wsio echo server listening on {scheme}://{}/",
        server.local_addrs()[0]
    );

    // Ctrl-C or SIGTERM: a graceful stop.
    let (stop, stopped) = mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("echo: cannot handle signals: {e}");
        return ExitCode::FAILURE;
    }
    let _ = stopped.recv();
    let all_left = server.shutdown(Duration::from_secs(5));
    let stats = server.stats();
    server.wait();
    println!(
        "stopped: {} connections served, {} refused, {} failed handshakes{}",
        stats.accepted,
        stats.refused,
        stats.failed_handshakes,
        if all_left { "" } else { "; some were cut" }
    );
    ExitCode::SUCCESS
}

/// Echoes until the peer closes (or the server goes away): whole messages, or streamed.
fn echo(mut conn: Conn<ServerStream>, stream: bool) -> wsio::Result<()> {
    if stream {
        return common::echo(conn);
    }
    let mut buf = Vec::new();
    loop {
        match conn.read_message_into(&mut buf) {
            Ok(kind) => conn.write_message(kind, &buf)?,
            Err(Error::Closed(_) | Error::GoingAway) => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}
