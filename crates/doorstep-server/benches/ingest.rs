//! Verified results ingested per second: receipts signed by an agent's device, uploaded in
//! batches of 50, each checked (signature, device, visit, ticket), stored once and
//! countersigned, on SQLite and PostgreSQL, with `p256` and with AWS-LC.
//!
//! `cargo bench -p doorstep-server --bench ingest` measures (PostgreSQL when
//! `DOORSTEP_TEST_POSTGRES_URL` is set, e.g. under `scripts/with-postgres.sh`); without
//! `--bench` (as `cargo test --benches` runs it) a few batches prove it works.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use doorstep_api::wire::{Bytes, Upload, UploadKind, UploadStatus};
use doorstep_core::receipt::UnverifiedOutcome;
use doorstep_server::ingest::ingest;
use doorstep_server::keys::KeyRing;
use doorstep_server::keys::backends::Crypto;
use doorstep_server::testing::fresh_database_urls;
use support::{NOW, World};

const BATCH: usize = 50;

/// CPU seconds this process has used (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

async fn measure(
    url: &str,
    crypto: Crypto,
    receipts: usize,
    dir: &tempfile::TempDir,
) -> (f64, f64) {
    let w = World::build(url, dir).await;
    let signer = KeyRing::with_crypto(w.key_dir.clone(), crypto)
        .signer(&w.org)
        .unwrap();
    let ticket = w.ticket().await;
    let uploads: Vec<Upload> = (0..receipts)
        .map(|i| Upload {
            id: uuid::Uuid::now_v7(),
            kind: UploadKind::Receipt,
            payload: Bytes(w.receipt(&ticket, UnverifiedOutcome::NotHome, NOW + i as u64)),
        })
        .collect();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    for batch in uploads.chunks(BATCH) {
        let results = ingest(&w.db, &w.agent_device, batch, &signer, NOW + 4000)
            .await
            .unwrap();
        assert!(results.iter().all(|r| r.status == UploadStatus::Stored));
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu).max(0.01);
    assert_eq!(w.db.export(&w.org).await.unwrap().len(), receipts);
    w.db.close().await;
    (receipts as f64 / wall, receipts as f64 / cpu)
}

/// The ceiling: checking one receipt's signature and countersigning it, with no database.
async fn crypto_only(crypto: Crypto, receipts: usize, dir: &tempfile::TempDir) -> f64 {
    let url = fresh_database_urls(dir.path()).await.remove(0);
    let w = World::build(&url, dir).await;
    let signer = KeyRing::with_crypto(w.key_dir.clone(), crypto)
        .signer(&w.org)
        .unwrap();
    let ticket = w.ticket().await;
    let signed: Vec<Vec<u8>> = (0..receipts)
        .map(|i| w.receipt(&ticket, UnverifiedOutcome::NotHome, NOW + i as u64))
        .collect();
    let key = w.agent_key.public_key();
    let started = Instant::now();
    let verifier = signer.verifier(&key);
    for (i, receipt) in signed.iter().enumerate() {
        let check = |_: &_, m: &[u8], s: &_| verifier.verify(m, s);
        doorstep_core::receipt::SignedReceipt::verify_with(receipt, &key, &check).unwrap();
        let id = [i as u8; 16];
        signer
            .sign(
                doorstep_core::countersignature::Countersignature::new(id, receipt, NOW)
                    .to_sign(signer.public_key()),
            )
            .unwrap();
    }
    receipts as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        println!("| database | ECDSA | results/s (wall, one thread) | results per CPU-second of the server process |");
        println!("|---|---|---|---|");
        for url in fresh_database_urls(dir.path()).await {
            let database = if url.starts_with("sqlite") { "SQLite" } else { "PostgreSQL" };
            for crypto in [Crypto::P256, Crypto::AwsLc] {
                let receipts = match (measuring, crypto) {
                    (false, _) => BATCH * 2,
                    (true, Crypto::P256) => 2_000,
                    (true, Crypto::AwsLc) => 10_000,
                };
                // The database URL names an empty database; each run needs its own.
                let url = fresh_database_urls(dir.path())
                    .await
                    .into_iter()
                    .find(|u| u.starts_with("sqlite") == url.starts_with("sqlite"))
                    .unwrap();
                let (wall, per_cpu) = measure(&url, crypto, receipts, &dir).await;
                println!("| {database} | {} | {wall:.0} | {per_cpu:.0} |", crypto.name());
            }
        }
        for crypto in [Crypto::P256, Crypto::AwsLc] {
            let n = if measuring { 5_000 } else { 20 };
            let rate = crypto_only(crypto, n, &dir).await;
            println!("| none (verify + countersign only) | {} | {rate:.0} | {rate:.0} |", crypto.name());
        }
    });
}
