//! The callvault binary: parse arguments, run, map the error to an exit status.
#![forbid(unsafe_code)]

use clap::Parser;

fn main() {
    let cli = callvault::cli::Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("the tokio runtime starts");
    let code = match runtime.block_on(callvault::cli::run(cli)) {
        Ok(()) => 0,
        Err(e) => exit_code(&e),
    };
    std::process::exit(code);
}

/// 0 ok, 1 error, 2 partial batch failure; a broken pipe is a normal end.
fn exit_code(e: &anyhow::Error) -> i32 {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        if io.kind() == std::io::ErrorKind::BrokenPipe {
            return 0;
        }
    }
    if let Some(x) = e.downcast_ref::<callvault::cli::ExitError>() {
        eprintln!("error: {}", x.message);
        return x.code;
    }
    eprintln!("error: {e:#}");
    1
}
