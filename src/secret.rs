//! A value that must never be printed: tokens, passwords, ID tokens.
use std::fmt;

/// Wraps a credential so that `{:?}` and `{}` can never leak it; the only way to the value is
/// [`Secret::expose`], which makes every use greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("pypi-AgEIcHlwaS5vcmc");
        assert!(!format!("{s} {s:?}").contains("AgEI"));
        assert_eq!(s.expose(), "pypi-AgEIcHlwaS5vcmc");
    }
}
