//! The Autobahn|Testsuite `fuzzingserver` target: runs every case as a streaming echo client,
//! then asks the suite to write its report.
//!
//! ```text
//! cargo run --release --example autobahn_client -- [--url URL] [--agent NAME] [--deflate | --no-deflate]
//!     [--ca CA.pem]
//! # defaults: ws://127.0.0.1:9001, wsio, deflate on; --ca: a CA to trust for wss://
//! ```

mod common;

use wsio::{CloseCode, Config, DeflateConfig, Dialer, Error};

const USAGE: &str = "autobahn_client [--url URL] [--agent NAME] [--deflate | --no-deflate] [--verbose] [--ca CA.pem]";

fn main() -> wsio::Result<()> {
    let args = common::Args::parse(
        USAGE,
        &["--deflate", "--no-deflate", "--verbose"],
        &["--url", "--agent", "--ca"],
    );
    let base = args
        .value("--url")
        .unwrap_or_else(|| "ws://127.0.0.1:9001".to_owned());
    let base = base.trim_end_matches('/');
    let agent = args.value("--agent").unwrap_or_else(|| "wsio".to_owned());
    let verbose = args.flag("--verbose");
    // permessage-deflate is on unless --no-deflate; the offer includes client_max_window_bits,
    // so the suite tests servers that limit our window too.
    let mut config = Config::builder();
    if !args.flag("--no-deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let mut dialer = Dialer::new().config(config.build());
    if let Some(ca) = args.value("--ca") {
        let roots = wsio::tls::certificates_from_pem_file(ca)?;
        dialer = dialer.tls_config(wsio::tls::client_config(roots)?);
    }

    let (mut conn, _) = dialer.dial(&format!("{base}/getCaseCount"))?;
    let count: u32 = conn
        .read_text(64)?
        .trim()
        .parse()
        .map_err(|_| Error::Io(std::io::Error::other("case count is not a number")))?;
    let _ = conn.close(CloseCode::NORMAL, "");
    println!("running {count} cases as agent {agent}");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        let result = dialer.dial(&url).and_then(|(conn, _)| common::echo(conn));
        if let (Err(e), true) = (result, verbose) {
            eprintln!("case {case}: {e}");
        }
    }

    let (mut conn, _) = dialer.dial(&format!("{base}/updateReports?agent={agent}"))?;
    let _ = conn.close(CloseCode::NORMAL, "");
    println!("done; report updated");
    Ok(())
}
