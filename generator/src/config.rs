//! What to generate: the seed, how many users over how many days, and how much bad input.

use crate::time::DEFAULT_START_MS;

/// Parameters of one generated data set. The same configuration always gives byte-identical
/// messages and the same truth.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorConfig {
    /// Seeds every random choice; each user draws from its own stream of this seed.
    pub seed: u64,
    /// Number of users (`u000000`, `u000001`, ...).
    pub users: u32,
    /// Length of the simulated period in days, starting at `start_ms`.
    pub days: u32,
    /// Start of day 0, epoch milliseconds (should be a UTC midnight).
    pub start_ms: i64,
    /// Extra invalid messages, as a fraction of the valid ones (0.01 = one per hundred).
    pub malformed_rate: f64,
}

impl Default for GeneratorConfig {
    /// 1000 users over 120 days from 2026-01-01T00:00:00Z, seed 42, no malformed messages.
    fn default() -> Self {
        GeneratorConfig {
            seed: 42,
            users: 1000,
            days: 120,
            start_ms: DEFAULT_START_MS,
            malformed_rate: 0.0,
        }
    }
}

/// A configuration `generate` cannot honour.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("users must be at least 1")]
    NoUsers,
    #[error("days must be at least 1")]
    NoDays,
    #[error("malformed_rate must be a finite number >= 0, got {0}")]
    MalformedRate(f64),
}

impl GeneratorConfig {
    /// Checks the configuration; `generate` panics on exactly these errors, so a caller taking
    /// values from a user should call this first.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.users == 0 {
            return Err(ConfigError::NoUsers);
        }
        if self.days == 0 {
            return Err(ConfigError::NoDays);
        }
        if !(self.malformed_rate.is_finite() && self.malformed_rate >= 0.0) {
            return Err(ConfigError::MalformedRate(self.malformed_rate));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_as_documented() {
        let config = GeneratorConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!((config.seed, config.users, config.days), (42, 1000, 120));
        assert_eq!(config.start_ms, 1_767_225_600_000);
        assert_eq!(config.malformed_rate, 0.0);
    }

    #[test]
    fn rejects_empty_and_nonsense_configurations() {
        let base = GeneratorConfig::default();
        let with = |f: fn(&mut GeneratorConfig)| {
            let mut config = base.clone();
            f(&mut config);
            config.validate()
        };
        assert_eq!(with(|c| c.users = 0), Err(ConfigError::NoUsers));
        assert_eq!(with(|c| c.days = 0), Err(ConfigError::NoDays));
        assert_eq!(
            with(|c| c.malformed_rate = -0.5),
            Err(ConfigError::MalformedRate(-0.5))
        );
        assert!(with(|c| c.malformed_rate = f64::NAN).is_err());
    }
}
