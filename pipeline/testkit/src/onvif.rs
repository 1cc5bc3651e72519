//! An ONVIF camera on 127.0.0.1 for onboarding tests: a Profile S device service and media
//! service over HTTP (SOAP 1.2) that refuse any request whose WS-Security UsernameToken digest
//! does not check out or whose creation time is more than [`CLOCK_TOLERANCE_SECS`] from the
//! camera's clock — which runs [`CLOCK_AHEAD_SECS`] ahead of the machine's, as a camera never set
//! to NTP does — and a WS-Discovery responder on UDP. Its answers follow the ONVIF
//! specification's examples (a camera with a main H.265 and a sub H.264 profile, and an
//! audio-only profile), so the client reads them as it would a real camera's.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The camera's clock is this far ahead of the machine's.
pub const CLOCK_AHEAD_SECS: i64 = 3 * 3600 + 17;
/// How far a token's creation time may be from the camera's clock.
pub const CLOCK_TOLERANCE_SECS: i64 = 60;

const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
const NAMESPACES: &str = r#"xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:ter="http://www.onvif.org/ver10/error""#;

/// The simulated camera; stops when dropped.
pub struct OnvifCamera {
    http: SocketAddr,
    discovery: SocketAddr,
    stop: Arc<AtomicBool>,
    /// Every SOAP operation asked, with whether its credentials checked out.
    pub calls: Arc<Mutex<Vec<(String, bool)>>>,
    threads: Vec<JoinHandle<()>>,
}

impl OnvifCamera {
    /// Starts a camera whose ONVIF user is `user` with `password`.
    pub fn start(user: &str, password: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let http = listener.local_addr()?;
        let udp = UdpSocket::bind("127.0.0.1:0")?;
        udp.set_read_timeout(Some(Duration::from_millis(100)))?;
        let discovery = udp.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (s, c, u, p) = (
            stop.clone(),
            calls.clone(),
            user.to_string(),
            password.to_string(),
        );
        let serve = std::thread::Builder::new()
            .name("onvif-http".into())
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let _ = answer(conn, http, &u, &p, &c);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })?;
        let s = stop.clone();
        let discover = std::thread::Builder::new()
            .name("onvif-discovery".into())
            .spawn(move || {
                let mut buf = vec![0u8; 65_535];
                while !s.load(Ordering::Relaxed) {
                    if let Ok((n, from)) = udp.recv_from(&mut buf) {
                        let probe = String::from_utf8_lossy(&buf[..n]).into_owned();
                        // Noise first (another protocol on the port), then the answer.
                        let _ = udp.send_to(b"\x00not a soap message", from);
                        if let Some(m) = probe_matches(&probe, http) {
                            let _ = udp.send_to(m.as_bytes(), from);
                        }
                    }
                }
            })?;
        Ok(Self {
            http,
            discovery,
            stop,
            calls,
            threads: vec![serve, discover],
        })
    }

    /// `127.0.0.1:PORT` of its HTTP services.
    pub fn host(&self) -> String {
        self.http.to_string()
    }

    /// Where its WS-Discovery responder listens.
    pub fn discovery(&self) -> SocketAddr {
        self.discovery
    }
}

impl Drop for OnvifCamera {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// One HTTP request on `conn`, answered and closed.
fn answer(
    mut conn: TcpStream,
    me: SocketAddr,
    user: &str,
    password: &str,
    calls: &Mutex<Vec<(String, bool)>>,
) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let (head_end, length) = loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, length.min(1 << 20));
        }
    };
    while data.len() < head_end + length {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&data[head_end..]).into_owned();
    let (status, reply) = respond(&body, me, user, password, calls);
    let text = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/soap+xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    conn.write_all(text.as_bytes())
}

