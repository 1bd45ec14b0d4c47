//! The demo as a person reads it in a terminal.

use std::path::PathBuf;
use std::process::ExitCode;

use doorstep_core::Code;
use doorstep_qr::Symbol;

use crate::report::{CodeReport, DemoReport};

const STEPS: [(&str, &str); 4] = [
    (
        "challenge",
        "Customer shows the challenge; the agent scans it",
    ),
    ("proof", "Agent shows the proof; the customer scans it"),
    (
        "response",
        "Customer shows the response; the agent scans it",
    ),
    ("receipt", "Agent shows the receipt; the customer keeps it"),
];

fn print_code(index: usize, code: &CodeReport, show_qr: bool) {
    let title = STEPS
        .iter()
        .find(|(k, _)| *k == code.kind)
        .map_or(code.kind, |(_, t)| t);
    println!();
    println!("[{}] {title}", index + 1);
    println!(
        "    QR version {} at level M, {}×{} modules, {} characters, {} bytes",
        code.qr_version, code.modules, code.modules, code.characters, code.bytes
    );
    if show_qr {
        match Symbol::new(&code.text) {
            Ok(symbol) => {
                for line in symbol.to_terminal().lines() {
                    println!("    {line}");
                }
            }
            // A deliberately damaged code may not even fit a QR symbol.
            Err(e) => println!("    (no symbol: {e})"),
        }
    }
    println!("    {}", code.text);
}

pub fn print_demo(r: &DemoReport, show_qr: bool) {
    println!("Doorstep demo: one visit, offline, in one process");
    if let (Some(name), Some(attack)) = (r.tamper, r.attack) {
        println!("Attack: {name}: {attack}");
    }
    let v = &r.visit;
    println!();
    println!("Organisation  key {}", v.organisation_key_id);
    println!(
        "Agent         {} ({}), on behalf of {}, device key {}",
        v.agent_name, v.agent_id, v.on_behalf_of, v.agent_key_id
    );
    println!("Customer      device key {}", v.customer_key_id);
    println!("Visit         {}  {}", v.visit_id, v.window);
    println!("Checks        {}", v.checks.join(", "));
    println!("Agent may see {}", v.customer_fields_visible.join(", "));

    for (i, code) in r.codes.iter().enumerate() {
        print_code(i, code, show_qr);
        match code.kind {
            "proof" => {
                if let Some(c) = &r.confirmation_codes.customer {
                    println!(
                        "    Customer's screen: VERIFIED {} for {}. Confirmation code {c}",
                        v.agent_name, v.on_behalf_of
                    );
                }
            }
            "response" => {
                if let (Some(c), Some(_)) = (&r.confirmation_codes.agent, &r.agent_receipt) {
                    println!("    Agent's screen: CUSTOMER VERIFIED. Confirmation code {c}");
                }
            }
            _ => {}
        }
    }
    println!();
    if let Some(refusal) = &r.refused {
        println!(
            "REFUSED by the {}: {} [{}]",
            refusal.by, refusal.message, refusal.kind
        );
        return;
    }
    let codes = &r.confirmation_codes;
    println!(
        "Confirmation codes  customer {}  agent {}  {}",
        codes.customer.as_deref().unwrap_or("-"),
        codes.agent.as_deref().unwrap_or("-"),
        if codes.customer == codes.agent {
            "(match)"
        } else {
            "(DIFFER)"
        }
    );
    if let Some(a) = &r.agent_receipt {
        println!();
        println!("Agent's receipt (signed by the agent's device key)");
        println!("    visit {}  serial {}", a.visit_id, a.ticket_serial);
        println!(
            "    outcome {}  checks {}",
            a.outcome,
            a.checks_done.join(", ")
        );
        println!("    at {}", a.time);
        println!(
            "    transcript {}",
            a.transcript_hash.as_deref().unwrap_or("-")
        );
    }
    if let Some(c) = &r.customer_receipt {
        println!();
        println!("Customer's receipt");
        println!("    visit {}", c.visit_id);
        println!(
            "    agent {}, on behalf of {}",
            c.agent_name, c.on_behalf_of
        );
        println!(
            "    confirmation code {}  verified at {}",
            c.confirmation_code, c.verified_at
        );
        println!("    transcript {}", c.transcript_hash);
        println!(
            "    agent-signed copy {}",
            if c.holds_agent_signed_receipt {
                "held and checked"
            } else {
                "not held"
            }
        );
    }
}

pub fn print_attack_table(reports: &[DemoReport]) {
    println!("{:<22} {:<9} {:<26} message", "attack", "refused", "error");
    for r in reports {
        let (by, kind, message) = r
            .refused
            .as_ref()
            .map_or(("NOT", "-", "the visit completed"), |f| {
                (f.by, f.kind, f.message.as_str())
            });
        println!(
            "{:<22} {:<9} {:<26} {}",
            r.tamper.unwrap_or("-"),
            by,
            kind,
            message
        );
    }
}

pub fn decode(text: Option<String>, image: Option<PathBuf>) -> ExitCode {
    let texts = match (text, image) {
        (Some(t), None) => vec![t],
        (None, Some(path)) => {
            let decoded = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|bytes| doorstep_qr::decode_png(&bytes).map_err(|e| e.to_string()));
            match decoded {
                Ok(found) => found,
                Err(e) => {
                    eprintln!("doorstep: {}: {e}", path.display());
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => {
            eprintln!("doorstep: give either a code's text or --image FILE");
            return ExitCode::from(2);
        }
    };
    let mut status = ExitCode::SUCCESS;
    for text in texts {
        match Code::from_text(&text) {
            Ok(code) => {
                println!(
                    "{} code, {} bytes",
                    code.kind().name(),
                    code.to_bytes().len()
                );
                println!("{code:#?}");
            }
            // Not a code the apps scan: perhaps the one a phone's own camera opens.
            Err(e) => match doorstep_core::page::PagePass::from_url(&text) {
                Ok(pass) => {
                    println!("page pass, {} characters: {text}", text.len());
                    println!(
                        "ticket {}, signed at {}, read aloud: {}",
                        pass.serial,
                        pass.time,
                        pass.spoken_code()
                    );
                }
                Err(_) => {
                    println!("{e} [{}]", e.kind());
                    status = ExitCode::FAILURE;
                }
            },
        }
    }
    status
}
