//! "Verified" results ingested per second against the same signature work alone, on one core
//! and on two, on SQLite and PostgreSQL.
//!
//! Each result is an agent's "verified" receipt from a real handshake, in batches of 50, each
//! batch naming 50 different visits out of 500. For each receipt ingest checks the agent's
//! signature, the ticket it names (read back from the database and checked against the
//! organisation's keys), the customer's signed answer against the key that ticket names,
//! stores it once and countersigns it; one transaction per batch. Four phones upload at once,
//! as a back-office serving a team would see. "Crypto only" does exactly those three
//! verifications and one signature per receipt with no database, spread over the same cores.
//!
//! `cargo bench -p doorstep-server --bench ingest` measures (PostgreSQL too when
//! `DOORSTEP_TEST_POSTGRES_URL` is set, e.g. under `scripts/with-postgres.sh`): it runs itself
//! as a child process pinned to one core, then to two, then both again, so every thread it
//! starts (tokio's, SQLite's) is held to them. PostgreSQL's own processes are not pinned; the
//! CPU they use while ingest runs is reported per result, since on a machine they share it is
//! taken from the same cores.
//! Without `--bench` (as `cargo test --benches` runs it) a few batches prove it works.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use doorstep_api::wire::{Bytes, Upload, UploadKind, UploadStatus};
use doorstep_core::countersignature::Countersignature;
use doorstep_core::receipt::SignedReceipt;
use doorstep_core::ticket::SignedTicket;
use doorstep_core::{PublicKey, Signature};
use doorstep_server::cores::on_cores;
use doorstep_server::db::results::IssuedRow;
use doorstep_server::ingest::ingest;
use doorstep_server::keys::KeyRing;
use doorstep_server::keys::backends::Crypto;
use doorstep_server::testing::fresh_database_urls;
use support::{NOW, World};

const BATCH: usize = 50;
/// Distinct visits the receipts cycle through: every batch names 50 different tickets. (A real
/// visit has one receipt; fewer visits would pile hundreds of results on each, which only a
/// benchmark does.)
const VISITS: usize = 10 * BATCH;
const CORES_VAR: &str = "DOORSTEP_BENCH_CORES";
/// Each figure is the median of this many rounds; each round measures both, one after the
/// other, so that a ratio compares the machine at one speed.
const ROUNDS: usize = 9;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// CPU seconds this process has used, all its threads, to the nanosecond.
fn cpu_seconds() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which `t` is.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(status, 0, "clock_gettime");
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// CPU seconds used by the PostgreSQL server's processes on this machine (the private one
/// `scripts/with-postgres.sh` starts) while they still run: each is one thread, whose
/// `schedstat` counts its time on a CPU in nanoseconds.
fn database_cpu_seconds() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map(|nanos| nanos / 1e9)
        .sum()
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

async fn prepare(url: &str, receipts: usize, visits: usize, dir: &tempfile::TempDir) -> Prepared {
    let world = World::build(url, dir).await;
    let verified = world.verified_visits(visits - 1).await;
    assert_eq!(verified.len(), visits);
    let uploads = (0..receipts)
        .map(|i| {
            let (state, at) = &verified[i % visits];
            Upload {
                id: uuid::Uuid::now_v7(),
                kind: UploadKind::Receipt,
                payload: Bytes(world.verified_receipt(state, at + (i / visits) as u64)),
            }
        })
        .collect();
    Prepared { world, uploads }
}

/// Ingest as four phones syncing at once, each batch after batch: results per second (wall),
/// per CPU-second of this process, and the database server's CPU microseconds per result (none
/// for SQLite, which runs inside this process).
async fn measure_ingest(p: Arc<Prepared>, range: std::ops::Range<usize>) -> (f64, f64, f64) {
    const STREAMS: usize = 4;
    let (wall, cpu, database) = (Instant::now(), cpu_seconds(), database_cpu_seconds());
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
    let database = database_cpu_seconds() - database;
    let n = range.len() as f64;
    (n / wall, n / cpu, 1e6 * database / n)
}

/// The same signature work with no database: per receipt the agent's signature, the ticket's,
/// the customer's answer, and a countersignature, over the same cores.
async fn measure_crypto_only(
    p: &Prepared,
    tickets: &Arc<HashMap<u64, IssuedRow>>,
    range: std::ops::Range<usize>,
) -> f64 {
    let w = &p.world;
    let signer = KeyRing::with_crypto(w.key_dir.clone(), Crypto::AwsLc)
        .signer(&w.org)
        .unwrap();
    let agent_key = w.agent_key.public_key();
    let agent = signer.verifier(&agent_key);
    let customer_key = w.customer_key.public_key();
    let org_keys = w.org.keys.clone();
    let verifiers: Vec<(PublicKey, _)> = org_keys
        .iter()
        .chain([&customer_key])
        .map(|k| (*k, signer.verifier(k)))
        .collect();
    let tickets = tickets.clone();
    let uploads = p.uploads[range].to_vec();
    let n = uploads.len();
    let started = Instant::now();
    let done = on_cores(uploads, move |upload| {
        let verify = |k: &PublicKey, m: &[u8], s: &Signature| {
            verifiers
                .iter()
                .find(|(key, _)| key == k)
                .is_some_and(|(_, v)| v.verify(m, s))
        };
        let by_agent = |_: &PublicKey, m: &[u8], s: &Signature| agent.verify(m, s);
        let receipt = SignedReceipt::verify_with(&upload.payload.0, &agent_key, &by_agent).unwrap();
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
    })
    .await;
    assert_eq!(done.len(), n);
    n as f64 / started.elapsed().as_secs_f64()
}

