//! The commands through Tauri's IPC on the mock runtime: arguments arrive under their
//! camelCase names, answers and errors leave as the views expect them.

use std::sync::Arc;

use serde_json::{Value, json};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

struct App {
    _dir: tempfile::TempDir,
    app: tauri::App<MockRuntime>,
    window: WebviewWindow<MockRuntime>,
}

fn app() -> App {
    // SAFETY: set before any thread of the app exists; forces the file key store so the test
    // needs no desktop session.
    unsafe { std::env::set_var("DOORSTEP_KEY_STORE", "file") };
    let dir = tempfile::tempdir().unwrap();
    let pins = doorstep_app_lib::parse_pins(doorstep_app_lib::SHIPPED_PINS, false).unwrap();
    let state = tauri::async_runtime::block_on(doorstep_app_lib::open_state(
        dir.path(),
        pins,
        doorstep_device::KeyHome::Store,
    ))
    .unwrap();
    let app = doorstep_app_lib::with_commands(mock_builder())
        .manage(Arc::new(state))
        // The real context: the capability files decide what the window may call.
        .build(tauri::generate_context!(test = true))
        .unwrap();
    let window = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    App {
        _dir: dir,
        app,
        window,
    }
}

fn invoke(app: &App, cmd: &str, args: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(&app.window, request).map(|body| body.deserialize::<Value>().unwrap())
}

#[test]
fn a_new_device_reports_no_enrolment_and_its_key_store() {
    let app = app();
    let status = invoke(&app, "status", json!({})).unwrap();
    assert_eq!(status["enrolment"], Value::Null);
    assert_eq!(status["pendingUploads"], 0);
    assert_eq!(status["keyStore"], "file");
    assert_eq!(status["platform"], "desktop");
    assert_eq!(status["development"], false);
    assert_eq!(status["organisations"], json!([]));
}

/// What ships is https only and not a development configuration; a file given at run time is
/// always marked development, so its banner shows.
#[test]
fn shipped_pins_are_a_release_configuration_and_a_file_is_always_development() {
    let shipped = doorstep_app_lib::parse_pins(doorstep_app_lib::SHIPPED_PINS, false).unwrap();
    assert!(!shipped.development);
    for org in &shipped.organisations {
        assert!(
            org.back_office.starts_with("https://"),
            "{}",
            org.back_office
        );
    }
    let file = r#"{"organisations": [{"name": "Northbank Cards", "official_phone": "+31 20 555 0100",
        "back_office": "http://127.0.0.1:8080",
        "keys": ["036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"]}]}"#;
    let pins = doorstep_app_lib::parse_pins(file, true).unwrap();
    assert!(pins.development);
    let refused = doorstep_app_lib::parse_pins(file, false).unwrap_err();
    assert_eq!(refused.kind, doorstep_device::ErrorKind::InsecureBackOffice);
    let garbled = doorstep_app_lib::parse_pins("{", true).unwrap_err();
    assert_eq!(garbled.kind, doorstep_device::ErrorKind::BadPins);
}

#[test]
fn errors_reach_the_views_as_kind_message_and_transient() {
    let app = app();
    let error = invoke(&app, "customer_visits", json!({})).unwrap_err();
    assert_eq!(error["kind"], "not_enrolled");
    assert_eq!(error["transient"], false);
    // The shipped build trusts no organisation yet, so a typed code has nowhere to go.
    let error = invoke(&app, "enrol", json!({ "code": "ABCD-EFGH-JKMN-PQRS" })).unwrap_err();
    assert_eq!(error["kind"], "bad_pins");
    let invite = doorstep_core::Code::Enrolment(doorstep_core::enrolment::EnrolmentInvite {
        server_url: "https://northbank-security.example".into(),
        organisation_name: "Northbank Cards".into(),
        code: doorstep_core::enrolment::EnrolmentCode([7; 10]),
    })
    .to_text();
    let error = invoke(&app, "enrolment_offer", json!({ "code": invite })).unwrap_err();
    assert_eq!(error["kind"], "organisation_not_pinned");
    let error = invoke(&app, "decode_image", json!({ "pngBase64": "not base64!" })).unwrap_err();
    assert_eq!(error["kind"], "no_code_in_image");
    let error = invoke(
        &app,
        "agent_scan_challenge",
        json!({ "visitId": "00", "text": "DS1C:%%" }),
    )
    .unwrap_err();
    assert_eq!(error["kind"], "unknown_visit");
}

#[test]
fn a_picture_of_a_code_decodes_through_the_command() {
    let app = app();
    let text = doorstep_core::codec::encode_text(doorstep_core::CodeKind::Challenge, b"bytes");
    let mut png = Vec::new();
    doorstep_qr::Symbol::new(&text)
        .unwrap()
        .to_image(5)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    assert_eq!(
        invoke(&app, "decode_image", json!({ "pngBase64": b64 })).unwrap(),
        json!(text)
    );
}

#[test]
fn malformed_arguments_are_refused_before_the_device_sees_them() {
    let app = app();
    let error = invoke(
        &app,
        "agent_record_outcome",
        json!({ "visitId": "00", "outcome": "teleported", "checksDone": [], "note": "" }),
    )
    .unwrap_err();
    assert!(error.as_str().unwrap().contains("outcome"), "{error}");
    let first = invoke(&app, "first_screen_shown", json!({})).unwrap();
    assert!(first.as_u64().is_some());
}

#[test]
fn a_window_no_capability_names_may_call_nothing() {
    let app = app();
    let intruder = WebviewWindowBuilder::new(&app.app, "intruder", Default::default())
        .build()
        .unwrap();
    let request = InvokeRequest {
        cmd: "status".into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(json!({})),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    let refused = get_ipc_response(&intruder, request).unwrap_err();
    assert!(
        refused.as_str().unwrap().contains("not allowed"),
        "{refused}"
    );
}
