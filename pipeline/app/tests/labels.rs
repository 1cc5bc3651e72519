//! The guards' false-alarm marks feed `vigil eval`: a replay raises its alert, a guard closes it
//! as a false alarm (with the reason), `vigil labels export` writes it under `false_alarms`, and
//! `vigil eval` on the same footage with those labels counts the alert as a false alarm the rules
//! still make. An alert handled as real becomes an event instead, matched by the next replay.

mod common;

use common::{repo, vigil};
use vigil_deliver::AlertStore;
use vigil_deliver::access::Accessor;
use vigil_deliver::handling::Step;

fn guard() -> Accessor {
    Accessor {
        who: "guard".into(),
        role: "operator".into(),
        from: String::new(),
    }
}

/// Replays the parking lot into a fresh folder, closes its one alert with `step`, exports the
/// labels and runs `vigil eval` with them: (labels text, eval's stdout, eval.json).
fn handled_then_evaluated(step: Step) -> (String, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let config = repo().join("samples/parking-lot.yaml");
    let run = common::replay(&config, &out);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut store = AlertStore::open(&out.join("alerts.db")).unwrap();
    let alert = store.all().unwrap().into_iter().next().expect("an alert");
    store
        .handle_as(alert.id.as_str(), &guard(), &step)
        .unwrap()
        .unwrap()
        .unwrap();
    let labels = dir.path().join("labels.yaml");
    let export = vigil()
        .args(["labels", "export"])
        .arg(&out)
        .arg("--out")
        .arg(&labels)
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let eval_dir = dir.path().join("eval");
    let eval = vigil()
        .args(["eval", "-c"])
        .arg(&config)
        .arg("--labels")
        .arg(&labels)
        .arg("--out")
        .arg(&eval_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&eval.stdout).to_string();
    assert!(
        eval.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let report =
        serde_json::from_str(&std::fs::read_to_string(eval_dir.join("eval.json")).unwrap())
            .unwrap();
    (std::fs::read_to_string(&labels).unwrap(), stdout, report)
}

#[test]
fn a_false_alarm_mark_is_scored_as_one_the_rules_still_make() {
    let (labels, stdout, report) = handled_then_evaluated(Step::FalseAlarm {
        reason: "停车位内，不在车道".into(),
    });
    assert!(labels.contains("events: []"), "{labels}");
    assert!(
        labels.contains("camera: \"lot\", rule: \"lane_blocked\"")
            && labels.contains("reason: \"停车位内，不在车道\""),
        "{labels}"
    );
    assert!(
        stdout.contains("false alarms marked by guards: 1, raised again: 1"),
        "{stdout}"
    );
    assert_eq!(report["false_alarms_marked"], 1);
    assert_eq!(report["rules"]["lot/lane_blocked"]["false_positives"], 1);
}

#[test]
fn an_alert_handled_as_real_is_an_event_the_next_replay_matches() {
    let (labels, _, report) = handled_then_evaluated(Step::Done {
        text: "车已挪走".into(),
    });
    assert!(labels.contains("false_alarms: []"), "{labels}");
    let s = &report["rules"]["lot/lane_blocked"];
    assert_eq!(
        (s["true_positives"].as_u64(), s["false_positives"].as_u64()),
        (Some(1), Some(0)),
        "{report:#}"
    );
}
