//! `doorstep-server`: the back-office's administration commands (and, to come, `serve`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use doorstep_server::agents::NewAgent;
use doorstep_server::{Db, ServerError};

#[derive(Parser)]
#[command(name = "doorstep-server", version, about = "The Doorstep back-office")]
struct Cli {
    /// sqlite:PATH (the default, created if missing) or postgres://USER@HOST/DB
    #[arg(
        long,
        env = "DOORSTEP_DATABASE_URL",
        default_value = "sqlite:doorstep.db"
    )]
    database_url: String,
    /// Where organisations' signing keys are written (owner-only files).
    #[arg(long, env = "DOORSTEP_KEY_DIR", default_value = ".")]
    key_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an organisation and its signing key.
    Init {
        #[arg(long)]
        name: String,
    },
    /// Manage the organisation's agents.
    Agent {
        #[arg(long = "org")]
        organisation: String,
        #[command(subcommand)]
        action: AgentAction,
    },
}

#[derive(Subcommand)]
enum AgentAction {
    Add {
        #[arg(long)]
        staff_ref: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        on_behalf_of: String,
        /// The photo customers will see (its hash goes into tickets).
        #[arg(long)]
        photo: PathBuf,
    },
    List,
    Revoke {
        #[arg(long)]
        staff_ref: String,
    },
}

async fn run(cli: Cli) -> Result<(), ServerError> {
    let db = Db::open(&cli.database_url).await?;
    match cli.command {
        Command::Init { name } => {
            let org = db.create_organisation(&name, &cli.key_dir).await?;
            println!(
                "organisation {} ({}) with signing key {}",
                org.name,
                org.id,
                org.keys[0].key_id()
            );
            println!(
                "private key: {}",
                doorstep_server::organisations::signing_key_path(&cli.key_dir, &org.id).display()
            );
        }
        Command::Agent {
            organisation,
            action,
        } => {
            let org = db.organisation(&organisation).await?;
            match action {
                AgentAction::Add {
                    staff_ref,
                    name,
                    on_behalf_of,
                    photo,
                } => {
                    let photo = std::fs::read(&photo).map_err(|e| {
                        ServerError::Damaged(format!("cannot read {}: {e}", photo.display()))
                    })?;
                    let agent = db
                        .add_agent(
                            &org,
                            &NewAgent {
                                staff_ref: &staff_ref,
                                display_name: &name,
                                on_behalf_of: &on_behalf_of,
                                photo: &photo,
                            },
                        )
                        .await?;
                    println!("agent {} ({}) added", agent.staff_ref, agent.display_name);
                }
                AgentAction::List => {
                    for a in db.agents(&org).await? {
                        let status = if a.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        };
                        println!(
                            "{:<12} {:<8} {} (on behalf of {})",
                            a.staff_ref, status, a.display_name, a.on_behalf_of
                        );
                    }
                }
                AgentAction::Revoke { staff_ref } => {
                    db.revoke_agent(&org, &staff_ref).await?;
                    println!("agent {staff_ref} revoked");
                }
            }
        }
    }
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("doorstep-server: {e}");
            ExitCode::FAILURE
        }
    }
}
