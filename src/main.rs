use std::process::ExitCode;

fn main() -> ExitCode {
    pypi_oidc_publish::cli::main()
}
