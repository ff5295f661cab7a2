//! Waiting for something another thread does, with a bound.

use std::thread;
use std::time::{Duration, Instant};

/// Waits up to `limit` for `f` to hold; whether it did.
pub fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + limit;
    while !f() {
        if Instant::now() > until {
            return false;
        }
        thread::sleep(Duration::from_millis(10));
    }
    true
}
