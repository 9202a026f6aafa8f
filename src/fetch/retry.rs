//! Retrying failed requests: exponential backoff with jitter, `Retry-After` honoured
//! (capped), a bounded number of tries. Sans-IO: the policy computes waits; the caller
//! sleeps.

use std::time::Duration;

/// How failed requests are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Tries in total, the first included.
    pub max_tries: u32,
    /// The wait after the first failure (doubled after each further one).
    pub base: Duration,
    /// The longest backoff.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; longer ones are waited only this long.
    pub retry_after_cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_tries: 4,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            retry_after_cap: Duration::from_secs(120),
        }
    }
}

/// What to do after a failed try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this wait.
    Retry(Duration),
    /// Stop: the error is final or the tries are used up.
    GiveUp,
}

impl RetryPolicy {
    /// The backoff after `tries_done` failed tries (1 = after the first), with
    /// `jitter` in `[0, 1)`: between half and all of the exponential value.
    pub fn backoff(&self, tries_done: u32, jitter: f64) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << tries_done.saturating_sub(1).min(20))
            .min(self.max_backoff);
        let jitter = jitter.clamp(0.0, 1.0);
        exp / 2 + exp.mul_f64(0.5 * jitter)
    }

    /// Decides after a failure: `retryable` says whether the error is transient,
    /// `retry_after` is the server's wish, if any.
    pub fn decide(
        &self,
        tries_done: u32,
        retryable: bool,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> RetryDecision {
        if !retryable || tries_done >= self.max_tries {
            return RetryDecision::GiveUp;
        }
        let backoff = self.backoff(tries_done, jitter);
        RetryDecision::Retry(match retry_after {
            Some(wish) => wish.min(self.retry_after_cap),
            None => backoff,
        })
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - now;
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_tries: 3,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            retry_after_cap: Duration::from_secs(2),
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        let p = policy();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(5, 1.0), Duration::from_millis(300));
    }

    #[test]
    fn tries_are_bounded_and_retry_after_capped() {
        let p = policy();
        assert_eq!(p.decide(1, false, None, 0.5), RetryDecision::GiveUp);
        assert_eq!(p.decide(3, true, None, 0.5), RetryDecision::GiveUp);
        assert_eq!(
            p.decide(1, true, Some(Duration::from_secs(1)), 0.0),
            RetryDecision::Retry(Duration::from_secs(1))
        );
        assert_eq!(
            p.decide(1, true, Some(Duration::from_secs(3600)), 0.0),
            RetryDecision::Retry(Duration::from_secs(2))
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