/// (HTTP status line, SOAP envelope) for one request.
fn respond(
    body: &str,
    me: SocketAddr,
    user: &str,
    password: &str,
    calls: &Mutex<Vec<(String, bool)>>,
) -> (&'static str, String) {
    let Ok(doc) = roxmltree::Document::parse(body) else {
        return fault("400 Bad Request", "s:Sender", "ter:WellFormed", "Not XML");
    };
    let operation = doc
        .descendants()
        .find(|n| n.has_tag_name((SOAP, "Body")))
        .and_then(|b| b.first_element_child())
        .map(|n| n.tag_name().name().to_string())
        .unwrap_or_default();
    if operation == "GetSystemDateAndTime" {
        // Answered to anyone: clients date their tokens by it.
        calls.lock().unwrap().push((operation, true));
        return ("200 OK", envelope(&date_and_time(camera_now())));
    }
    let authorised = credentials_check_out(&doc, user, password);
    calls.lock().unwrap().push((operation.clone(), authorised));
    if !authorised {
        return fault(
            "400 Bad Request",
            "s:Sender",
            "ter:NotAuthorized",
            "Sender not Authorized",
        );
    }
    let text = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .unwrap_or("")
            .to_string()
    };
    let body = match operation.as_str() {
        "GetDeviceInformation" => "<tds:GetDeviceInformationResponse><tds:Manufacturer>HIKVISION</tds:Manufacturer><tds:Model>DS-2CD2143G2-I</tds:Model><tds:FirmwareVersion>V5.7.3 build 220112</tds:FirmwareVersion><tds:SerialNumber>DS-2CD2143G2-I20220101AAWRJ12345678</tds:SerialNumber><tds:HardwareId>88</tds:HardwareId></tds:GetDeviceInformationResponse>".to_string(),
        "GetCapabilities" => format!("<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>http://{me}/onvif/Media</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>true</tt:RTPMulticast><tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"),
        "GetProfiles" => format!("<trt:GetProfilesResponse>{}{}<trt:Profiles token=\"Profile_Audio\" fixed=\"true\"><tt:Name>audioOnly</tt:Name><tt:AudioEncoderConfiguration token=\"AudioEncoderToken_1\"><tt:Name>AudioEncoderConfig</tt:Name><tt:Encoding>G711</tt:Encoding></tt:AudioEncoderConfiguration></trt:Profiles></trt:GetProfilesResponse>", profile("Profile_2", "subStream", "H264", 640, 360), profile("Profile_1", "mainStream", "H265", 2560, 1440)),
        "GetStreamUri" => {
            let channel = match text("ProfileToken").as_str() {
                "Profile_1" => "101",
                "Profile_2" => "102",
                other => return fault("400 Bad Request", "s:Sender", "ter:NoProfile", &format!("no profile {other}")),
            };
            // A camera that puts credentials in the URI it gives (some do): vigil drops them.
            format!("<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>rtsp://admin:leaked@{}:554/Streaming/Channels/{channel}?transportmode=unicast&amp;profile={}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>", me.ip(), text("ProfileToken"))
        }
        _ => return fault("400 Bad Request", "s:Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented"),
    };
    ("200 OK", envelope(&body))
}

fn profile(token: &str, name: &str, encoding: &str, w: u32, h: u32) -> String {
    format!(
        "<trt:Profiles token=\"{token}\" fixed=\"true\"><tt:Name>{name}</tt:Name><tt:VideoSourceConfiguration token=\"VideoSourceToken\"><tt:Name>VideoSourceConfig</tt:Name><tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x=\"0\" y=\"0\" width=\"2560\" height=\"1440\"/></tt:VideoSourceConfiguration><tt:VideoEncoderConfiguration token=\"VideoEncoder_{token}\"><tt:Name>VideoEncoder_{name}</tt:Name><tt:Encoding>{encoding}</tt:Encoding><tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution><tt:Quality>3.000000</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit></tt:RateControl></tt:VideoEncoderConfiguration></trt:Profiles>"
    )
}

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><s:Envelope {NAMESPACES}><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn fault(status: &'static str, code: &str, subcode: &str, reason: &str) -> (&'static str, String) {
    (
        status,
        envelope(&format!(
            r#"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">{reason}</s:Text></s:Reason></s:Fault>"#
        )),
    )
}

