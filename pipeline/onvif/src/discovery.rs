//! WS-Discovery (the 2005/04 draft ONVIF uses): a `Probe` for `dn:NetworkVideoTransmitter` sent
//! over UDP to the multicast group 239.255.255.250:3702 (or to one address), and the
//! `ProbeMatches` that answer it within the wait. Only answers that relate to this probe's
//! message id count; each device once (by its endpoint address).

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Where WS-Discovery probes go on a LAN.
pub const MULTICAST: &str = "239.255.255.250:3702";
/// The largest datagram read.
const MAX_DATAGRAM: usize = 65_535;
/// At most this many devices are kept from one probe (a hostile network cannot grow the list).
const MAX_DEVICES: usize = 4096;

const NS_SOAP: &str = crate::soap::NS_SOAP;
const NS_ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
const NS_DISCOVERY: &str = "http://schemas.xmlsoap.org/ws/2005/04/discovery";

/// A device that answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    /// Its endpoint reference (`urn:uuid:…`).
    pub endpoint: String,
    /// Its device service URLs.
    pub xaddrs: Vec<String>,
    /// Its scopes (`onvif://www.onvif.org/name/…`, `…/hardware/…`, `…/location/…`).
    pub scopes: Vec<String>,
    /// Where the answer came from.
    pub from: SocketAddr,
}

impl Found {
    /// The value of scope `onvif://www.onvif.org/<kind>/<value>` (percent-decoded), if any.
    pub fn scope(&self, kind: &str) -> Option<String> {
        let prefix = format!("onvif://www.onvif.org/{kind}/");
        self.scopes
            .iter()
            .find_map(|s| s.strip_prefix(&prefix))
            .map(percent_decode)
    }
}

/// The probe with message id `uuid:<id>`.
pub fn probe_message(id: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" xmlns:d="{NS_DISCOVERY}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><s:Header><a:MessageID>uuid:{id}</a:MessageID><a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To><a:Action s:mustUnderstand="1">{NS_DISCOVERY}/Probe</a:Action></s:Header><s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body></s:Envelope>"#
    )
}

/// Sends a probe to `target` and gathers the devices that answer within `wait`.
pub fn probe(target: SocketAddr, wait: Duration) -> std::io::Result<Vec<Found>> {
    let socket = UdpSocket::bind(match target {
        SocketAddr::V4(_) => "0.0.0.0:0",
        SocketAddr::V6(_) => "[::]:0",
    })?;
    if target.ip().is_multicast() {
        socket.set_multicast_ttl_v4(1)?;
    }
    let id = message_id();
    socket.send_to(probe_message(&id).as_bytes(), target)?;
    let deadline = Instant::now() + wait;
    let mut found: Vec<Found> = Vec::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left))?;
        let (n, from) = match socket.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) => return Err(e),
        };
        let Ok(text) = std::str::from_utf8(&buf[..n]) else {
            continue;
        };
        for f in matches(text, &id, from) {
            if found.len() < MAX_DEVICES && !found.iter().any(|g| g.endpoint == f.endpoint) {
                found.push(f);
            }
        }
    }
    Ok(found)
}

/// The devices in a `ProbeMatches` answer to message `uuid:<id>`; none for anything else.
pub fn matches(text: &str, id: &str, from: SocketAddr) -> Vec<Found> {
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return Vec::new();
    };
    let relates = doc
        .descendants()
        .find(|n| n.has_tag_name((NS_ADDRESSING, "RelatesTo")))
        .and_then(|n| n.text())
        .map(str::trim);
    if relates != Some(&format!("uuid:{id}")) {
        return Vec::new();
    }
    let words = |m: roxmltree::Node, name: &str| -> Vec<String> {
        m.descendants()
            .find(|n| n.has_tag_name((NS_DISCOVERY, name)))
            .and_then(|n| n.text())
            .map(|t| t.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    };
    doc.descendants()
        .filter(|n| n.has_tag_name((NS_DISCOVERY, "ProbeMatch")))
        .filter_map(|m| {
            let endpoint = m
                .descendants()
                .find(|n| n.has_tag_name((NS_ADDRESSING, "Address")))
                .and_then(|n| n.text())?
                .trim()
                .to_string();
            let xaddrs = words(m, "XAddrs");
            (!xaddrs.is_empty()).then(|| Found {
                endpoint,
                xaddrs,
                scopes: words(m, "Scopes"),
                from,
            })
        })
        .collect()
}

/// A fresh random message id (UUID v4 form).
fn message_id() -> String {
    let mut b = crate::soap::random_16();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `%XX` escapes decoded (scopes percent-encode names); invalid ones kept as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(relates: &str) -> String {
        format!(
            r#"<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{NS_SOAP}" xmlns:wsa="{NS_ADDRESSING}" xmlns:wsd="{NS_DISCOVERY}"><SOAP-ENV:Header><wsa:RelatesTo>uuid:{relates}</wsa:RelatesTo></SOAP-ENV:Header><SOAP-ENV:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:cafe</wsa:Address></wsa:EndpointReference><wsd:Types>dn:NetworkVideoTransmitter</wsd:Types><wsd:Scopes>onvif://www.onvif.org/name/East%20Gate onvif://www.onvif.org/hardware/DS-2CD2143</wsd:Scopes><wsd:XAddrs>http://10.0.0.7/onvif/device_service http://[fe80::1]/onvif/device_service</wsd:XAddrs></wsd:ProbeMatch></wsd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
        )
    }

    #[test]
    fn an_answer_to_this_probe_names_the_device_and_its_service() {
        let from: SocketAddr = "10.0.0.7:3702".parse().unwrap();
        let found = matches(&answer("abc"), "abc", from);
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.endpoint, "urn:uuid:cafe");
        assert_eq!(f.xaddrs[0], "http://10.0.0.7/onvif/device_service");
        assert_eq!(f.scope("name").as_deref(), Some("East Gate"));
        assert_eq!(f.scope("hardware").as_deref(), Some("DS-2CD2143"));
        assert_eq!(f.scope("location"), None);
    }

    #[test]
    fn answers_to_other_probes_and_garbage_are_ignored() {
        let from: SocketAddr = "10.0.0.7:3702".parse().unwrap();
        assert!(matches(&answer("other"), "abc", from).is_empty());
        assert!(matches("<<<", "abc", from).is_empty());
        assert!(matches("", "abc", from).is_empty());
    }

    #[test]
    fn message_ids_are_uuids_and_differ() {
        let (a, b) = (message_id(), message_id());
        assert_eq!(a.len(), 36);
        assert_ne!(a, b);
        assert!(probe_message(&a).contains(&format!("uuid:{a}")));
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("East%20Gate"), "East Gate");
        assert_eq!(percent_decode("%E4%B8%9C%E9%97%A8"), "东门");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
