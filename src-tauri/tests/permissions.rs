//! Every command the app registers is also declared to the Tauri build (so it gets a permission)
//! and granted by the base capability, and nothing else is: a command missing from one list
//! is refused at run time with "not allowed", which only an end-to-end run would notice.

use std::collections::BTreeSet;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The quoted or bare identifiers between `start` and the next `end` of `text`.
fn names_between(text: &str, start: &str, end: &str) -> BTreeSet<String> {
    let from = text.find(start).expect("start marker") + start.len();
    let to = from + text[from..].find(end).expect("end marker");
    text[from..to]
        .split(',')
        .map(|n| n.trim().trim_matches('"').to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

#[test]
fn registered_declared_and_granted_commands_are_the_same() {
    let registered = names_between(&read("src/commands.rs"), "tauri::generate_handler![", "]");
    let declared = names_between(&read("build.rs"), "COMMANDS: &[&str] = &[", "];");
    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/base.json")).unwrap();
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert!(registered.len() > 10, "{registered:?}");
    assert_eq!(declared, registered, "build.rs COMMANDS");
    assert_eq!(granted, registered, "capabilities/base.json");
}

/// Beyond the app's own commands, the views get exactly what they call: listening for sync
/// progress, and on phones the scanner's scan and cancel. `core:default` would add the menu,
/// tray, image, path and window APIs.
#[test]
fn the_views_are_granted_only_what_they_call() {
    let granted = |file: &str| -> BTreeSet<String> {
        let capability: serde_json::Value = serde_json::from_str(&read(file)).unwrap();
        capability["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p.as_str())
            .filter(|p| !p.starts_with("allow-"))
            .map(str::to_string)
            .collect()
    };
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        granted("capabilities/base.json"),
        set(&["core:event:allow-listen", "core:event:allow-unlisten"])
    );
    assert_eq!(
        granted("capabilities/mobile.json"),
        set(&["barcode-scanner:allow-scan", "barcode-scanner:allow-cancel"])
    );
    let files: Vec<_> = std::fs::read_dir(format!("{}/capabilities", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
}
