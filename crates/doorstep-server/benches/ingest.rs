//! "Verified" results ingested per second against the same signature work alone, on one core
//! and on two, on SQLite and PostgreSQL.
//!
//! Each result is an agent's "verified" receipt from a real handshake, in batches of 50, each
//! batch naming 50 different visits. For each receipt ingest checks the agent's signature, the
//! ticket it names (read back from the database and checked against the organisation's keys),
//! the customer's signed answer against the key that ticket names, stores it once and
//! countersigns it; one transaction per batch. Two phones upload at once, as a back-office
//! serving a team would see. "Crypto only" does exactly those three verifications and one
//! signature per receipt with no database, spread over the same cores.
//!
//! `cargo bench -p doorstep-server --bench ingest` measures (PostgreSQL too when
//! `DOORSTEP_TEST_POSTGRES_URL` is set, e.g. under `scripts/with-postgres.sh`): it runs itself
//! twice as a child process pinned to one core and to two, so every thread it starts (tokio's,
//! SQLite's) is held to them. PostgreSQL's own processes are not pinned. Without `--bench` (as
//! `cargo test --benches` runs it) a few batches prove it works.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::Instant;

use doorstep_api::wire::{Bytes, Upload, UploadKind, UploadStatus};
use doorstep_core::countersignature::Countersignature;
use doorstep_core::receipt::SignedReceipt;
use doorstep_core::ticket::SignedTicket;
use doorstep_core::{PublicKey, Signature};
use doorstep_server::db::results::IssuedRow;
use doorstep_server::ingest::{ingest, on_cores};
use doorstep_server::keys::KeyRing;
use doorstep_server::keys::backends::Crypto;
use doorstep_server::testing::fresh_database_urls;
use support::{NOW, World};

const BATCH: usize = 50;
/// Distinct visits the receipts cycle through: every batch names 50 different tickets.
const VISITS: usize = BATCH;
const CORES_VAR: &str = "DOORSTEP_BENCH_CORES";
/// Each figure is the median of this many rounds.
const ROUNDS: usize = 3;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

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

/// Holds this process, and every thread it starts from now on, to the first `cores` CPUs.
fn pin_to(cores: usize) {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes inside it, and
    // sched_setaffinity reads it for this thread, from which later threads inherit.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in 0..cores {
            libc::CPU_SET(cpu, &mut set);
        }
        let status = libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
        assert_eq!(status, 0, "sched_setaffinity");
    }
}

struct Prepared {
    world: World,
    uploads: Vec<Upload>,
}

async fn prepare(url: &str, receipts: usize, dir: &tempfile::TempDir) -> Prepared {
    let world = World::build(url, dir).await;
    let verified = world.verified_visits(VISITS - 1).await;
    assert_eq!(verified.len(), VISITS);
    let uploads = (0..receipts)
        .map(|i| {
            let (state, at) = &verified[i % VISITS];
            Upload {
                id: uuid::Uuid::now_v7(),
                kind: UploadKind::Receipt,
                payload: Bytes(world.verified_receipt(state, at + (i / VISITS) as u64)),
            }
        })
        .collect();
    Prepared { world, uploads }
}

/// Ingest as two phones syncing at once, each batch after batch: results per second (wall) and
/// per CPU-second of this process.
async fn measure_ingest(p: std::sync::Arc<Prepared>, range: std::ops::Range<usize>) -> (f64, f64) {
    const STREAMS: usize = 4;
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut streams = Vec::new();
    for stream in 0..STREAMS {
        let p = p.clone();
        let range = range.clone();
        streams.push(tokio::spawn(async move {
            let w = &p.world;
            let signer = KeyRing::with_crypto(w.key_dir.clone(), Crypto::AwsLc)
                .signer(&w.org)
                .unwrap();
            for batch in p.uploads[range].chunks(BATCH).skip(stream).step_by(STREAMS) {
                let results = ingest(&w.db, &w.agent_device, batch, &signer, NOW + 90_000)
                    .await
                    .unwrap();
                assert!(
                    results.iter().all(|r| r.status == UploadStatus::Stored),
                    "{:?}",
                    results.iter().find(|r| r.status != UploadStatus::Stored)
                );
            }
        }));
    }
    for stream in streams {
        stream.await.unwrap();
    }
    let wall = wall.elapsed().as_secs_f64();
    let cpu = (cpu_seconds() - cpu).max(0.01);
    let n = range.len() as f64;
    (n / wall, n / cpu)
}

