//! The `doorstep` binary as a person or a script uses it.

use std::process::Command;

use serde_json::Value;

fn doorstep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_doorstep"))
        .args(args)
        .output()
        .expect("the binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(args: &[&str]) -> Value {
    let (status, out, err) = doorstep(args);
    assert_eq!(status, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[test]
fn the_demo_completes_a_visit_with_matching_codes() {
    let r = json(&["demo", "--json"]);
    assert_eq!(r["outcome"], "verified");
    let kinds: Vec<_> = r["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].clone())
        .collect();
    assert_eq!(kinds, ["challenge", "proof", "response", "receipt"]);
    let codes = &r["confirmation_codes"];
    assert!(codes["customer"].is_string());
    assert_eq!(codes["customer"], codes["agent"]);
    assert_eq!(r["agent_receipt"]["outcome"], "verified");
    assert_eq!(r["customer_receipt"]["holds_agent_signed_receipt"], true);
    assert_eq!(
        r["agent_receipt"]["transcript_hash"],
        r["customer_receipt"]["transcript_hash"]
    );
}

#[test]
fn the_demos_codes_meet_their_size_goals() {
    let r = json(&["demo", "--json", "--seed", "sizes"]);
    for code in r["codes"].as_array().unwrap() {
        let version = code["qr_version"].as_i64().unwrap();
        let limit = if code["kind"] == "challenge" { 6 } else { 13 };
        assert!(version >= 1 && version <= limit, "{code}");
        let text = code["text"].as_str().unwrap();
        assert_eq!(code["characters"].as_u64().unwrap() as usize, text.len());
    }
}

#[test]
fn a_seeded_demo_repeats_exactly() {
    assert_eq!(
        json(&["demo", "--json", "--seed", "same"]),
        json(&["demo", "--json", "--seed", "same"])
    );
    assert_ne!(
        json(&["demo", "--json"])["codes"],
        json(&["demo", "--json"])["codes"]
    );
}

#[test]
fn every_attack_is_refused_with_its_own_error() {
    let all = json(&["demo", "--json", "--tamper", "all"]);
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 21);
    let mut kinds = std::collections::BTreeSet::new();
    for r in all {
        assert_eq!(r["outcome"], "refused", "{}", r["tamper"]);
        assert!(r["refused"]["message"].as_str().unwrap().len() > 10);
        kinds.insert(r["refused"]["kind"].as_str().unwrap().to_string());
    }
    // Two replays share nonce_mismatch, a revoked device and a cancelled visit share revoked;
    // every other attack has its own cause.
    assert_eq!(kinds.len(), 18);
}

#[test]
fn a_single_attack_prints_the_refusal() {
    let (status, out, _) = doorstep(&["demo", "--tamper", "forged-proof", "--no-qr"]);
    assert_eq!(status, 0);
    assert!(out.contains("REFUSED by the customer"), "{out}");
    assert!(out.contains("[bad_proof_signature]"));
}

#[test]
fn an_unknown_attack_is_a_usage_error() {
    let (status, _, err) = doorstep(&["demo", "--tamper", "teleport"]);
    assert_eq!(status, 2);
    assert!(err.contains("--tamper list"));
}

#[test]
fn decode_reads_a_code_from_text_and_from_an_image() {
    let r = json(&["demo", "--json", "--seed", "decode"]);
    let challenge = r["codes"][0]["text"].as_str().unwrap();
    let (status, out, _) = doorstep(&["decode", challenge]);
    assert_eq!(status, 0);
    assert!(out.starts_with("challenge code, 81 bytes"), "{out}");

    let png = std::env::temp_dir().join(format!("doorstep-cli-{}.png", std::process::id()));
    doorstep_qr::Symbol::new(challenge)
        .unwrap()
        .to_image(5)
        .save(&png)
        .unwrap();
    let (status, from_image, _) = doorstep(&["decode", "--image", png.to_str().unwrap()]);
    std::fs::remove_file(&png).ok();
    assert_eq!(status, 0);
    assert_eq!(from_image, out);
}

#[test]
fn decode_explains_a_bad_code() {
    let (status, out, _) = doorstep(&["decode", "HELLO"]);
    assert_eq!(status, 1);
    assert!(out.contains("[malformed_code]"), "{out}");
    let (status, out, _) = doorstep(&["decode", "DS9P:ABC"]);
    assert_eq!(status, 1);
    assert!(out.contains("[unsupported_version]"), "{out}");
}

#[test]
fn the_committed_vectors_match_this_build_and_a_changed_copy_does_not() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/doorstep-v2.json"
    );
    let (status, out, err) = doorstep(&["vectors", "--check", path]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("matches"));

    let copy = std::env::temp_dir().join(format!("doorstep-vectors-{}.json", std::process::id()));
    let changed = std::fs::read_to_string(path)
        .unwrap()
        .replacen("DS2C:", "DS2C:0", 1);
    std::fs::write(&copy, changed).unwrap();
    let (status, _, _) = doorstep(&["vectors", "--check", copy.to_str().unwrap()]);
    std::fs::remove_file(&copy).ok();
    assert_eq!(status, 1);
}

#[test]
fn the_demo_runs_a_visit_against_a_real_back_office_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let keep = dir.path().join("demo");
    let (status, out, err) = doorstep(&["demo", "--no-qr", "--keep", keep.to_str().unwrap()]);
    assert_eq!(status, 0, "{out}{err}");
    for expected in [
        "→ agent of Northbank Cards",
        "1 notice",
        "1 visit",
        "Customer's screen: Sanne de Vries for Northbank Cards, with the signed photo",
        "Agent's screen: CUSTOMER VERIFIED",
        "May see: card_last_four 4242, full_name Jan Jansen",
        "1 stored and countersigned, 0 pending",
        "\"outcome\": \"verified\"",
        "\"card_handover\"",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    // Both screens show the same confirmation code.
    let code = |marker: &str| {
        let at = out.find(marker).unwrap() + marker.len();
        out[at..at + 7].to_string()
    };
    assert_eq!(
        code("Both read aloud: customer "),
        code("CUSTOMER VERIFIED. Confirmation code ")
    );
    // The address and birth date never reach the agent's screen.
    assert!(!out.contains("Kerkstraat") && !out.contains("1970-01-01"));
    assert!(keep.join("backoffice.db").exists());
    // A second run refuses to mix its data into the first's.
    let (status, _, err) = doorstep(&["demo", "--no-qr", "--keep", keep.to_str().unwrap()]);
    assert!(status != 0 && err.contains("exists already"), "{err}");
}
