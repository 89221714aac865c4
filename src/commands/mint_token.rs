//! `mint-token`: exchange the job's ID token for a short-lived upload token and hand it on.
use crate::cli::MintTokenArgs;
use crate::github::runner::Runner;
use crate::index::auth::{Auth, TrustedPublishing};
use crate::reporting::{self, outputs};

use super::Failure;

pub async fn mint_token(
    args: MintTokenArgs,
    runner: &Runner,
    via_action: bool,
) -> Result<(), Failure> {
    let cfg = args.resolve(runner)?;
    let auth = Auth::resolve(
        &cfg.http,
        runner,
        TrustedPublishing::Always,
        String::new(),
        None,
        &cfg.index,
    )?;
    let Auth::Trusted(tp) = auth else {
        return Err(anyhow::anyhow!("internal: trusted publishing was not selected").into());
    };
    let minted = tp
        .mint(cfg.project.as_deref())
        .await
        .map_err(super::publish::mint_failure)?;
    for n in &minted.notices {
        reporting::tell(n);
    }
    // The mask is already registered (oidc::mint masks before returning); only then may the
    // token reach stdout and the step output.
    if !via_action {
        reporting::print_out(minted.token.expose());
    }
    outputs::write_named_outputs(&[("token", minted.token.expose())])?;
    Ok(())
}
