//! Organisation and agent administration, on a real SQLite file and a real PostgreSQL.

use doorstep_server::db::agents::NewAgent;
use doorstep_server::db::organisations::NewOrganisation;
use doorstep_server::keys::{load_signing_key, signing_key_path};
use doorstep_server::testing::fresh_database_urls;
use doorstep_server::{Db, ServerError};

/// A fresh, migrated database on each backend.
async fn databases(dir: &tempfile::TempDir) -> Vec<Db> {
    let mut dbs = Vec::new();
    for url in fresh_database_urls(dir.path()).await {
        dbs.push(Db::open(&url).await.unwrap());
    }
    dbs
}

fn new_org(name: &str) -> NewOrganisation<'_> {
    NewOrganisation {
        name,
        official_phone: "+31 20 555 0100",
        retention_days: 30,
        customer_code_days: 3,
        cooling_off_hours: 24,
    }
}

fn agent<'a>(staff_ref: &'a str) -> NewAgent<'a> {
    NewAgent {
        staff_ref,
        display_name: "Sanne de Vries",
        on_behalf_of: "Northbank Cards",
        photo: b"photo bytes",
    }
}

#[tokio::test]
async fn an_organisation_gets_a_private_signing_key_and_a_unique_name() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(&dir).await {
        let org = db
            .create_organisation(&new_org("Northbank"), dir.path())
            .await
            .unwrap();
        let path = signing_key_path(dir.path(), &org.id);
        assert_eq!(load_signing_key(&path).unwrap().public_key(), org.keys[0]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert_eq!(db.organisation("Northbank").await.unwrap(), org);
        assert!(matches!(
            db.create_organisation(&new_org("Northbank"), dir.path())
                .await,
            Err(ServerError::OrganisationExists(_))
        ));
        assert!(matches!(
            db.organisation("Southbank").await,
            Err(ServerError::UnknownOrganisation(_))
        ));
    }
}

#[tokio::test]
async fn agents_are_added_listed_and_revoked_within_their_organisation_only() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(&dir).await {
        let north = db
            .create_organisation(&new_org("Northbank"), dir.path())
            .await
            .unwrap();
        let south = db
            .create_organisation(&new_org("Southbank"), dir.path())
            .await
            .unwrap();
        let added = db.add_agent(&north, &agent("A-0117")).await.unwrap();
        assert_eq!(
            added.photo_hash,
            doorstep_core::keys::sha256(&[b"photo bytes"])[..16]
        );
        assert!(matches!(
            db.add_agent(&north, &agent("A-0117")).await,
            Err(ServerError::AgentExists(_))
        ));
        // The same staff reference may exist in another organisation, and is a different agent.
        db.add_agent(&south, &agent("A-0117")).await.unwrap();

        assert_eq!(db.agents(&north).await.unwrap(), vec![added.clone()]);
        assert!(matches!(
            db.revoke_agent(&north, "A-9999").await,
            Err(ServerError::UnknownAgent(_))
        ));
        db.revoke_agent(&north, "A-0117").await.unwrap();
        let first = db.agents(&north).await.unwrap()[0].revoked_at;
        assert!(first.is_some());
        db.revoke_agent(&north, "A-0117").await.unwrap();
        assert_eq!(db.agents(&north).await.unwrap()[0].revoked_at, first);
        assert_eq!(db.agents(&south).await.unwrap()[0].revoked_at, None);
    }
}

#[tokio::test]
async fn an_unsupported_database_url_is_a_clear_error() {
    assert!(matches!(
        Db::open("mysql://localhost/db").await,
        Err(ServerError::UnsupportedDatabase(_))
    ));
}

