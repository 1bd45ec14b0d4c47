//! The back-office process killed with SIGKILL in the middle of a batch, again and again, then
//! restarted on the same database: every receipt ends up stored exactly once.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use doorstep_api::wire::Role;
use doorstep_server::Db;
use doorstep_server::http::{AppState, router, system_clock};
use doorstep_server::keys::KeyRing;
use doorstep_server::testing::fresh_database_urls;
use support::{Backoffice, Phone};

const CHILD_VAR: &str = "DOORSTEP_CHILD_SERVER";

#[tokio::test]
#[ignore = "run by a_server_killed_mid_batch_loses_and_duplicates_nothing as its child process"]
async fn server_child() {
    let Ok(spec) = std::env::var(CHILD_VAR) else {
        return;
    };
    let mut parts = spec.split('\n');
    let (url, key_dir, port_file) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let db = Db::open(url).await.unwrap();
    let state = AppState::new(db, KeyRing::new(key_dir.into()), system_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tmp = format!("{port_file}.tmp");
    std::fs::write(&tmp, port.to_string()).unwrap();
    std::fs::rename(&tmp, port_file).unwrap();
    axum::serve(listener, router(state)).await.unwrap();
}

/// Starts the server in a child process; returns it and its URL.
async fn spawn_server(db_url: &str, key_dir: &Path, dir: &Path) -> (Child, String) {
    let port_file = dir.join(format!("port-{}", uuid::Uuid::now_v7().simple()));
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "server_child", "--nocapture"])
        .env(
            CHILD_VAR,
            format!("{db_url}\n{}\n{}", key_dir.display(), port_file.display()),
        )
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if let Ok(port) = std::fs::read_to_string(&port_file) {
            return (child, format!("http://127.0.0.1:{port}"));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().ok();
    child.wait().ok();
    panic!("the server child did not start");
}

#[tokio::test]
async fn a_server_killed_mid_batch_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for db_url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&db_url, dir.path()).await;
        bo.schedule("V", "A-1", "C-1", 10).await;
        let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
        let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
        agent.syncer_via(&bo.url).sync(&mut |_| {}).await.unwrap();

        let mut recorded = 0;
        let mut interrupted = 0;
        for round in 0..8u64 {
            recorded += agent.record_receipts(15).await.len();
            let (mut child, url) = spawn_server(&db_url, &bo.key_dir, dir.path()).await;
            let mut syncer = agent.syncer_via(&url);
            syncer.backoff = doorstep_sync::Backoff {
                base_secs: 0,
                max_secs: 1,
            };
            // Kill at a different moment each round, from "before the first batch" to "late".
            let kill_after = Duration::from_millis(5 + round * 17 % 120);
            let mut report = Default::default();
            let mut progress = |_| {};
            let sync = syncer.push(&mut report, &mut progress);
            let killer = async {
                tokio::time::sleep(kill_after).await;
                child.kill().unwrap();
                child.wait().unwrap();
            };
            let (result, ()) = tokio::join!(sync, killer);
            if let Err(e) = result {
                assert!(e.is_transient(), "{e}");
                interrupted += 1;
            }
        }
        assert!(
            interrupted >= 3,
            "the kills must interrupt syncs ({interrupted})"
        );

        let (mut child, url) = spawn_server(&db_url, &bo.key_dir, dir.path()).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        agent.syncer_via(&url).sync(&mut |_| {}).await.unwrap();
        child.kill().unwrap();
        child.wait().unwrap();

        let exported = bo.exported_upload_ids().await;
        assert_eq!(
            exported.iter().collect::<BTreeSet<_>>().len(),
            exported.len()
        );
        let log = agent.store.receipt_log().await.unwrap();
        assert_eq!((log.len(), exported.len()), (recorded, recorded));
        assert!(log.iter().all(|e| e.countersignature.is_some()));
        assert_eq!(agent.store.pending_uploads().await.unwrap(), 0);
    }
}
