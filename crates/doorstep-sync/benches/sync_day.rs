//! A 500-visit day on loopback: the agent's phone pulls its package (the back-office issues 500
//! tickets), records a receipt per visit, and pushes them all; real stores, a real server over
//! HTTP, SQLite (and PostgreSQL under `scripts/with-postgres.sh`).
//!
//! `cargo bench -p doorstep-sync --bench sync_day` measures; without `--bench` (as
//! `cargo test --benches` runs it) a 20-visit day proves it works.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use doorstep_api::wire::Role;
use doorstep_server::testing::fresh_database_urls;
use support::{Backoffice, Phone};

fn main() {
    let visits = if std::env::args().any(|a| a == "--bench") {
        500
    } else {
        20
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        println!("| database | visits | pull package (ms) | push receipts (ms) | whole day (ms) |");
        println!("|---|---|---|---|---|");
        for url in fresh_database_urls(dir.path()).await {
            let database = if url.starts_with("sqlite") {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            let bo = Backoffice::start(&url, dir.path()).await;
            bo.schedule("V", "A-1", "C-1", visits).await;
            let _customer = Phone::enrolled(&bo, Role::Customer, "C-1").await;
            let agent = Phone::enrolled(&bo, Role::Agent, "A-1").await;
            let mut syncer = agent.syncer_via(&bo.url);

            let started = Instant::now();
            let mut report = Default::default();
            syncer.pull(&mut report).await.unwrap();
            let pulled = started.elapsed();
            assert_eq!(report.visits, visits);

            agent.record_receipts(1).await;
            let pushing = Instant::now();
            syncer.push(&mut report, &mut |_| {}).await.unwrap();
            let pushed = pushing.elapsed();
            assert_eq!(report.stored, visits as u64);
            assert_eq!(bo.exported_upload_ids().await.len(), visits);
            println!(
                "| {database} | {visits} | {} | {} | {} |",
                pulled.as_millis(),
                pushed.as_millis(),
                (pulled + pushed).as_millis()
            );
        }
    });
}
