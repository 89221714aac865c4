//! `record`: write the published URLs and the upload time into the release fixtures.
use crate::cli::RecordCliArgs;
use crate::record::{self, RecordOutcome};
use crate::reporting::{self, outputs};

use super::Failure;

pub fn record(args: RecordCliArgs) -> Result<(), Failure> {
    let outcome = record::run(&args.resolve())?;
    reporting::print_err(&outcome.to_string());
    let changed = matches!(outcome, RecordOutcome::Changed(_));
    outputs::write_named_outputs(&[
        ("changed", if changed { "true" } else { "false" }),
        ("fixture", &outcome.file().display().to_string()),
    ])?;
    Ok(())
}
