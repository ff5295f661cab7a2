//! A connection idle for longer than the write timeout still answers pings and closes, the
//! keepalive still works, and a close the hub starts is bounded by the close timeout.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Served, eventually};
use wsio::{CloseCode, Config, FlushPolicy, Keepalive};
use wsio_hub::Hub;

const SHORT: Duration = Duration::from_millis(100);

#[test]
fn a_ping_after_an_idle_spell_longer_than_the_write_timeout_gets_its_pong() {
    let served = Served::start(Hub::builder().write_timeout(SHORT));
    let mut a = served.client();
    let pongs = Arc::new(AtomicUsize::new(0));
    let p = pongs.clone();
    a.conn.set_pong_handler(move |_| {
        p.fetch_add(1, Ordering::SeqCst);
        Ok(())
    });
    std::thread::sleep(SHORT * 4);
    a.conn.write_ping(b"after idle").unwrap();
    let until = Instant::now() + Duration::from_secs(5);
    while pongs.load(Ordering::SeqCst) == 0 && Instant::now() < until {
        a.conn
            .set_read_deadline(Some(Instant::now() + SHORT))
            .unwrap();
        let _ = a.conn.read_message();
    }
    assert_eq!(pongs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_close_after_an_idle_spell_longer_than_the_write_timeout_is_answered() {
    let served = Served::start(Hub::builder().write_timeout(SHORT));
    let mut a = served.client();
    std::thread::sleep(SHORT * 4);
    let status = a.conn.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(status.code.as_u16(), 1000, "{status:?}");
}

#[test]
fn the_keepalive_outlives_the_write_timeout() {
    let config = Config::builder()
        .flush_policy(FlushPolicy::Batched)
        .keepalive(Some(Keepalive::new(
            Duration::from_millis(200),
            Duration::from_millis(600),
        )))
        .build();
    let served = Served::start(
        Hub::builder()
            .config(config)
            .write_timeout(Duration::from_millis(50)),
    );
    let mut a = served.client();
    // Reading answers the hub's pings; the connection must outlive many keepalive rounds.
    a.nothing_for(Duration::from_secs(2));
    a.join("still-here");
}

#[test]
fn a_client_that_never_answers_the_hubs_close_is_cut_after_the_close_timeout() {
    let config = Config::builder()
        .flush_policy(FlushPolicy::Batched)
        .close_timeout(Some(Duration::from_millis(300)))
        .build();
    let gone = Arc::new(Mutex::new(None));
    let g = gone.clone();
    let served = Served::start(Hub::builder().config(config).on_connection(move |conn| {
        let g = g.clone();
        let started = Instant::now();
        conn.on_disconnect(move |_| *g.lock().unwrap() = Some(started.elapsed()));
    }));
    let mut a = served.client();
    let started = Instant::now();
    assert!(served.hub.disconnect(&a.id));
    // Never reads (never answers the close) and keeps talking.
    while gone.lock().unwrap().is_none() && started.elapsed() < Duration::from_secs(5) {
        if a.conn.write_text("still here").is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(eventually(Duration::from_secs(5), || gone
        .lock()
        .unwrap()
        .is_some()));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn the_welcome_comes_first_even_while_broadcasts_go_on() {
    let served = Served::start(Hub::builder());
    let hub = served.hub.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    let spammer = std::thread::spawn(move || {
        while !s.load(Ordering::Relaxed) {
            hub.everyone().emit("tick", &1).unwrap();
            std::thread::sleep(Duration::from_micros(200));
        }
    });
    for _ in 0..100 {
        let (mut conn, _) = wsio::Dialer::new()
            .subprotocols(["wsio-hub.1"])
            .dial(&served.url())
            .unwrap();
        conn.set_read_deadline(Some(Instant::now() + Duration::from_secs(5)))
            .unwrap();
        let first = conn.read_message().unwrap();
        assert!(first.as_text().unwrap().contains("\"hub\":1"), "{first:?}");
    }
    stop.store(true, Ordering::Relaxed);
    spammer.join().unwrap();
}
