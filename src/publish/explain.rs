//! Explain: turn an upload that failed into what the release manager needs to know and do,
//! settling first whether the index holds exactly this file after all.
use crate::distribution::{DistKind, Distribution, Release};
use crate::hashing::{self, Digests};
use crate::index::auth::Auth;
use crate::index::upload::{Refusal, UploadError};
use crate::index::{Index, IndexFile};
use crate::inert::shown;
use crate::report::Notice;

use super::plan::conflict_message;

/// What became of a file whose upload failed.
pub enum Settled {
    /// The index holds exactly this file after all; the notice says when that was taken on
    /// the user's word (`--skip-existing`).
    AlreadyThere(Digests, Option<Notice>),
    /// It is not on the index: what happened and what to do.
    Failed(String),
}

/// Turn an upload error into what the release manager needs to know and do.
pub async fn explain_failure(
    api: &Index<'_>,
    auth: &Auth,
    release: &Release,
    dist: &Distribution,
    err: UploadError,
    skip_existing: bool,
) -> Settled {
    let name = &dist.filename;
    let refusal = match err {
        UploadError::Refused(refusal) => refusal,
        UploadError::Failed(e) => return Settled::Failed(format!("{e:#}")),
    };
    let refusal = &refusal;
    // Whether the index holds exactly this file decides between "already there" and a
    // conflict; the upload refusal alone cannot tell.
    let local = hashing::hash_file(&dist.path).await.ok();
    let on_index = match api
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state.file(name).cloned().or_else(|| {
            (dist.kind == DistKind::Sdist)
                .then(|| {
                    state
                        .files
                        .iter()
                        .find(|f| f.packagetype == "sdist")
                        .cloned()
                })
                .flatten()
        }),
        _ => None,
    };
    let same = |f: &IndexFile| match (&local, f.digests.sha256.as_deref()) {
        (Some(l), Some(s)) => l.sha256.eq_ignore_ascii_case(s),
        _ => false,
    };
    // The refusal itself may name the index's blake2b-256 (Warehouse's "File already exists").
    let index_blake = match refusal {
        Refusal::FileExists {
            index_blake2_256, ..
        } => index_blake2_256.as_deref(),
        _ => None,
    };
    let blake_same =
        matches!((&local, index_blake), (Some(l), Some(b)) if l.blake2_256.eq_ignore_ascii_case(b));
    // Different for sure: the index's listing or the refusal shows another hash.
    let known_different = on_index
        .as_ref()
        .is_some_and(|f| f.digests.sha256.is_some() && !same(f))
        || (index_blake.is_some() && !blake_same);
    // One minted token serves every project that registered this workflow as its trusted
    // publisher: a project that refuses it has not.
    if let (
        Refusal::Auth { message } | Refusal::Forbidden { message },
        Some((publisher, register_at)),
    ) = (refusal, auth.trusted_publisher(&release.name))
    {
        let project = shown(&release.name);
        return Settled::Failed(format!(
            "{name}: the index refused the upload to project {project} with the token minted \
             through trusted publishing (\"{message}\"): this workflow is not a trusted \
             publisher of {project}. Add it on {project}'s publishing settings, {register_at}: \
             {}.",
            publisher.one_line()
        ));
    }
    let msg = match refusal {
        Refusal::FileExists { .. } | Refusal::Conflict { .. } | Refusal::SdistExists { .. }
            if on_index.as_ref().is_some_and(same) || blake_same =>
        {
            if let Some(d) = local {
                return Settled::AlreadyThere(d, None);
            }
            refusal.to_string()
        }
        // An index that lists no hash for the file cannot show it is the same: --skip-existing
        // takes the user's word for it, never against a known hash.
        Refusal::FileExists { .. } | Refusal::Conflict { .. }
            if skip_existing && !known_different && local.is_some() =>
        {
            if let Some(d) = local {
                let note = Notice::warning(
                    "Skipped an existing file",
                    format!(
                        "{name}: the index already has a file of this name and cannot show \
                         whether it is the same one; --skip-existing counts it as published \
                         (\"{}\")",
                        refusal.message()
                    ),
                );
                return Settled::AlreadyThere(d, Some(note));
            }
            refusal.to_string()
        }
        Refusal::FileExists {
            index_blake2_256, ..
        } => match &local {
            Some(l) => conflict_message(
                name,
                l,
                on_index.as_ref().and_then(|f| f.digests.sha256.as_deref()),
                index_blake2_256.as_deref(),
            ),
            None => refusal.to_string(),
        },
        Refusal::SdistExists { message } => format!(
            "{name}: the index refused it: \"{message}\" The release already has a different \
             sdist{}; an sdist cannot be replaced: publish a new version.",
            on_index
                .map(|f| format!(" ({})", shown(&f.filename)))
                .unwrap_or_default()
        ),
        Refusal::Conflict { message } => format!(
            "{name}: the index says the file already exists (\"{message}\") and does not list it \
             with a sha256 that shows it is the same file; use --skip-existing if you know it is"
        ),
        Refusal::Auth { message } => format!(
            "{name}: the index refused the credentials (\"{message}\"). Check that the API \
             token is current and belongs to an account that may upload to {}, or use trusted \
             publishing.",
            release.name
        ),
        Refusal::Forbidden { message } => format!(
            "{name}: the credentials may not upload to {} (\"{message}\"). Use a token scoped \
             to this project, or register this workflow as its trusted publisher.",
            release.name
        ),
        Refusal::Other { status, message } => {
            format!("{name}: the index refused the upload with HTTP {status}: {message}")
        }
    };
    Settled::Failed(msg)
}
