//! The `kaopei` binary: parses the command line, runs the library, maps the
//! outcome to an exit code (0 done, 1 done with red-tier findings, 2 error).

use clap::Parser;

fn main() {
    let cli = kaopei::cmd::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("KAOPEI_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match kaopei::cmd::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("kaopei: error: {e:#}");
            std::process::exit(2);
        }
    }
}