/// One measurement on the cores this process may use; prints one line per database:
/// `RESULT <database> <cores> <ingest/s> <ingest per CPU-s> <crypto only/s> <ingest/crypto>
/// <database server's CPU µs per result>`.
fn run(receipts: usize, visits: usize) {
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
            // medians are reported, and the median of each round's ratio, as this machine's
            // speed wanders from second to second.
            let prepared = Arc::new(prepare(&url, receipts * ROUNDS, visits, &dir).await);
            let serials: Vec<u64> = prepared
                .uploads
                .iter()
                .map(|u| SignedReceipt::peek(&u.payload.0).unwrap().1.ticket_serial())
                .collect();
            let tickets = Arc::new(
                prepared
                    .world
                    .db
                    .tickets_issued_to(&prepared.world.agent_device, &serials)
                    .await
                    .unwrap(),
            );
            let (mut ingests, mut per_cpus, mut cryptos) = (Vec::new(), Vec::new(), Vec::new());
            let mut database_micros = Vec::new();
            let mut ratios = Vec::new();
            for round in 0..ROUNDS {
                let range = round * receipts..(round + 1) * receipts;
                let crypto = measure_crypto_only(&prepared, &tickets, range.clone()).await;
                let (ingest, per_cpu, database) = measure_ingest(prepared.clone(), range).await;
                database_micros.push(database);
                ratios.push(ingest / crypto);
                cryptos.push(crypto);
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
            let ratio = median(ratios);
            let database_micros = median(database_micros);
            println!(
                "RESULT {database} {cores} {ingest:.0} {per_cpu:.0} {crypto:.0} {ratio:.3} {database_micros:.1}"
            );
        }
    });
}

/// What one child reports for one database: results per second (wall), per CPU-second,
/// crypto only per second, the median of the rounds' ingest / crypto-only ratios, and the
/// median of the database server's CPU per result.
#[derive(Clone, Copy)]
struct Figures {
    ingest: f64,
    per_cpu: f64,
    crypto: f64,
    ratio: f64,
    /// The database server's CPU per result, in microseconds (PostgreSQL only).
    database_micros: f64,
}

fn main() {
    if let Ok(cores) = std::env::var(CORES_VAR) {
        pin_to(cores.parse().expect("a number of cores"));
        run(2_000, VISITS);
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --benches`: prove it runs, on whatever cores there are.
        run(BATCH * 4, BATCH);
        return;
    }
    // Children alternate one core and two, twice, so that both see the machine at its
    // varying speed; each cell is the mean of its two.
    let mut runs: HashMap<(String, usize), Vec<Figures>> = HashMap::new();
    for cores in [1, 2, 1, 2] {
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
            if let [
                "RESULT",
                db,
                c,
                ingest,
                per_cpu,
                crypto,
                ratio,
                database_micros,
            ] = f[..]
            {
                let n = |s: &str| s.parse::<f64>().unwrap();
                runs.entry((db.to_string(), c.parse().unwrap()))
                    .or_default()
                    .push(Figures {
                        ingest: n(ingest),
                        per_cpu: n(per_cpu),
                        crypto: n(crypto),
                        ratio: n(ratio),
                        database_micros: n(database_micros),
                    });
            }
        }
    }
    let rows: HashMap<(String, usize), Figures> = runs
        .into_iter()
        .map(|(key, runs)| {
            let mean = |f: fn(&Figures) -> f64| runs.iter().map(f).sum::<f64>() / runs.len() as f64;
            let figures = Figures {
                ingest: mean(|r| r.ingest),
                per_cpu: mean(|r| r.per_cpu),
                crypto: mean(|r| r.crypto),
                ratio: mean(|r| r.ratio),
                database_micros: mean(|r| r.database_micros),
            };
            (key, figures)
        })
        .collect();
    println!(
        "| database | cores | ingest, results/s | crypto only, results/s | ingest / crypto only | ingest per CPU-second | database server's CPU per result | ingest, 2 cores / 1 core | crypto only, 2 cores / 1 core |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for db in ["SQLite", "PostgreSQL"] {
        for cores in [1, 2] {
            let Some(&Figures {
                ingest,
                per_cpu,
                crypto,
                ratio,
                database_micros,
            }) = rows.get(&(db.to_string(), cores))
            else {
                continue;
            };
            let (scaling, crypto_scaling) = match (cores, rows.get(&(db.to_string(), 1))) {
                (2, Some(one)) => (
                    format!("{:.2}×", ingest / one.ingest),
                    format!("{:.2}×", crypto / one.crypto),
                ),
                _ => (String::new(), String::new()),
            };
            let database_cpu = if db == "PostgreSQL" {
                format!("{database_micros:.0} µs")
            } else {
                "(inside ingest's own)".to_string()
            };
            println!(
                "| {db} | {cores} | {ingest:.0} | {crypto:.0} | {:.0}% | {per_cpu:.0} | {database_cpu} | {scaling} | {crypto_scaling} |",
                100.0 * ratio
            );
        }
    }
}
