//! Measures the candidate QR decoders on degraded renderings of real Doorstep codes and prints
//! a Markdown table (kept in docs/benchmarks.md).
//!
//! cargo run --release -p doorstep-qr --example qr_survey [-- DIR]
//!
//! With DIR, every degraded image is also written there as a PNG, with `manifest.tsv` (file,
//! degradation, expected text) and `results.tsv` (degradation, decoder, decoded, tried), so
//! that `scripts/qr-survey-reference.py` can run the reference decoder (zxing-cpp) on the very
//! same images and print the table with its column.

use std::time::Instant;

use doorstep_core::SeededRandomness;
use doorstep_core::codec::Code;
use doorstep_core::customer;
use doorstep_core::scenario::Scenario;
use doorstep_qr::degrade::Degradation;
use doorstep_qr::{Decoder, Symbol};

fn codes() -> Vec<(String, String)> {
    let scenario = Scenario::new("survey");
    let run = scenario.run(None, &mut SeededRandomness::new("survey"));
    let mut codes: Vec<_> = run
        .codes
        .iter()
        .map(|c| (c.kind.name().to_string(), c.text.clone()))
        .collect();
    // The proof as a customer without the notice receives it: the largest code.
    let mut rng = SeededRandomness::new("survey full");
    let trust = scenario.trust();
    let (_, challenge) = customer::AwaitingProof::start_without_notice(
        scenario.ticket.visit_id,
        scenario.customer_key.public_key(),
        scenario.now,
        &mut rng,
    );
    let ready = doorstep_core::agent::Ready::new(
        &scenario.ticket_encoded,
        scenario.customer_key.public_key(),
        &trust,
    )
    .unwrap();
    let to_sign = ready
        .receive_challenge(challenge, &trust, scenario.now, &mut rng)
        .unwrap();
    let sig = scenario.agent_key.sign(&to_sign.bytes_to_sign());
    let (_, proof) = to_sign.finish(sig).unwrap();
    codes.push(("proof (full ticket)".into(), Code::Proof(proof).to_text()));
    codes
}

fn main() {
    let degradations: Vec<Degradation> = [
        [5.0, 15.0, 30.0, 45.0].map(Degradation::Rotate),
        [1.0, 1.5, 1.75, 2.0].map(Degradation::Blur),
        [20.0, 35.0, 50.0, 65.0].map(Degradation::Noise),
        [0.75, 0.5, 0.4, 0.35].map(Degradation::Scale),
        [0.1, 0.2, 0.3, 0.4].map(Degradation::Perspective),
    ]
    .concat()
    .into_iter()
    .chain([
        Degradation::Inverted,
        Degradation::ScreenPhoto(20.0),
        Degradation::ScreenPhoto(35.0),
        Degradation::ScreenPhoto(50.0),
    ])
    .collect();
    let out_dir = std::env::args().nth(1).map(std::path::PathBuf::from);
    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir).unwrap();
    }
    let mut manifest = String::new();
    let mut results = String::new();
    let seeds = [1u64, 2, 3];
    let codes = codes();
    println!(
        "Codes: {}",
        codes
            .iter()
            .map(|(k, t)| format!("{k} v{}", Symbol::new(t).unwrap().size().version))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Rendering: 4 pixels per module, 4-module quiet zone; each cell: decoded / tried ({} codes × {} seeds).",
        codes.len(),
        seeds.len()
    );
    println!();
    print!("| degradation |");
    for d in Decoder::ALL {
        print!(" {} |", d.name());
    }
    println!();
    println!("|---|{}", "---|".repeat(Decoder::ALL.len()));
    let mut totals = vec![(0usize, 0usize, 0f64); Decoder::ALL.len()];
    for degradation in &degradations {
        print!("| {} |", degradation.label());
        let mut row = vec![(0usize, 0usize); Decoder::ALL.len()];
        for (n, (_, text)) in codes.iter().enumerate() {
            let clean = Symbol::new(text).unwrap().to_image(4);
            for &seed in &seeds {
                let image = degradation.apply(&clean, seed);
                if let Some(dir) = &out_dir {
                    let file = format!("{}-{n}-{seed}.png", manifest.lines().count());
                    image.save(dir.join(&file)).unwrap();
                    manifest.push_str(&format!("{file}\t{}\t{text}\n", degradation.label()));
                }
                for (i, decoder) in Decoder::ALL.iter().enumerate() {
                    let start = Instant::now();
                    let ok = decoder
                        .decode(&image)
                        .is_ok_and(|found| found.contains(text));
                    totals[i].2 += start.elapsed().as_secs_f64();
                    row[i].1 += 1;
                    totals[i].1 += 1;
                    if ok {
                        row[i].0 += 1;
                        totals[i].0 += 1;
                    }
                }
            }
        }
        for (i, (ok, tried)) in row.into_iter().enumerate() {
            print!(" {ok}/{tried} |");
            results.push_str(&format!(
                "{}\t{}\t{ok}\t{tried}\n",
                degradation.label(),
                Decoder::ALL[i].name()
            ));
        }
        println!();
    }
    if let Some(dir) = &out_dir {
        std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
        std::fs::write(dir.join("results.tsv"), results).unwrap();
    }
    print!("| **total** |");
    for (ok, tried, _) in &totals {
        print!(" **{ok}/{tried}** |");
    }
    println!();
    print!("| mean time per image |");
    for (_, tried, secs) in &totals {
        print!(" {:.1} ms |", secs * 1000.0 / *tried as f64);
    }
    println!();
}
