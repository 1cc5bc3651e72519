//! `free_port` hands out ports the kernel would not give to anyone else.

use std::collections::HashSet;
use std::net::TcpListener;

/// Linux's default ephemeral range: `bind(0)` and outgoing connections take ports from it.
fn ephemeral() -> std::ops::RangeInclusive<u16> {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .expect("read the ephemeral port range");
    let mut ends = range
        .split_whitespace()
        .map(|p| p.parse::<u16>().expect("a port"));
    let (low, high) = (ends.next().unwrap(), ends.next().unwrap());
    low..=high
}

/// One test, so that no other test of this binary takes ports in between.
#[test]
fn ports_are_distinct_bindable_never_ephemeral_and_a_held_one_is_passed_over() {
    // Ports are handed out in turn: hold the two after this one (or find them held already),
    // and the next handed out is neither of them.
    let p = vigil_testkit::free_port();
    let held: Vec<TcpListener> = [p + 1, p + 2]
        .iter()
        .filter_map(|q| TcpListener::bind(("127.0.0.1", *q)).ok())
        .collect();
    let next = vigil_testkit::free_port();
    assert!(
        next != p + 1 && next != p + 2,
        "{next} is held by this test"
    );
    drop(held);

    let ephemeral = ephemeral();
    let ports: Vec<u16> = (0..200).map(|_| vigil_testkit::free_port()).collect();
    let distinct: HashSet<u16> = ports.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ports.len(),
        "a port handed out twice: {ports:?}"
    );
    for p in &ports {
        assert!(
            !ephemeral.contains(p),
            "port {p} is in the ephemeral range {ephemeral:?}"
        );
        TcpListener::bind(("127.0.0.1", *p)).unwrap_or_else(|e| panic!("bind {p}: {e}"));
    }
}