/// The same signature work with no database: per receipt the agent's signature, the ticket's,
/// the customer's answer, and a countersignature, over the same cores.
fn measure_crypto_only(
    p: &Prepared,
    tickets: &HashMap<u64, IssuedRow>,
    range: std::ops::Range<usize>,
) -> f64 {
    let w = &p.world;
    let signer = KeyRing::with_crypto(w.key_dir.clone(), Crypto::AwsLc)
        .signer(&w.org)
        .unwrap();
    let agent = signer.verifier(&w.agent_key.public_key());
    let customer_key = w.customer_key.public_key();
    let org_keys = w.org.keys.clone();
    let verifiers: Vec<(PublicKey, _)> = org_keys
        .iter()
        .chain([&customer_key])
        .map(|k| (*k, signer.verifier(k)))
        .collect();
    let verify = |k: &PublicKey, m: &[u8], s: &Signature| {
        verifiers
            .iter()
            .find(|(key, _)| key == k)
            .is_some_and(|(_, v)| v.verify(m, s))
    };
    let started = Instant::now();
    let uploads = &p.uploads[range];
    let done = on_cores(uploads, |upload| {
        let by_agent = |_: &PublicKey, m: &[u8], s: &Signature| agent.verify(m, s);
        let receipt =
            SignedReceipt::verify_with(&upload.payload.0, &w.agent_key.public_key(), &by_agent)
                .unwrap();
        let encoded = &tickets[&receipt.receipt().ticket_serial()].encoded;
        let ticket = SignedTicket::verify_with(encoded, &org_keys, &verify).unwrap();
        receipt
            .receipt()
            .check_against_ticket(&ticket, Some(&customer_key), &verify)
            .unwrap();
        signer
            .sign(
                Countersignature::new(*upload.id.as_bytes(), &upload.payload.0, NOW)
                    .to_sign(signer.public_key()),
            )
            .unwrap();
    });
    assert_eq!(done.len(), uploads.len());
    uploads.len() as f64 / started.elapsed().as_secs_f64()
}

/// One measurement on the cores this process may use; prints one line per database:
/// `RESULT <database> <cores> <ingest/s> <ingest per CPU-s> <crypto only/s>`.
fn run(receipts: usize) {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        for url in fresh_database_urls(dir.path()).await {
            let database = if url.starts_with("sqlite") {
                "SQLite"
            } else {
                "PostgreSQL"
            };
            // Rounds alternate the two measurements, each round with fresh uploads; the
            // medians are reported, as this machine's speed wanders from second to second.
            let prepared = std::sync::Arc::new(prepare(&url, receipts * ROUNDS, &dir).await);
            let serials: Vec<u64> = prepared
                .uploads
                .iter()
                .map(|u| SignedReceipt::peek(&u.payload.0).unwrap().1.ticket_serial())
                .collect();
            let tickets = prepared
                .world
                .db
                .tickets_issued_to(&prepared.world.agent_device, &serials)
                .await
                .unwrap();
            let (mut ingests, mut per_cpus, mut cryptos) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let range = round * receipts..(round + 1) * receipts;
                cryptos.push(measure_crypto_only(&prepared, &tickets, range.clone()));
                let (ingest, per_cpu) = measure_ingest(prepared.clone(), range).await;
                ingests.push(ingest);
                per_cpus.push(per_cpu);
            }
            assert_eq!(
                prepared
                    .world
                    .db
                    .export(&prepared.world.org)
                    .await
                    .unwrap()
                    .len(),
                receipts * ROUNDS
            );
            prepared.world.db.close().await;
            let (ingest, per_cpu, crypto) = (median(ingests), median(per_cpus), median(cryptos));
            println!("RESULT {database} {cores} {ingest:.0} {per_cpu:.0} {crypto:.0}");
        }
    });
}

fn main() {
    if let Ok(cores) = std::env::var(CORES_VAR) {
        pin_to(cores.parse().expect("a number of cores"));
        run(5_000);
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --benches`: prove it runs, on whatever cores there are.
        run(BATCH * 2 * 4);
        return;
    }
    let mut rows: HashMap<(String, usize), (f64, f64, f64)> = HashMap::new();
    for cores in [1, 2] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--bench")
            .env(CORES_VAR, cores.to_string())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if let ["RESULT", db, c, ingest, per_cpu, crypto] = f[..] {
                let n = |s: &str| s.parse::<f64>().unwrap();
                rows.insert(
                    (db.to_string(), c.parse().unwrap()),
                    (n(ingest), n(per_cpu), n(crypto)),
                );
            }
        }
    }
    println!(
        "| database | cores | ingest, results/s | crypto only, results/s | ingest / crypto only | ingest per CPU-second | ingest, 2 cores / 1 core |"
    );
    println!("|---|---|---|---|---|---|---|");
    for db in ["SQLite", "PostgreSQL"] {
        for cores in [1, 2] {
            let Some(&(ingest, per_cpu, crypto)) = rows.get(&(db.to_string(), cores)) else {
                continue;
            };
            let scaling = match (cores, rows.get(&(db.to_string(), 1))) {
                (2, Some(&(one, _, _))) => format!("{:.2}×", ingest / one),
                _ => String::new(),
            };
            println!(
                "| {db} | {cores} | {ingest:.0} | {crypto:.0} | {:.0}% | {per_cpu:.0} | {scaling} |",
                100.0 * ingest / crypto
            );
        }
    }
}
