//! A client that never reads holds up nobody: broadcasts return at once, the others get
//! every message, and the slow one is dropped when its queue fills (close 1008), counted.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::{Served, eventually};
use wsio::MessageKind;
use wsio_hub::{Disconnected, Hub};

const MESSAGES: usize = 400;
const SIZE: usize = 64 * 1024;

#[test]
fn a_client_that_never_reads_is_dropped_and_the_others_get_everything() {
    let reasons = Arc::new(Mutex::new(HashMap::new()));
    let r = reasons.clone();
    let served = Served::start(
        Hub::builder()
            .queue_limit(32, 4 << 20)
            .write_timeout(Duration::from_millis(500))
            .on_connection(move |conn| {
                let r = r.clone();
                let id = conn.id().to_owned();
                conn.on_disconnect(move |why| {
                    let too_slow = matches!(why, Disconnected::TooSlow);
                    r.lock().unwrap().insert(id, too_slow);
                });
            }),
    );
    // The slow client: connected, never reading.
    let slow = served.native_client();
    assert!(eventually(Duration::from_secs(5), || served.hub.len() == 1));
    let slow_id = served.hub.connections()[0].id().to_owned();
    let mut fast: Vec<_> = (0..3).map(|_| served.native_client()).collect();
    assert!(eventually(Duration::from_secs(5), || served.hub.len() == 4));

    // Each fast client reads on its own thread and says how far it got.
    let progress: Arc<Vec<AtomicUsize>> = Arc::new((0..3).map(|_| AtomicUsize::new(0)).collect());
    let readers: Vec<_> = fast
        .drain(..)
        .enumerate()
        .map(|(n, mut conn)| {
            let progress = progress.clone();
            std::thread::spawn(move || {
                let mut got = 0;
                while got < MESSAGES {
                    let m = conn.read_message().expect("every message");
                    assert_eq!(m.kind(), MessageKind::Binary);
                    assert_eq!(m.len(), SIZE);
                    assert_eq!(m.as_bytes()[0], (got % 251) as u8, "in order");
                    got += 1;
                    progress[n].store(got, Ordering::Release);
                }
                (got, conn)
            })
        })
        .collect();
    // The sender keeps the fast readers within 8 messages (their queues hold 32); the slow
    // one falls behind without bound. The broadcast itself never waits for anyone.
    for i in 0..MESSAGES {
        let behind = |p: &AtomicUsize| i.saturating_sub(p.load(Ordering::Acquire)) > 8;
        assert!(
            eventually(Duration::from_secs(20), || !progress.iter().any(behind)),
            "a fast reader fell behind at {i}"
        );
        let mut payload = vec![0u8; SIZE];
        payload[0] = (i % 251) as u8;
        served.hub.everyone().binary(&payload);
    }
    let fast: Vec<_> = readers
        .into_iter()
        .map(|reader| {
            let (got, conn) = reader.join().unwrap();
            assert_eq!(got, MESSAGES);
            conn
        })
        .collect();
    // 400 x 64 KiB is more than the slow client's socket buffers and queue hold together.
    let slow_gone = || reasons.lock().unwrap().contains_key(&slow_id);
    assert!(eventually(Duration::from_secs(10), slow_gone));
    assert!(reasons.lock().unwrap()[&slow_id], "dropped as too slow");
    let stats = served.hub.stats();
    assert_eq!(stats.too_slow, 1);
    assert_eq!(stats.connections, 3);
    drop((slow, fast));
}
