//! `doorstep`: run a whole doorstep visit in one process, decode codes, keep the test vectors.

mod clock;
mod human;
mod live;
mod report;
mod vectors;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_core::SeededRandomness;
use doorstep_core::scenario::{Scenario, Tamper};
use doorstep_core::system::SystemRandomness;

#[derive(Parser)]
#[command(
    name = "doorstep",
    version,
    about = "Doorstep: cryptographic identity checks at the door"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a complete visit: a real back-office on loopback with an embedded SQLite database,
    /// two phones that enrol, sync, meet at the door and sync the result. `--offline` (or any of
    /// `--tamper`, `--json`, `--seed`) runs the protocol alone, in memory.
    Demo {
        /// The protocol alone, in memory, with no back-office.
        #[arg(long)]
        offline: bool,
        /// Keep the back-office's data (database and keys) in this empty directory.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["offline", "tamper", "json", "seed"])]
        keep: Option<PathBuf>,
        /// Show an attack being refused: a name from `--tamper list`, or `all`.
        #[arg(long, value_name = "WHAT")]
        tamper: Option<String>,
        /// Print one JSON document instead of the screens.
        #[arg(long)]
        json: bool,
        /// Leave out the QR symbols (their sizes are still shown).
        #[arg(long)]
        no_qr: bool,
        /// Make the run reproducible: randomness comes from this seed, not the system.
        #[arg(long)]
        seed: Option<String>,
    },
    /// Show what a code says, from its text or from a PNG image of its QR symbol.
    Decode {
        /// The code's text (as a scanner returns it).
        text: Option<String>,
        #[arg(long, value_name = "PNG")]
        image: Option<PathBuf>,
    },
    /// Two phones (software keys, stores in DIR) against a running back-office that the pins
    /// file trusts: each enrols with its one-time code, both sync, they do the customer's first
    /// visit at the door and the receipt goes back; with --report the customer's phone then
    /// reports the visitor. For trying the console.
    Phones {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The development pins (`doorstep-server pins`).
        #[arg(long, value_name = "FILE")]
        pins: PathBuf,
        #[arg(long)]
        agent_code: String,
        #[arg(long)]
        customer_code: String,
        /// The customer's phone reports the visitor with this note.
        #[arg(long, value_name = "NOTE")]
        report: Option<String>,
    },
    /// The agent's phone of `phones` (or a new one, enrolled with --agent-code, which then
    /// syncs) shows the code a customer without the app opens with the phone's own camera, for its next
    /// open visit: prints the verification page's URL.
    PagePass {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_name = "FILE")]
        pins: PathBuf,
        #[arg(long)]
        agent_code: Option<String>,
        /// Also write the QR code as a PNG image.
        #[arg(long, value_name = "PNG")]
        png: Option<PathBuf>,
        /// The phone's clock runs this many minutes behind: to see the page refuse an old code.
        #[arg(long, value_name = "MINUTES", default_value_t = 0)]
        clock_behind_minutes: u64,
    },
    /// The agent's phone of `phones` records that the customer checked its next open visit on
    /// the verification page, with the reference the page gave them, and syncs: prints the
    /// receipt's outcome and what the back-office stored.
    PageCheck {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long, value_name = "FILE")]
        pins: PathBuf,
        /// The reference as the customer read it out, e.g. "4821 0936".
        #[arg(long)]
        reference: String,
    },
    /// Write the test vectors to a file, or check a file against this build.
    Vectors {
        #[arg(long, value_name = "FILE", conflicts_with = "check")]
        write: Option<PathBuf>,
        #[arg(long, value_name = "FILE")]
        check: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo {
            offline,
            keep,
            tamper,
            json,
            no_qr,
            seed,
        } => {
            if offline || tamper.is_some() || json || seed.is_some() {
                demo(tamper.as_deref(), json, no_qr, seed.as_deref())
            } else {
                live_demo(keep, !no_qr)
            }
        }
        Command::Decode { text, image } => human::decode(text, image),
        Command::Phones {
            dir,
            pins,
            agent_code,
            customer_code,
            report,
        } => {
            let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
            match runtime.block_on(live::phones(dir, pins, agent_code, customer_code, report)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("doorstep: the phones failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::PagePass {
            dir,
            pins,
            agent_code,
            png,
            clock_behind_minutes,
        } => {
            let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
            let phone = live::page_pass(dir, pins, agent_code, png, clock_behind_minutes);
            match runtime.block_on(phone) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("doorstep: the agent's phone failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::PageCheck {
            dir,
            pins,
            reference,
        } => {
            let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
            match runtime.block_on(live::page_check(dir, pins, reference)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("doorstep: the agent's phone failed: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Vectors { write, check } => vectors(write, check),
    }
}

fn live_demo(keep: Option<PathBuf>, qr: bool) -> ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(live::run(keep, qr)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep: the demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn demo(tamper: Option<&str>, json: bool, no_qr: bool, seed: Option<&str>) -> ExitCode {
    let tampers: Vec<Option<Tamper>> = match tamper {
        None => vec![None],
        Some("list") => {
            for t in Tamper::ALL {
                println!("{:<22} {}", t.name(), t.description());
            }
            return ExitCode::SUCCESS;
        }
        Some("all") => Tamper::ALL.into_iter().map(Some).collect(),
        Some(name) => match Tamper::from_name(name) {
            Some(t) => vec![Some(t)],
            None => {
                eprintln!(
                    "doorstep: unknown attack '{name}'; `doorstep demo --tamper list` names them"
                );
                return ExitCode::from(2);
            }
        },
    };
    let scenario = Scenario::new(seed.unwrap_or("doorstep demo"));
    let reports: Vec<_> = tampers
        .iter()
        .map(|&t| {
            let run = match seed {
                Some(s) => scenario.run(t, &mut SeededRandomness::new(s)),
                None => scenario.run(t, &mut SystemRandomness),
            };
            report::build(&scenario, t, &run)
        })
        .collect();
    if json {
        let out = match reports.as_slice() {
            [one] => serde_json::to_string_pretty(one),
            many => serde_json::to_string_pretty(many),
        };
        println!("{}", out.expect("reports serialise"));
    } else if reports.len() == 1 {
        human::print_demo(&reports[0], !no_qr);
    } else {
        human::print_attack_table(&reports);
    }
    if reports.iter().all(report::DemoReport::as_expected) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn vectors(write: Option<PathBuf>, check: Option<PathBuf>) -> ExitCode {
    let text = vectors::to_json();
    if let Some(path) = write {
        if let Err(e) = std::fs::write(&path, &text) {
            eprintln!("doorstep: cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    } else if let Some(path) = check {
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == text => {
                let parsed: serde_json::Value = serde_json::from_str(&existing)
                    .expect("the file was just compared to valid JSON");
                if !vectors::codes_decode(&parsed) {
                    eprintln!(
                        "doorstep: {} holds codes that do not decode",
                        path.display()
                    );
                    return ExitCode::FAILURE;
                }
                println!("{} matches this build", path.display());
            }
            Ok(_) => {
                eprintln!(
                    "doorstep: {} differs from this build's vectors",
                    path.display()
                );
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("doorstep: cannot read {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{text}");
    }
    ExitCode::SUCCESS
}
