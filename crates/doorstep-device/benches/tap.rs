//! What a visit over NFC costs through a real PC/SC stack (a private pcscd with vsmartcard's
//! virtual reader, `scripts/with-pcscd.sh`): the customer's holds — challenge in and proof out;
//! response in; the receipt out (in one hold when the agent has already recorded the visit) — with both phones' stores, signatures and checks, round
//! trips and bytes counted. Loopback TCP stands in for the radio, so the times are the phones'
//! work plus PC/SC's, not the 106–848 kbit/s of a real field.
//!
//! `cargo bench -p doorstep-device --bench tap` measures 50 visits; without `--bench` (as
//! `cargo test --benches` runs it) two prove it works.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::reader::{AgentAtReader, Counting, hold, pcsc_setup};
use doorstep_core::Outcome;

fn main() {
    let visits = if std::env::args().any(|a| a == "--bench") {
        50
    } else {
        2
    };
    let Some((vpcd_address, reader)) = pcsc_setup() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let w = common::world().await;
        let (agent_dir, customer_dir, visit, _) = common::enrolled(&w).await;
        let agent = Arc::new(w.open(&agent_dir).await);
        let customer = w.open(&customer_dir).await;
        let at_reader = AgentAtReader::present(agent.clone(), &vpcd_address);
        at_reader.arm(&visit);

        let (mut first, mut second) = (Vec::new(), Vec::new());
        let mut counts = (0, 0, 0, 0);
        for _ in 0..visits {
            let mut card = Counting {
                inner: hold(&reader),
                commands: 0,
                bytes: 0,
            };
            let started = Instant::now();
            customer
                .customer_tap_agent(&visit, &mut card, true)
                .await
                .unwrap();
            first.push(started.elapsed());
            counts.0 = card.commands;
            counts.1 = card.bytes;
            drop(card);

            customer
                .customer_person_at_door(&visit, true)
                .await
                .unwrap();
            customer.customer_compare_code(&visit, true).await.unwrap();
            agent.agent_compare_code(&visit, true).await.unwrap();
            let mut card = Counting {
                inner: hold(&reader),
                commands: 0,
                bytes: 0,
            };
            let started = Instant::now();
            let answered = customer
                .customer_tap_answer(&visit, &mut card)
                .await
                .unwrap();
            second.push(started.elapsed());
            assert_eq!(answered.receipt, None);
            counts.2 = card.commands;
            counts.3 = card.bytes;
        }
        // The agent records the visit; a last hold brings the receipt.
        agent
            .agent_record_outcome(&visit, Outcome::Verified, &[], "")
            .await
            .unwrap();
        let mut card = Counting {
            inner: hold(&reader),
            commands: 0,
            bytes: 0,
        };
        let started = Instant::now();
        customer
            .customer_tap_receipt(&visit, &mut card)
            .await
            .unwrap();
        let third = started.elapsed().as_secs_f64() * 1000.0;
        let median = |times: &mut Vec<Duration>| {
            times.sort();
            times[times.len() / 2].as_secs_f64() * 1000.0
        };
        println!("| hold | APDUs | bytes | median (ms) |");
        println!("|---|---|---|---|");
        println!(
            "| 1: challenge → proof | {} | {} | {:.1} |",
            counts.0,
            counts.1,
            median(&mut first)
        );
        println!(
            "| 2: response → verified | {} | {} | {:.1} |",
            counts.2,
            counts.3,
            median(&mut second)
        );
        println!(
            "| 3: the receipt | {} | {} | {third:.1} (once) |",
            card.commands, card.bytes
        );
    });
}
