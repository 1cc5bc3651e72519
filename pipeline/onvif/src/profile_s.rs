//! What a Profile S camera says about itself: its information (`GetDeviceInformation`), where
//! its media service is (`GetCapabilities`), its media profiles (`GetProfiles`: video encoding,
//! resolution, frame rate) and the RTSP URI of each (`GetStreamUri`). Cameras usually offer a
//! main stream (full resolution, for evidence) and a sub-stream (low resolution, for analysis).

use crate::soap::{Client, NS_DEVICE, NS_MEDIA, NS_SCHEMA, OnvifError, escape};
use roxmltree::Node;

/// A camera as onboarding found it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Device {
    /// The device service that was asked.
    pub url: String,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub serial: Option<String>,
    /// Its clock minus ours, in seconds (`None`: it did not say its time).
    pub clock_offset_secs: Option<i64>,
    /// Its media profiles with video, largest resolution first.
    pub profiles: Vec<Profile>,
}

/// One media profile with video.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub token: String,
    pub name: String,
    /// `H264`, `H265`, `JPEG`, … as the device names it.
    pub encoding: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub fps: Option<f64>,
    /// Its RTSP URI (credentials, if the device put any in, left as given).
    pub uri: String,
}

impl Profile {
    /// Pixels per frame, 0 when unknown.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width.unwrap_or(0)) * u64::from(self.height.unwrap_or(0))
    }
}

/// The device service URL for `host` (`HOST[:PORT]`, or a whole `http(s)://` URL kept as is).
pub fn device_url(host: &str) -> String {
    match host.starts_with("http://") || host.starts_with("https://") {
        true => host.to_string(),
        false => format!("http://{host}/onvif/device_service"),
    }
}

/// Asks the device at `url` (its device service) everything onboarding needs.
pub fn onboard(client: &Client, url: &str) -> Result<Device, OnvifError> {
    let mut device = Device {
        url: url.to_string(),
        ..Device::default()
    };
    // Tokens are dated by the device's clock; one that cannot say its time is trusted to agree.
    device.clock_offset_secs = match client.sync_clock(url) {
        Ok(offset) => Some(offset),
        Err(e @ OnvifError::Unreachable { .. }) => return Err(e),
        Err(_) => None,
    };
    let info = client.call(
        url,
        &format!("{NS_DEVICE}/GetDeviceInformation"),
        &format!(r#"<tds:GetDeviceInformation xmlns:tds="{NS_DEVICE}"/>"#),
    )?;
    let doc = parse(url, &info)?;
    if let Some(r) = find(doc.root(), NS_DEVICE, "GetDeviceInformationResponse") {
        let text = |name| child_text(r, NS_DEVICE, name);
        device.manufacturer = text("Manufacturer");
        device.model = text("Model");
        device.firmware = text("FirmwareVersion");
        device.serial = text("SerialNumber");
    }
    let caps = client.call(
        url,
        &format!("{NS_DEVICE}/GetCapabilities"),
        &format!(
            r#"<tds:GetCapabilities xmlns:tds="{NS_DEVICE}"><tds:Category>Media</tds:Category></tds:GetCapabilities>"#
        ),
    )?;
    let doc = parse(url, &caps)?;
    let media = find(doc.root(), NS_SCHEMA, "Media")
        .and_then(|m| child_text(m, NS_SCHEMA, "XAddr"))
        .ok_or_else(|| {
            malformed(
                url,
                "GetCapabilities names no media service (tt:Media/tt:XAddr)",
            )
        })?;

    let answer = client.call(
        &media,
        &format!("{NS_MEDIA}/GetProfiles"),
        &format!(r#"<trt:GetProfiles xmlns:trt="{NS_MEDIA}"/>"#),
    )?;
    let doc = parse(&media, &answer)?;
    for p in doc
        .descendants()
        .filter(|n| n.has_tag_name((NS_MEDIA, "Profiles")))
    {
        let Some(video) = child(p, NS_SCHEMA, "VideoEncoderConfiguration") else {
            continue; // audio or metadata only
        };
        let Some(token) = p.attribute("token") else {
            continue;
        };
        let resolution = child(video, NS_SCHEMA, "Resolution");
        let number = |n: Option<Node>, name| n.and_then(|n| child_text(n, NS_SCHEMA, name));
        let uri = stream_uri(client, &media, token)?;
        device.profiles.push(Profile {
            token: token.to_string(),
            name: child_text(p, NS_SCHEMA, "Name").unwrap_or_else(|| token.to_string()),
            encoding: child_text(video, NS_SCHEMA, "Encoding"),
            width: number(resolution, "Width").and_then(|w| w.parse().ok()),
            height: number(resolution, "Height").and_then(|h| h.parse().ok()),
            fps: number(child(video, NS_SCHEMA, "RateControl"), "FrameRateLimit")
                .and_then(|f| f.parse().ok())
                .filter(|f: &f64| f.is_finite() && *f > 0.0),
            uri,
        });
    }
    if device.profiles.is_empty() {
        return Err(malformed(&media, "GetProfiles lists no profile with video"));
    }
    device
        .profiles
        .sort_by_key(|p| std::cmp::Reverse(p.pixels()));
    Ok(device)
}

/// The RTSP URI of profile `token` (RTP over RTSP, unicast).
fn stream_uri(client: &Client, media: &str, token: &str) -> Result<String, OnvifError> {
    let answer = client.call(
        media,
        &format!("{NS_MEDIA}/GetStreamUri"),
        &format!(
            r#"<trt:GetStreamUri xmlns:trt="{NS_MEDIA}" xmlns:tt="{NS_SCHEMA}"><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup><trt:ProfileToken>{}</trt:ProfileToken></trt:GetStreamUri>"#,
            escape(token)
        ),
    )?;
    let doc = parse(media, &answer)?;
    find(doc.root(), NS_MEDIA, "MediaUri")
        .and_then(|m| child_text(m, NS_SCHEMA, "Uri"))
        .filter(|u| u.starts_with("rtsp://") || u.starts_with("rtsps://"))
        .ok_or_else(|| {
            malformed(
                media,
                &format!("GetStreamUri gives profile \"{token}\" no rtsp:// URI"),
            )
        })
}

fn parse<'a>(url: &str, text: &'a str) -> Result<roxmltree::Document<'a>, OnvifError> {
    roxmltree::Document::parse(text).map_err(|e| malformed(url, &format!("not XML: {e}")))
}

fn malformed(url: &str, reason: &str) -> OnvifError {
    OnvifError::Malformed {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

fn find<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.descendants().find(|d| d.has_tag_name((ns, name)))
}

fn child<'a, 'i>(n: Node<'a, 'i>, ns: &str, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name((ns, name)))
}

fn child_text(n: Node, ns: &str, name: &str) -> Option<String> {
    child(n, ns, name)
        .and_then(|c| c.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_becomes_the_device_service_url() {
        assert_eq!(
            device_url("192.168.1.64"),
            "http://192.168.1.64/onvif/device_service"
        );
        assert_eq!(
            device_url("10.0.0.2:8080"),
            "http://10.0.0.2:8080/onvif/device_service"
        );
        assert_eq!(device_url("http://cam/onvif/dev"), "http://cam/onvif/dev");
    }
}
