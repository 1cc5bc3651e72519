//! Handling alerts on the page in a real headless Chromium against a real server: an operator
//! takes an alert, assigns it, comments and closes it, marks another a false alarm with its
//! reason, sees a step that does not fit refused, and downloads today's report as CSV and XLSX.
//! The store holds the steps (each in the access chain, the export too) and `verify` finds the
//! store intact.

mod common;

use std::process::Command;
use vigil_deliver::AlertStore;
use vigil_deliver::access::AccessQuery;
use vigil_deliver::handling::State;

const GATE: &str = "01a2240a-0000-7000-8000-0000000000c1";
const LOT: &str = "01a2240a-0000-7000-8000-0000000000c2";

#[test]
fn an_operator_handles_alerts_and_downloads_the_report() {
    let browser = common::browser();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("evidence")).unwrap();
    // Two alerts raised a minute ago (today, in Beijing time, for the report).
    let wall = vigil_core::time::rfc3339(
        std::time::SystemTime::now() - std::time::Duration::from_secs(60),
    );
    let db = dir.path().join("alerts.db");
    {
        let mut store = AlertStore::open(&db).unwrap();
        store.insert(&common::alert(GATE, "gate", &wall)).unwrap();
        store.insert(&common::alert(LOT, "lot", &wall)).unwrap();
    }
    let server = common::start(
        common::config(dir.path(), &["gate", "lot"]),
        vigil_serve::Events::default(),
    );
    let xlsx = dir.path().join("report.xlsx");
    let run = Command::new("timeout")
        .arg("120")
        .arg("node")
        .arg(browser.join("handling.mjs"))
        .arg(format!("http://{}", server.addr()))
        .arg(common::OPERATOR)
        .args([GATE, LOT])
        .arg(&xlsx)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    server.stop();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "handling page test failed: {stdout}");
    let seen: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(seen["before"], "待处理");
    assert_eq!(seen["taken"], "处理中");
    let gate = &seen["gateDone"];
    assert_eq!(gate["badge"], "已办结", "{gate}");
    assert!(
        gate["state"].as_str().unwrap().contains("负责人 王师傅"),
        "{gate}"
    );
    let steps: Vec<&str> = gate["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(steps.len(), 4, "{steps:?}");
    assert!(steps[0].ends_with("guard 接手处理"), "{steps:?}");
    assert!(steps[1].ends_with("guard 指派给 王师傅"), "{steps:?}");
    assert!(steps[2].ends_with("guard 备注 已联系车主"), "{steps:?}");
    assert!(steps[3].ends_with("guard 办结 车已挪走"), "{steps:?}");
    assert_eq!(
        (
            gate["takeDisabled"].as_bool(),
            gate["reopenEnabled"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(seen["lotBadge"], "误报");
    assert_eq!(seen["filtered"]["false_alarm"], serde_json::json!([LOT]));
    let mut done: Vec<String> = serde_json::from_value(seen["filtered"]["done"].clone()).unwrap();
    done.sort();
    assert_eq!(done, [GATE, LOT]);
    assert_eq!(seen["refused"]["status"], 409);
    assert_eq!(
        seen["refused"]["body"]["error"],
        "it is done: reopen it first"
    );

    // The report: one row per camera, today, with what was done.
    let today = &vigil_core::time::beijing(&wall)[..10];
    let csv = seen["csv"].as_str().unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "日期,摄像头,告警类型,告警数,已确认,已办结,误报,确认用时中位数（分钟）,办结用时中位数（分钟）"
    );
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with(&format!("{today},gate,dwell,1,1,1,0,")),
        "{csv}"
    );
    assert!(
        lines[2].starts_with(&format!("{today},lot,dwell,1,1,1,1,")),
        "{csv}"
    );
    assert_eq!(seen["csvName"], format!("vigil-report-{today}-{today}.csv"));
    // The workbook, read by Python's zipfile and XML parser: the same headers and counts.
    let read = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys, zipfile, xml.etree.ElementTree as E\n\
             z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n\
             ns = {'s': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}\n\
             rows = E.fromstring(z.read('xl/worksheets/sheet1.xml')).findall('.//s:row', ns)\n\
             for r in rows: print('|'.join((c.findtext('s:v', '', ns) or c.findtext('s:is/s:t', '', ns)) for c in r))",
        )
        .arg(&xlsx)
        .output()
        .unwrap();
    let sheet = String::from_utf8_lossy(&read.stdout);
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let rows: Vec<&str> = sheet.lines().collect();
    assert_eq!(rows.len(), 3, "{sheet}");
    assert!(
        rows[0].starts_with("日期|摄像头|告警类型|告警数"),
        "{sheet}"
    );
    assert!(
        rows[2].starts_with(&format!("{today}|lot|dwell|1|1|1|1|")),
        "{sheet}"
    );

    // In the store: the states, every step and both exports in the access chain, intact.
    let store = AlertStore::open(&db).unwrap();
    let gate = store.handling(GATE).unwrap().unwrap();
    assert_eq!(
        (gate.state, gate.assignee.as_deref()),
        (State::Done, Some("王师傅"))
    );
    let lot = store.handling(LOT).unwrap().unwrap();
    assert_eq!(lot.false_alarm.as_deref(), Some("树影晃动"));
    let exports: Vec<String> = store
        .accesses(&AccessQuery {
            limit: 1000,
            ..Default::default()
        })
        .unwrap()
        .into_iter()
        .filter(|a| a.action.as_str() == "export")
        .map(|a| format!("{} {}", a.who, a.detail))
        .collect();
    assert_eq!(
        exports,
        [
            format!("guard report {today}..{today} day csv"),
            format!("guard report {today}..{today} day xlsx")
        ]
    );
    let report = vigil_deliver::verify::verify(dir.path()).unwrap();
    assert!(report.intact(), "{:?}", report.findings);
}