/// The UsernameToken names `user` and its password digest is Base64(SHA-1(nonce ‖ created ‖
/// password)) of its own nonce and creation time (WS-Security UsernameToken Profile 1.0, §3.1).
fn credentials_check_out(doc: &roxmltree::Document, user: &str, password: &str) -> bool {
    let token = doc
        .descendants()
        .find(|n| n.has_tag_name((WSSE, "UsernameToken")));
    let Some(token) = token else { return false };
    let field = |ns: &str, name: &str| {
        token
            .children()
            .find(|n| n.has_tag_name((ns, name)))
            .and_then(|n| n.text())
            .map(str::trim)
    };
    let typ = token
        .children()
        .find(|n| n.has_tag_name((WSSE, "Password")))
        .and_then(|n| n.attribute("Type"))
        .unwrap_or("");
    let (Some(name), Some(digest), Some(nonce), Some(created)) = (
        field(WSSE, "Username"),
        field(WSSE, "Password"),
        field(WSSE, "Nonce"),
        field(WSU, "Created"),
    ) else {
        return false;
    };
    let Ok(nonce) = B64.decode(nonce) else {
        return false;
    };
    let fresh = unix_from_rfc3339(created)
        .is_some_and(|t| (t - camera_now()).abs() <= CLOCK_TOLERANCE_SECS);
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(&nonce);
    ctx.update(created.as_bytes());
    ctx.update(password.as_bytes());
    typ.ends_with("#PasswordDigest") && name == user && B64.encode(ctx.finish()) == digest && fresh
}

/// The camera's clock: Unix seconds, [`CLOCK_AHEAD_SECS`] ahead.
fn camera_now() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    now + CLOCK_AHEAD_SECS
}

/// An RFC 3339 UTC time (`…Z`, with or without milliseconds) as Unix seconds.
fn unix_from_rfc3339(s: &str) -> Option<i64> {
    let t = vigil_core::time::parse_rfc3339(s)?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64)
}

/// A `GetSystemDateAndTimeResponse` for Unix time `t` (UTC, set by hand, as the spec's example).
fn date_and_time(t: i64) -> String {
    let t = t.max(0) as u64;
    let (days, rem) = (t / 86_400, t % 86_400);
    let (y, m, d) = vigil_core::time::civil_from_days(days);
    format!(
        "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings><tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime><tt:Time><tt:Hour>{}</tt:Hour><tt:Minute>{}</tt:Minute><tt:Second>{}</tt:Second></tt:Time><tt:Date><tt:Year>{y}</tt:Year><tt:Month>{m}</tt:Month><tt:Day>{d}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The `ProbeMatches` answering a probe for network video transmitters; `None` for anything else.
fn probe_matches(probe: &str, http: SocketAddr) -> Option<String> {
    let doc = roxmltree::Document::parse(probe).ok()?;
    let id = doc
        .descendants()
        .find(|n| n.tag_name().name() == "MessageID")?
        .text()?
        .trim()
        .to_string();
    let types = doc
        .descendants()
        .find(|n| n.tag_name().name() == "Types")?
        .text()?;
    if !types.contains("NetworkVideoTransmitter") {
        return None;
    }
    Some(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP}" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><SOAP-ENV:Header><wsa:MessageID>urn:uuid:7f2b6a3c-0000-4000-8000-000000000001</wsa:MessageID><wsa:RelatesTo>{id}</wsa:RelatesTo><wsa:To SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To><wsa:Action SOAP-ENV:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></SOAP-ENV:Header><SOAP-ENV:Body><wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:4419d2b4-6d6b-11b2-8000-bcbac2a1b2c3</wsa:Address></wsa:EndpointReference><wsd:Types>dn:NetworkVideoTransmitter tds:Device</wsd:Types><wsd:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/Profile/Streaming onvif://www.onvif.org/name/East%20Gate onvif://www.onvif.org/hardware/DS-2CD2143G2-I onvif://www.onvif.org/location/city/hangzhou</wsd:Scopes><wsd:XAddrs>http://{http}/onvif/device_service</wsd:XAddrs><wsd:MetadataVersion>10</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>"#
    ))
}
