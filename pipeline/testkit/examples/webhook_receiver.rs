//! A webhook receiver to point vigil at by hand or in a benchmark: prints one line per request it
//! accepts (arrival time, idempotency key, signature valid or not) until killed.
//!
//!   cargo run --release -p vigil-testkit --example webhook_receiver -- 127.0.0.1:9000 [SECRET]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args
        .next()
        .unwrap_or_else(|| "127.0.0.1:9000".into())
        .parse()
        .expect("ADDR as ip:port");
    let secret = args.next();
    let receiver = vigil_testkit::WebhookReceiver::start_on(addr);
    eprintln!("receiving webhooks at {}", receiver.url());
    let mut printed = 0;
    loop {
        let got = receiver.received();
        for r in &got[printed..] {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            let signed = match (&secret, r.header("x-vigil-signature")) {
                (Some(s), Some(sig)) => {
                    use vigil_deliver::webhook::{REPLAY_WINDOW, unix_now, verify};
                    let ts = r.header("x-vigil-timestamp").unwrap_or("");
                    match verify(s.as_bytes(), &r.body, ts, sig, unix_now(), REPLAY_WINDOW) {
                        Ok(()) => "signature ok".to_string(),
                        Err(e) => format!("REFUSED: {e}"),
                    }
                }
                (None, _) => "signature not checked".to_string(),
                (Some(_), None) => "UNSIGNED".to_string(),
            };
            println!(
                "{:.3} {} {signed}",
                now.as_secs_f64(),
                r.header("idempotency-key").unwrap_or("-")
            );
        }
        printed = got.len();
        std::thread::sleep(Duration::from_millis(20));
    }
}
