//! ONVIF onboarding against a camera simulator on 127.0.0.1 (`vigil_testkit::onvif`: Profile S
//! over SOAP, every request's WS-Security digest checked, and a WS-Discovery responder):
//! `vigil cameras discover` finds it, `vigil cameras add` prints a camera block that loads as
//! config, the password never appears, and a wrong one is refused with a clear error.

mod common;

use common::{repo, vigil};
use vigil_testkit::onvif::OnvifCamera;

fn add(cam: &OnvifCamera, password: Option<&str>, extra: &[&str]) -> std::process::Output {
    let mut c = vigil();
    c.args(["cameras", "add", "--onvif", &cam.host(), "--user", "admin"])
        .args(["--password-env", "VIGIL_TEST_CAM_PW"])
        .args(extra)
        .env_remove("VIGIL_TEST_CAM_PW");
    if let Some(p) = password {
        c.env("VIGIL_TEST_CAM_PW", p);
    }
    c.output().unwrap()
}

#[test]
fn discover_finds_the_camera_and_says_how_to_add_it() {
    let cam = OnvifCamera::start("admin", "s3cret!").unwrap();
    let out = vigil()
        .args(["cameras", "discover", "--wait-secs", "1", "--target"])
        .arg(cam.discovery().to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let url = format!("http://{}/onvif/device_service", cam.host());
    assert!(stdout.contains(&url), "{stdout}");
    assert!(stdout.contains("East Gate, DS-2CD2143G2-I"), "{stdout}");
    assert!(
        stdout.contains(&format!("vigil cameras add --onvif {url} --user USER")),
        "{stdout}"
    );
    assert!(stderr.contains("1 camera(s) answered"), "{stderr}");
}

#[test]
fn add_prints_a_camera_block_that_loads_as_config_without_the_password() {
    let cam = OnvifCamera::start("admin", "s3cret!").unwrap();
    let out = add(&cam, Some("s3cret!"), &["--name", "east_gate"]);
    let block = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{block}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The sub-stream (the smallest profile) decoded, the main stream (the largest) recorded,
    // without the credentials the camera put in them.
    assert!(
        block.contains("    rtsp: 'rtsp://127.0.0.1:554/Streaming/Channels/102?transportmode=unicast&profile=Profile_2'\n    record: 'rtsp://127.0.0.1:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_1'\n"),
        "{block}"
    );
    assert!(
        block.contains("Profile_1 \"mainStream\": 2560×1440 H265 25 fps"),
        "{block}"
    );
    assert!(
        block.contains("Profile_2 \"subStream\": 640×360 H264 25 fps"),
        "{block}"
    );
    assert!(
        block.contains("HIKVISION, DS-2CD2143G2-I, firmware V5.7.3"),
        "{block}"
    );
    assert!(
        !block.contains("s3cret") && !block.contains("leaked"),
        "{block}"
    );
    let calls = cam.calls.lock().unwrap().clone();
    assert!(calls.iter().all(|(_, ok)| *ok), "{calls:?}");
    let ops: Vec<&str> = calls.iter().map(|(op, _)| op.as_str()).collect();
    assert_eq!(
        ops,
        [
            "GetSystemDateAndTime",
            "GetDeviceInformation",
            "GetCapabilities",
            "GetProfiles",
            "GetStreamUri",
            "GetStreamUri"
        ]
    );
    // The camera's clock is three hours off: said, and the requests were dated by it.
    assert!(block.contains("  # its clock is 108"), "{block}");

    // The block, pasted under `cameras:`, is a valid config.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("vigil.yaml");
    let manifest = repo().join("models/yolox-nano.yaml");
    std::fs::write(
        &config,
        format!(
            "cameras:\n{block}detector:\n  manifest: {}\n",
            manifest.display()
        ),
    )
    .unwrap();
    let check = vigil()
        .args(["check", "-c"])
        .arg(&config)
        .env("VIGIL_TEST_CAM_PW", "s3cret!")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // --stream sub: the smallest profile only; --stream main: the largest only.
    for (stream, channel) in [("sub", "102"), ("main", "101")] {
        let out = add(&cam, Some("s3cret!"), &["--stream", stream]);
        let one = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success());
        assert!(
            one.contains(&format!(
                "    rtsp: 'rtsp://127.0.0.1:554/Streaming/Channels/{channel}?"
            )),
            "{one}"
        );
        assert!(!one.contains("    record:"), "{one}");
        assert!(one.contains("  - name: cam_127_0_0_1\n"), "{one}");
    }
}

#[test]
fn a_wrong_or_missing_password_is_a_clear_error() {
    let cam = OnvifCamera::start("admin", "s3cret!").unwrap();
    let out = add(&cam, Some("guess"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("refused the user name or password (Sender not Authorized"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert!(!stderr.contains("guess"), "{stderr}");
    assert_eq!(
        cam.calls.lock().unwrap().as_slice(),
        [
            ("GetSystemDateAndTime".to_string(), true),
            ("GetDeviceInformation".to_string(), false)
        ]
    );

    let out = add(&cam, None, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("VIGIL_TEST_CAM_PW is not set"), "{stderr}");
}

#[test]
fn a_camera_that_is_not_there_is_named_in_the_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = vigil()
        .args(["cameras", "add", "--onvif", &format!("127.0.0.1:{port}")])
        .args([
            "--user",
            "admin",
            "--password-env",
            "VIGIL_TEST_CAM_PW",
            "--timeout-secs",
            "2",
        ])
        .env("VIGIL_TEST_CAM_PW", "x")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot reach http://127.0.0.1:{port}/onvif/device_service"
        )),
        "{stderr}"
    );
}
