//! A command-line client.
//!
//! ```text
//! cargo run --example client -- --url URL [--deflate]                       # stdin lines out, messages in
//! cargo run --example client -- --url URL --count N --size BYTES [--deflate]
//! cargo run --example client -- --url wss://localhost:9443/ --ca CA.pem   # trust a private CA
//! cargo run --example client -- --url URL --proxy socks5h://user:pass@127.0.0.1:1080
//! ```
//!
//! With `--count`, it sends N messages of exactly BYTES bytes (even-numbered ones text,
//! odd-numbered ones binary), checks that each echo matches byte for byte, closes with 1000,
//! and exits 0 only if every echo matched. `--deflate` offers permessage-deflate.
//!
//! `wss://` servers are verified against Mozilla's roots and, with `--ca`, the
//! certificates in a PEM file. `--proxy` dials through an `http://`, `https://`,
//! `socks5://` or `socks5h://` proxy; without it, the proxy comes from the environment
//! (`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`; never for loopback servers).

mod common;

use std::io::BufRead;
use std::process::ExitCode;

use wsio::{CloseCode, Config, DeflateConfig, Dialer, Error, Message, Proxy};

const USAGE: &str =
    "client --url URL [--count N --size BYTES] [--deflate] [--ca CA.pem] [--proxy URL]";

fn main() -> ExitCode {
    let args = common::Args::parse(
        USAGE,
        &["--deflate"],
        &["--url", "--count", "--size", "--ca", "--proxy"],
    );
    let Some(url) = args.value("--url") else {
        eprintln!("--url is required\nusage: {USAGE}");
        return ExitCode::from(2);
    };
    let dialer = match dialer(&args) {
        Ok(dialer) => dialer,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match args.value("--count") {
        Some(count) => {
            let Ok(count) = count.parse() else {
                eprintln!("--count takes a number\nusage: {USAGE}");
                return ExitCode::from(2);
            };
            let Some(size) = args.value("--size").map_or(Some(16), |s| s.parse().ok()) else {
                eprintln!("--size takes a number\nusage: {USAGE}");
                return ExitCode::from(2);
            };
            check_echoes(&dialer, &url, count, size)
        }
        None => interactive(&dialer, &url),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The payload of message `i`: text for even `i`, binary for odd, exactly `size` bytes.
fn payload(i: usize, size: usize) -> Message {
    if i % 2 == 0 {
        let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
        Message::Text(
            (0..size)
                .map(|j| alphabet[(i + j) % alphabet.len()] as char)
                .collect(),
        )
    } else {
        Message::Binary((0..size).map(|j| (i * 7 + j) as u8).collect())
    }
}

/// The dialer the flags ask for: permessage-deflate offered, a CA trusted, a proxy.
fn dialer(args: &common::Args) -> wsio::Result<Dialer> {
    let mut config = Config::builder();
    if args.flag("--deflate") {
        config = config.deflate(DeflateConfig::new());
    }
    let mut dialer = Dialer::new().config(config.build());
    if let Some(ca) = args.value("--ca") {
        let roots = wsio::tls::certificates_from_pem_file(ca)?;
        dialer = dialer.tls_config(wsio::tls::client_config(roots)?);
    }
    if let Some(proxy) = args.value("--proxy") {
        dialer = dialer.proxy(Proxy::parse(&proxy)?);
    }
    Ok(dialer)
}

fn check_echoes(dialer: &Dialer, url: &str, count: usize, size: usize) -> wsio::Result<bool> {
    let (mut conn, _) = dialer.dial(url)?;
    if let Some(params) = conn.compression() {
        println!("compression: {params:?}");
    }
    let mut matched = 0;
    for i in 0..count {
        let sent = payload(i, size);
        conn.write_message(sent.kind(), sent.as_bytes())?;
        let echo = conn.read_message()?;
        if echo == sent {
            matched += 1;
        } else {
            eprintln!(
                "message {i}: echo differs ({} of {} bytes, {} vs {})",
                echo.len(),
                size,
                echo.kind(),
                sent.kind()
            );
        }
    }
    let status = conn.close(CloseCode::NORMAL, "")?;
    println!("{matched}/{count} echoes matched; {status}");
    Ok(matched == count)
}

fn interactive(dialer: &Dialer, url: &str) -> wsio::Result<bool> {
    let (conn, _) = dialer.dial(url)?;
    println!("connected to {url}; type lines to send, end with EOF (Ctrl-D)");
    let (mut rx, mut tx) = conn.split()?;
    let printer = std::thread::spawn(move || {
        loop {
            match rx.read_message() {
                Ok(Message::Text(text)) => println!("< {text}"),
                Ok(Message::Binary(data)) => println!("< [{} bytes]", data.len()),
                Err(Error::Closed(status)) => {
                    println!("{status}");
                    return;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return;
                }
            }
        }
    });
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(Error::Io)?;
        tx.write_text(&line)?;
    }
    tx.send_close(CloseCode::NORMAL, "")?;
    let _ = printer.join();
    Ok(true)
}
