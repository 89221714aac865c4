use std::process::ExitCode;

use pypi_oidc_publish::{cli, commands, github::runner::Runner, reporting, signals};

fn main() -> ExitCode {
    reporting::install_panic_hook();
    let invocation = match cli::parse() {
        Ok(invocation) => invocation,
        Err(e) => return ExitCode::from(reporting::command_line(&e)),
    };
    let runner = Runner::from_env();
    reporting::init(reporting::Sink {
        in_actions: runner.in_actions,
        output_file: runner.output_file.clone(),
        summary_file: runner.summary_file.clone(),
    });
    // On the command line `mint-token`'s stdout is the token alone (for `$(...)`), so its
    // mask goes to stderr. In the container action stdout is the job log and the runner
    // reads the two streams apart: there the mask stays on stdout, ahead of everything, and
    // the token travels only as the `token` output.
    if matches!(invocation.cli.command, cli::Command::MintToken(_)) && !invocation.via_action {
        reporting::commands_on_stderr();
    }
    reporting::log_format::init(invocation.cli.command.verbose());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            reporting::print_err(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let ok = runtime.block_on(async {
        signals::install();
        commands::run(invocation, &runner).await
    });
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
