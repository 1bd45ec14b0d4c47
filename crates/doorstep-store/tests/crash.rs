//! The store killed mid-write (SIGKILL, no chance to clean up) reopens intact: the receipt log
//! verifies, and every recorded receipt has exactly one queued upload.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use doorstep_core::SeededRandomness;
use doorstep_core::scenario::Scenario;
use doorstep_store::{FileKeyProvider, Store};

const DB_ENV: &str = "DOORSTEP_CRASH_TEST_DIR";

async fn open(dir: &Path) -> Store {
    Store::open(
        &dir.join("device.db"),
        &FileKeyProvider::new(dir.join("data.key")),
    )
    .await
    .unwrap()
}

/// The child: records receipts as fast as it can until it is killed.
#[tokio::test]
#[ignore = "run by crash_mid_write_leaves_a_consistent_store as its child process"]
async fn crash_writer() {
    let Some(dir) = std::env::var_os(DB_ENV) else {
        return;
    };
    let store = open(Path::new(&dir)).await;
    let s = Scenario::new("crash");
    let run = s.run(None, &mut SeededRandomness::new("crash"));
    let receipt = doorstep_core::codec::decode_text(&run.codes[3].text)
        .unwrap()
        .1;
    println!("writing");
    for i in 0.. {
        store
            .record_receipt(s.ticket.visit_id, &receipt, s.now + i)
            .await
            .unwrap();
    }
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

#[tokio::test]
async fn crash_mid_write_leaves_a_consistent_store() {
    let dir = tempfile::tempdir().unwrap();
    // Create the schema first, so every kill lands in the middle of writes.
    open(dir.path()).await.close().await;
    let mut previous = 0;
    for round in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--ignored", "--exact", "crash_writer", "--nocapture"])
            .env(DB_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until it writes, then kill it at a random moment.
        let mut out = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 64];
        while !String::from_utf8_lossy(&seen).contains("writing") {
            let n = std::io::Read::read(&mut out, &mut buf).unwrap();
            assert!(n > 0, "the writer exited early");
            seen.extend_from_slice(&buf[..n]);
        }
        tokio::time::sleep(Duration::from_millis(20 + random_below(200))).await;
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();

        let store = open(dir.path()).await;
        let (count, _) = store.verify_receipt_log().await.unwrap();
        assert_eq!(
            store.pending_uploads().await.unwrap(),
            count as u64,
            "round {round}: a receipt without its upload, or the reverse"
        );
        assert!(
            count >= previous,
            "round {round}: committed receipts were lost"
        );
        previous = count;
        store.close().await;
    }
    assert!(previous > 0, "the writer never committed anything");
}
