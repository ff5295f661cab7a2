//! A broadcast hub, for benchmarks: every native message a client sends, text or binary,
//! goes to every connected client, the sender included, as the same kind and bytes, through
//! the hub's broadcast path (encoded once, one bounded queue per client, slow clients
//! dropped). Any origin is accepted.
//!
//! ```text
//! cargo run --release --example broadcast -- [--addr 127.0.0.1:9002] [--deflate] [--redis URL]
//! ```
//!
//! With `--redis redis://HOST:PORT`, broadcast processes that share one Redis broadcast to
//! each other's clients too.
//!
//! Prints `broadcast: listening on ws://ADDR/` once it accepts connections. Ctrl-C or
//! SIGTERM stops it gracefully.

use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use wsio::{Config, DeflateConfig, FlushPolicy, MessageKind, Server};
use wsio_hub::{Hub, RedisExchange};

const USAGE: &str = "broadcast [--addr HOST:PORT] [--deflate] [--redis redis://HOST:PORT]";

fn main() -> ExitCode {
    let mut addr = "127.0.0.1:9002".to_owned();
    let mut deflate = false;
    let mut redis = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--addr" => match args.next() {
                Some(value) => addr = value,
                None => return usage(),
            },
            "--deflate" => deflate = true,
            "--redis" => match args.next() {
                Some(url) => redis = Some(url),
                None => return usage(),
            },
            _ => return usage(),
        }
    }

    // Each client's writer flushes after each batch it drains from its queue.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if deflate {
        config = config.deflate(DeflateConfig::new());
    }
    let mut builder = Hub::builder();
    if let Some(url) = &redis {
        match RedisExchange::new(url) {
            Ok(exchange) => builder = builder.exchange(exchange),
            Err(e) => {
                eprintln!("broadcast: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let hub = builder
        .config(config.build())
        .check_origin(|_| true)
        .on_connection(|conn| {
            let me = conn.clone();
            conn.on_native(move |message| {
                let everyone = me.everyone();
                match message.kind() {
                    MessageKind::Text => everyone.text(message.as_text().unwrap_or_default()),
                    MessageKind::Binary => everyone.binary(message.as_bytes()),
                };
            });
        })
        .build();

    let server = match Server::builder()
        .bind(addr.as_str())
        .and_then(|builder| hub.serve(builder))
    {
        Ok(server) => server,
        Err(e) => {
            eprintln!("broadcast: cannot serve on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("broadcast: listening on ws://{}/", server.local_addrs()[0]);

    let (stop, stopped) = mpsc::channel();
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = stop.send(());
    }) {
        eprintln!("broadcast: cannot handle signals: {e}");
        return ExitCode::FAILURE;
    }
    let _ = stopped.recv();
    server.shutdown(Duration::from_secs(5));
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: {USAGE}");
    ExitCode::from(2)
}
