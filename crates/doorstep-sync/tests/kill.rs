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

/// Several `serve` processes behind a load balancer: phones sync through either at random, a
/// request captured on its way to one is refused by the other, and every receipt is stored once.
#[tokio::test]
async fn two_server_processes_on_one_database_act_as_one() {
    use doorstep_api::auth::{self, RequestParts, RequestToSign};
    use doorstep_api::wire::paths;

    let dir = tempfile::tempdir().unwrap();
    for db_url in fresh_database_urls(dir.path()).await {
        let bo = Backoffice::start(&db_url, dir.path()).await;
        let mut agents = Vec::new();
        for n in 1..=3 {
            let (agent, customer) = (format!("A-{n}"), format!("C-{n}"));
            if n > 1 {
                bo.add_agent(&agent).await;
                bo.add_customer(&customer).await;
            }
            bo.schedule(&format!("V{n}-"), &agent, &customer, 4).await;
            Phone::enrolled(&bo, Role::Customer, &customer).await;
            agents.push(Phone::enrolled(&bo, Role::Agent, &agent).await);
        }
        let (mut first, first_url) = spawn_server(&db_url, &bo.key_dir, dir.path()).await;
        let (mut second, second_url) = spawn_server(&db_url, &bo.key_dir, dir.path()).await;
        let urls = [first_url.as_str(), second_url.as_str()];

        let mut recorded = 0;
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut pick = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for agent in &agents {
            agent
                .syncer_via(urls[(pick() % 2) as usize])
                .sync(&mut |_| {})
                .await
                .unwrap();
        }
        for _round in 0..4 {
            for agent in &agents {
                recorded += agent.record_receipts(1).await.len();
                let url = urls[(pick() % 2) as usize];
                agent.syncer_via(url).sync(&mut |_| {}).await.unwrap();
            }
        }

        // A request captured on its way to the first process, replayed to the second.
        let agent = &agents[0];
        let now = support::system_now();
        let parts = RequestParts {
            method: "GET",
            path: paths::DENYLIST,
            body: b"",
        };
        let to_sign = RequestToSign::new(parts, agent.key.public_key(), now, [7; 16]);
        let signature = agent.key.sign(to_sign.bytes_to_sign());
        let header = to_sign.finish(signature).unwrap();
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for url in urls {
            let answer = client
                .get(format!("{url}{}", paths::DENYLIST))
                .header(auth::HEADER, &header)
                .send()
                .await
                .unwrap();
            statuses.push(answer.status().as_u16());
        }
        assert_eq!(
            statuses,
            [200, 401],
            "the second process refuses the replay"
        );

        for child in [&mut first, &mut second] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        let exported = bo.exported_upload_ids().await;
        assert_eq!(
            exported.iter().collect::<BTreeSet<_>>().len(),
            exported.len()
        );
        assert_eq!(exported.len(), recorded);
        for agent in &agents {
            assert_eq!(agent.store.pending_uploads().await.unwrap(), 0);
        }
    }
}