#[tokio::test]
async fn the_command_line_initialises_and_manages_agents() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let keys = tempfile::tempdir().unwrap();
        let photo = dir.path().join("photo.jpg");
        std::fs::write(&photo, b"jpeg").unwrap();
        let run = |args: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-server"))
                .args([
                    "--database-url",
                    &url,
                    "--key-dir",
                    keys.path().to_str().unwrap(),
                ])
                .args(args)
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let pins_file = keys.path().join("pins.json");
        let pins_path = pins_file.to_str().unwrap();
        let (ok, out) = run(&[
            "init",
            "--name",
            "Northbank",
            "--official-phone",
            "+31 20 555 0100",
            "--public-url",
            "http://127.0.0.1:8080",
            "--pins-out",
            pins_path,
        ]);
        assert!(ok, "{out}");
        let pins: doorstep_core::pins::Pins =
            serde_json::from_slice(&std::fs::read(&pins_file).unwrap()).unwrap();
        let db = Db::open(&url).await.unwrap();
        let org = db.organisation("Northbank").await.unwrap();
        assert_eq!(pins.organisations, [org.pin("http://127.0.0.1:8080")]);
        assert!(pins.development, "loopback http is a development pin");
        // A release pin is https; plain http elsewhere is refused and nothing written.
        let (ok, _) = run(&[
            "pins",
            "--org",
            "Northbank",
            "--public-url",
            "https://doorstep.northbank.example",
            "--out",
            pins_path,
        ]);
        let pins: doorstep_core::pins::Pins =
            serde_json::from_slice(&std::fs::read(&pins_file).unwrap()).unwrap();
        assert!(ok && !pins.development);
        std::fs::remove_file(&pins_file).unwrap();
        let (ok, out) = run(&[
            "pins",
            "--org",
            "Northbank",
            "--public-url",
            "http://doorstep.northbank.example",
            "--out",
            pins_path,
        ]);
        assert!(!ok && out.contains("not a secure (https) address"), "{out}");
        assert!(!pins_file.exists());
        let photo = photo.to_str().unwrap();
        let add = [
            "agent",
            "--org",
            "Northbank",
            "add",
            "--staff-ref",
            "A-1",
            "--name",
            "Sanne",
            "--on-behalf-of",
            "Northbank Cards",
            "--photo",
            photo,
        ];
        assert!(run(&add).0);
        let (ok, out) = run(&add);
        assert!(!ok && out.contains("already exists"), "{out}");
        assert!(
            run(&[
                "agent",
                "--org",
                "Northbank",
                "revoke",
                "--staff-ref",
                "A-1"
            ])
            .0
        );
        let (ok, out) = run(&["agent", "--org", "Northbank", "list"]);
        assert!(
            ok && out.contains("A-1") && out.contains("revoked"),
            "{out}"
        );
        let (ok, out) = run(&["rotate-key", "--org", "Northbank", "--overlap-hours", "1"]);
        assert!(!ok && out.contains("at least 24 hours"), "{out}");
        let (ok, out) = run(&["rotate-key", "--org", "Northbank"]);
        assert!(ok && out.contains("new signing key"), "{out}");
        let org = db.organisation("Northbank").await.unwrap();
        assert_eq!(org.keys.len(), 2, "both keys trusted during the overlap");
        let signer = doorstep_server::keys::KeyRing::new(keys.path().to_path_buf())
            .signer(&org)
            .unwrap();
        assert_eq!(
            Some(&signer.public_key()),
            org.keys.last(),
            "the new key signs"
        );
        let (ok, out) = run(&["visit", "--org", "Northbank", "cancel", "--ref", "V-9"]);
        assert!(!ok && out.contains("no visit \"V-9\""), "{out}");
        let (ok, out) = run(&[
            "device",
            "--org",
            "Northbank",
            "revoke",
            "--id",
            "01a239ff-6c75-746f-b0ac-5e71d5df1b23",
        ]);
        assert!(!ok && out.contains("no device"), "{out}");
        let (ok, out) = run(&[
            "customer",
            "--org",
            "Northbank",
            "add",
            "--ref",
            "C-1",
            "--data",
            "full_name=Jan",
        ]);
        assert!(ok, "{out}");
        let (ok, out) = run(&["customer", "--org", "Northbank", "revoke", "--ref", "C-1"]);
        assert!(ok && out.contains("revoked"), "{out}");
        let (ok, out) = run(&[
            "enrol-code",
            "--org",
            "Northbank",
            "--role",
            "customer",
            "--for",
            "C-1",
        ]);
        assert!(!ok && out.contains("customer \"C-1\" is revoked"), "{out}");
        let (ok, out) = run(&["agent", "--org", "Nobody", "list"]);
        assert!(!ok && out.contains("no organisation named"), "{out}");
    }
}

#[tokio::test]
async fn staff_are_added_listed_and_disabled_from_the_command_line_with_passwords_only_hashed() {
    let dir = tempfile::tempdir().unwrap();
    for url in fresh_database_urls(dir.path()).await {
        let keys = tempfile::tempdir().unwrap();
        let run = |args: &[&str], stdin: &str| {
            use std::io::Write as _;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_doorstep-server"))
                .args(["--database-url", &url, "--key-dir"])
                .arg(keys.path())
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let init = [
            "init",
            "--name",
            "Northbank",
            "--official-phone",
            "+31 20 555 0100",
        ];
        assert!(run(&init, "").0);
        let staff = |rest: &[&str]| {
            [&["staff", "--org", "Northbank"][..], rest]
                .concat()
                .into_iter()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        let args = staff(&[
            "add",
            "--username",
            "ada",
            "--name",
            "Ada",
            "--role",
            "admin",
        ]);
        let (ok, out) = run(&args.iter().map(String::as_str).collect::<Vec<_>>(), "");
        assert!(ok, "{out}");
        let printed = out.rsplit("password: ").next().unwrap().trim().to_string();
        assert_eq!(printed.len(), 23, "four groups of five: {out}");

        let args = staff(&[
            "add",
            "--username",
            "piet",
            "--name",
            "Piet",
            "--role",
            "planner",
            "--password-stdin",
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, out) = run(&args, "short\n");
        assert!(!ok && out.contains("at least 12 characters"), "{out}");
        let (ok, out) = run(&args, "planner pass phrase\n");
        assert!(ok && !out.contains("planner pass phrase"), "{out}");
        let (ok, out) = run(&args, "planner pass phrase\n");
        assert!(!ok && out.contains("is taken"), "{out}");

        let db = Db::open(&url).await.unwrap();
        let (piet, hash) = db.staff_for_login("piet").await.unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(doorstep_server::staff::password_matches(
            "planner pass phrase",
            Some(&hash)
        ));
        let (_, ada_hash) = db.staff_for_login("ada").await.unwrap().unwrap();
        assert!(doorstep_server::staff::password_matches(
            &printed,
            Some(&ada_hash)
        ));

        let list = staff(&["list"]);
        let (ok, out) = run(&list.iter().map(String::as_str).collect::<Vec<_>>(), "");
        assert!(
            ok && out.contains("ada") && out.contains("planner"),
            "{out}"
        );
        let disable = staff(&["disable", "--username", "piet"]);
        let (ok, out) = run(&disable.iter().map(String::as_str).collect::<Vec<_>>(), "");
        assert!(ok, "{out}");
        assert!(db.staff_for_login("piet").await.unwrap().is_none());
        let org = db.organisation("Northbank").await.unwrap();
        let actions: Vec<String> = db
            .audit_log(org.id, None, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| format!("{} {}", e.action, e.subject))
            .collect();
        assert_eq!(
            actions,
            ["staff_disabled piet", "staff_added piet", "staff_added ada"]
        );
        assert_eq!(piet.role, doorstep_server::staff::StaffRole::Planner);
        db.close().await;
    }
}
