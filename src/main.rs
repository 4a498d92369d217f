//! The `kaopei` binary: parses the command line, runs the library, maps the
//! outcome to an exit code (0 done, 1 done with red-tier findings, 2 error).
//! A closed stdout pipe (`kaopei … | head`) ends the program quietly with
//! the code of a finished run (0): the files are written before anything is
//! printed.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = kaopei::cmd::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KAOPEI_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match kaopei::cmd::run(cli) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        Err(e) if kaopei::cmd::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kaopei: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
