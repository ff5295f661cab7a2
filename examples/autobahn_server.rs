//! The Autobahn|Testsuite `fuzzingclient` target: a streaming echo server on
//! [`wsio::Server`]. Ctrl-C or SIGTERM stops it gracefully.
//!
//! ```text
//! cargo run --release --example autobahn_server -- [--addr HOST:PORT] [--deflate | --no-deflate]
//!     [--cert CERT.pem --key KEY.pem]
//! # defaults: 127.0.0.1:9001, deflate on, ws:// (wss:// with --cert and --key)
//! ```

mod common;

use std::sync::mpsc;
use std::time::Duration;

use wsio::{Config, DeflateConfig, FlushPolicy, Server, TlsAcceptor, Upgrader};

const USAGE: &str = "autobahn_server [--addr HOST:PORT] [--deflate | --no-deflate] [--verbose] \
                     [--cert CERT.pem --key KEY.pem]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--no-deflate", "--verbose"],
        &["--addr", "--cert", "--key"],
    );
    let addr = args
        .value("--addr")
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let verbose = args.flag("--verbose");

    // permessage-deflate is on unless --no-deflate: sections 12 and 13 need it.
    let mut config = Config::builder().flush_policy(FlushPolicy::Batched);
    if !args.flag("--no-deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let mut builder = Server::builder()
        .upgrader(Upgrader::new().allow_any_origin().config(config.build()))
        .on_error(move |e, _| {
            if verbose {
                eprintln!("{e}");
            }
        });
    let scheme = match (args.value("--cert"), args.value("--key")) {
        (Some(cert), Some(key)) => {
            builder = builder.tls(TlsAcceptor::from_pem_files(cert, key)?);
            "wss"
        }
        (None, None) => "ws",
        _ => return Err(format!("--cert and --key go together\nusage: {USAGE}").into()),
    };
    let server = builder.bind(&addr)?.start(move |conn| {
        if let (Err(e), true) = (common::echo(conn), verbose) {
            eprintln!("{e}");
        }
    })?;
    println!(
        "autobahn_server listening on {scheme}://{}/",
        server.local_addrs()[0]
    );
    let (stop, stopped) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop.send(());
    })?;
    let _ = stopped.recv();
    server.shutdown(Duration::from_secs(5));
    server.wait();
    Ok(())
}
