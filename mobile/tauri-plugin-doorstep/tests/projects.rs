//! What can be checked of the phone projects without the Android SDK or Xcode: the pieces that
//! must agree across Rust, Kotlin, Swift, the manifests, the plists and the build files do.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    let full = root().join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

fn aid_hex() -> String {
    doorstep_nfc::AID
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

const PLUGIN: &str = "mobile/tauri-plugin-doorstep";
const ANDROID_APP: &str = "src-tauri/gen/android/app";
const APPLE: &str = "src-tauri/gen/apple";

#[test]
fn the_aid_is_the_same_in_rust_the_android_service_and_the_ios_plists() {
    let aid = aid_hex();
    assert_eq!(aid, "F0444F4F5253544550");
    let service = read(&format!(
        "{PLUGIN}/android/src/main/res/xml/apduservice.xml"
    ));
    assert!(
        service.contains(&format!("<aid-filter android:name=\"{aid}\"")),
        "apduservice.xml"
    );
    assert!(service.contains("android:category=\"other\""));
    assert!(service.contains("android:requireDeviceUnlock=\"true\""));
    let info = read(&format!("{APPLE}/doorstep_iOS/Info.plist"));
    let key = "<key>com.apple.developer.nfc.readersession.iso7816.select-identifiers</key>";
    let after = &info[info.find(key).expect("select identifiers in Info.plist")..];
    assert!(after[..200.min(after.len())].contains(&format!("<string>{aid}</string>")));
    let project = read(&format!("{APPLE}/project.yml"));
    assert!(project.contains(&format!(
        "com.apple.developer.nfc.readersession.iso7816.select-identifiers: [{aid}]"
    )));
}

#[test]
fn the_card_service_is_declared_bound_to_the_nfc_service_permission() {
    let manifest = read(&format!("{PLUGIN}/android/src/main/AndroidManifest.xml"));
    for needle in [
        "android:name=\".DoorCardService\"",
        "android:permission=\"android.permission.BIND_NFC_SERVICE\"",
        "android.nfc.cardemulation.action.HOST_APDU_SERVICE",
        "android:resource=\"@xml/apduservice\"",
    ] {
        assert!(manifest.contains(needle), "{needle}");
    }
    // Unarmed, the service answers 6985 without asking Rust.
    let service = read(&format!(
        "{PLUGIN}/android/src/main/java/DoorCardService.kt"
    ));
    assert!(service.contains("0x69.toByte(), 0x85.toByte()"));
}

#[test]
fn the_app_asks_for_camera_nfc_and_biometrics_and_keeps_its_data_out_of_backups() {
    let manifest = read(&format!("{ANDROID_APP}/src/main/AndroidManifest.xml"));
    for needle in [
        "android.permission.CAMERA",
        "android.permission.NFC",
        "android.permission.USE_BIOMETRIC",
        "android:allowBackup=\"false\"",
        "android:fullBackupContent=\"false\"",
        "android:dataExtractionRules=\"@xml/data_extraction_rules\"",
        "android.hardware.nfc.hce\" android:required=\"false\"",
    ] {
        assert!(manifest.contains(needle), "{needle}");
    }
    let rules = read(&format!(
        "{ANDROID_APP}/src/main/res/xml/data_extraction_rules.xml"
    ));
    for section in ["<cloud-backup>", "<device-transfer>"] {
        let part = &rules[rules.find(section).expect(section)..];
        assert!(part.contains("<exclude domain=\"root\" />"), "{section}");
    }
    let activity = read(&format!(
        "{ANDROID_APP}/src/main/java/app/doorstep/mobile/MainActivity.kt"
    ));
    assert!(activity.contains("FLAG_SECURE"));
    let info = read(&format!("{APPLE}/doorstep_iOS/Info.plist"));
    for key in [
        "NSCameraUsageDescription",
        "NFCReaderUsageDescription",
        "NSFaceIDUsageDescription",
    ] {
        assert!(info.contains(&format!("<key>{key}</key>")), "{key}");
    }
    let entitlements = read(&format!("{APPLE}/doorstep_iOS/doorstep_iOS.entitlements"));
    assert!(entitlements.contains("<key>com.apple.developer.nfc.readersession.formats</key>"));
    assert!(entitlements.contains("<string>TAG</string>"));
    assert!(entitlements.contains("com.apple.developer.devicecheck.appattest-environment"));
}

#[test]
fn release_signing_comes_from_an_uncommitted_file_and_the_version_code_is_set() {
    let build = read(&format!("{ANDROID_APP}/build.gradle.kts"));
    assert!(build.contains("rootProject.file(\"keystore.properties\")"));
    assert!(build.contains("signingConfigs"));
    let ignored = read("src-tauri/gen/android/.gitignore");
    assert!(ignored.lines().any(|l| l.trim() == "keystore.properties"));
    let config: serde_json::Value =
        serde_json::from_str(&read("src-tauri/tauri.conf.json")).unwrap();
    assert!(config["bundle"]["android"]["versionCode"].is_u64());
    assert_eq!(config["bundle"]["android"]["minSdkVersion"], 28);
    assert!(build.contains("minSdk = 28"));
}

/// Every method the Rust side calls exists, by that name, in the Kotlin plugin and the Swift one.
#[test]
fn every_native_method_rust_calls_exists_on_both_platforms() {
    let rust = read(&format!("{PLUGIN}/src/mobile.rs"));
    let kotlin = read(&format!("{PLUGIN}/android/src/main/java/DoorstepPlugin.kt"));
    let swift = read(&format!("{PLUGIN}/ios/Sources/DoorstepPlugin.swift"));
    let mut called = Vec::new();
    for part in rust.split("run_mobile_plugin").skip(1) {
        let name = part
            .split('"')
            .nth(1)
            .expect("a method name after run_mobile_plugin");
        called.push(name.to_string());
    }
    assert!(called.len() >= 9, "{called:?}");
    for name in called {
        assert!(
            kotlin.contains(&format!("fun {name}(invoke: Invoke)")),
            "Kotlin {name}"
        );
        assert!(
            swift.contains(&format!("func {name}(_ invoke: Invoke)")),
            "Swift {name}"
        );
    }
    // The plugin is registered under the names its native halves declare.
    let lib = read(&format!("{PLUGIN}/src/lib.rs"));
    assert!(lib.contains("register_android_plugin(\"app.doorstep.plugin\", \"DoorstepPlugin\")"));
    assert!(kotlin.starts_with("package app.doorstep.plugin"));
    assert!(lib.contains("ios_plugin_binding!(init_plugin_doorstep)"));
    assert!(swift.contains("@_cdecl(\"init_plugin_doorstep\")"));
}
