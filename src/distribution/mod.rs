//! Finding, naming and checking the distributions of one release before anything is uploaded.
