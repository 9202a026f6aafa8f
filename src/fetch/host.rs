//! Per-host politeness shared by `gazette fetch` and `gazette crawl`.
//!
//! Every request first takes a slot on its host (at most `per_host_concurrency` at once),
//! then waits until the host's minimum delay since the previous request start has passed,
//! then takes a slot of the global bound. The timing decision ([`Pacer`]) is sans-IO: it
//! is given the clock reading and answers "start now" or "wait until", so it is tested
//! with paused tokio time.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// Politeness limits, resolved from the config.
#[derive(Debug, Clone)]
pub struct Politeness {
    /// Requests in flight across all hosts.
    pub global_concurrency: usize,
    /// Requests in flight to one host.
    pub per_host_concurrency: usize,
    /// Minimum time between the starts of two requests to one host.
    pub delay: Duration,
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness {
            global_concurrency: 16,
            per_host_concurrency: 2,
            delay: Duration::from_secs(1),
        }
    }
}

/// What identifies a host for politeness: scheme, lower-case host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostKey {
    pub scheme: String,
    pub host: String,
    pub port: u16,
}

impl HostKey {
    pub fn from_url(url: &Url) -> Option<Self> {
        Some(HostKey {
            scheme: url.scheme().to_ascii_lowercase(),
            host: url.host_str()?.to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// The origin URL (`http://host:port/`), e.g. to fetch `robots.txt` from.
    pub fn origin(&self) -> String {
        let default = matches!(
            (self.scheme.as_str(), self.port),
            ("http", 80) | ("https", 443)
        );
        if default {
            format!("{}://{}/", self.scheme, self.host)
        } else {
            format!("{}://{}:{}/", self.scheme, self.host, self.port)
        }
    }
}

impl fmt::Display for HostKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.origin().trim_end_matches('/'))
    }
}

/// The sans-IO timing core: when may the next request to one host start?
#[derive(Debug, Clone)]
pub struct Pacer {
    delay: Duration,
    last_start: Option<Instant>,
    paused_until: Option<Instant>,
}

impl Pacer {
    pub fn new(delay: Duration) -> Self {
        Pacer {
            delay,
            last_start: None,
            paused_until: None,
        }
    }

    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Raises the delay (robots `Crawl-delay`); never lowers it. Applies to the gap after
    /// the last request too.
    pub fn raise_delay(&mut self, delay: Duration) {
        self.delay = self.delay.max(delay);
    }

    /// The earliest start of the next request.
    pub fn earliest(&self) -> Option<Instant> {
        let after_last = self.last_start.map(|t| t + self.delay);
        match (after_last, self.paused_until) {
            (Some(a), Some(p)) => Some(a.max(p)),
            (a, p) => a.or(p),
        }
    }

    /// Starts a request at `now` if allowed (and books it), else says when.
    pub fn try_start(&mut self, now: Instant) -> Result<(), Instant> {
        match self.earliest() {
            Some(next) if now < next => Err(next),
            _ => {
                self.last_start = Some(now);
                Ok(())
            }
        }
    }

    /// Moves the booked start of the current request later (to when it really went out),
    /// so the next gap is measured from there.
    pub fn started_at(&mut self, at: Instant) {
        if self.last_start.map_or(true, |t| t < at) {
            self.last_start = Some(at);
        }
    }

    /// No request starts before `until` (a `Retry-After` on the host).
    pub fn pause_until(&mut self, until: Instant) {
        if self.paused_until.map_or(true, |p| p < until) {
            self.paused_until = Some(until);
        }
    }
}

struct HostSlot {
    permits: Arc<Semaphore>,
    pacer: Mutex<Pacer>,
    blocked: Mutex<Option<String>>,
}

/// Held while a request runs; dropping it frees the host and global slots.
pub struct HostPermit {
    slot: Arc<HostSlot>,
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl fmt::Debug for HostPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostPermit").finish_non_exhaustive()
    }
}

impl HostPermit {
    /// Call right before the request is sent: the host's next gap counts from now, even
    /// when this task was scheduled late after its slot was booked.
    pub fn sending(&self) {
        lock(&self.slot.pacer).started_at(Instant::now());
    }
}

/// The politeness state of every host of a run.
pub struct HostPool {
    defaults: Politeness,
    global: Arc<Semaphore>,
    hosts: Mutex<HashMap<HostKey, Arc<HostSlot>>>,
}

impl fmt::Debug for HostPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostPool")
            .field("defaults", &self.defaults)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl HostPool {
    pub fn new(defaults: Politeness) -> Self {
        HostPool {
            global: Arc::new(Semaphore::new(defaults.global_concurrency.max(1))),
            hosts: Mutex::new(HashMap::new()),
            defaults,
        }
    }

    fn slot_with(&self, key: &HostKey, concurrency: usize, delay: Duration) -> Arc<HostSlot> {
        lock(&self.hosts)
            .entry(key.clone())
            .or_insert_with(|| {
                Arc::new(HostSlot {
                    permits: Arc::new(Semaphore::new(concurrency.max(1))),
                    pacer: Mutex::new(Pacer::new(delay)),
                    blocked: Mutex::new(None),
                })
            })
            .clone()
    }

    fn slot(&self, key: &HostKey) -> Arc<HostSlot> {
        self.slot_with(key, self.defaults.per_host_concurrency, self.defaults.delay)
    }

    /// Sets a host's limits (a site's overrides) before its first request; later calls
    /// can only make the host gentler.
    pub fn configure(&self, key: &HostKey, concurrency: usize, delay: Duration) {
        let slot = self.slot_with(key, concurrency, delay);
        lock(&slot.pacer).raise_delay(delay);
    }

    /// Raises a host's delay (robots `Crawl-delay`).
    pub fn raise_delay(&self, key: &HostKey, delay: Duration) {
        lock(&self.slot(key).pacer).raise_delay(delay);
    }

    pub fn delay(&self, key: &HostKey) -> Duration {
        lock(&self.slot(key).pacer).delay()
    }

    /// Holds every request to the host until `until` (a `Retry-After`).
    pub fn pause_until(&self, key: &HostKey, until: Instant) {
        lock(&self.slot(key).pacer).pause_until(until);
    }

    /// Marks a host as blocked (anti-bot wall) for the rest of the run.
    pub fn block(&self, key: &HostKey, reason: &str) {
        let slot = self.slot(key);
        let mut blocked = lock(&slot.blocked);
        if blocked.is_none() {
            *blocked = Some(reason.to_string());
        }
    }

    pub fn blocked(&self, key: &HostKey) -> Option<String> {
        lock(&self.slot(key).blocked).clone()
    }

    /// Waits for a host slot, the host's delay and a global slot, in that order.
    pub async fn acquire(&self, key: &HostKey) -> HostPermit {
        let slot = self.slot(key);
        let host = slot
            .permits
            .clone()
            .acquire_owned()
            .await
            .expect("host semaphores are never closed");
        loop {
            let wait = lock(&slot.pacer).try_start(Instant::now()).err();
            // Waiting for the delay must not hold a global slot, but the booking must
            // happen while holding one, so the host's gap is measured from a real start.
            if let Some(until) = wait {
                tokio::time::sleep_until(until).await;
            }
            let global = self
                .global
                .clone()
                .acquire_owned()
                .await
                .expect("the global semaphore is never closed");
            if wait.is_none() || lock(&slot.pacer).try_start(Instant::now()).is_ok() {
                return HostPermit {
                    slot: slot.clone(),
                    _host: host,
                    _global: global,
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacer_spaces_starts_by_the_delay() {
        let t0 = Instant::now();
        let mut p = Pacer::new(Duration::from_millis(100));
        assert!(p.try_start(t0).is_ok());
        assert_eq!(
            p.try_start(t0 + Duration::from_millis(30)),
            Err(t0 + Duration::from_millis(100))
        );
        assert!(p.try_start(t0 + Duration::from_millis(100)).is_ok());
        p.raise_delay(Duration::from_millis(50));
        assert_eq!(p.delay(), Duration::from_millis(100));
        // A Crawl-delay learnt after a request applies to the gap after it.
        p.raise_delay(Duration::from_millis(200));
        assert_eq!(
            p.try_start(t0 + Duration::from_millis(150)),
            Err(t0 + Duration::from_millis(300))
        );
        p.started_at(t0 + Duration::from_millis(120));
        assert_eq!(p.earliest(), Some(t0 + Duration::from_millis(320)));
        p.pause_until(t0 + Duration::from_secs(5));
        assert_eq!(
            p.try_start(t0 + Duration::from_millis(350)),
            Err(t0 + Duration::from_secs(5))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn pool_limits_concurrency_and_gaps() {
        let pool = Arc::new(HostPool::new(Politeness {
            global_concurrency: 10,
            per_host_concurrency: 2,
            delay: Duration::from_millis(100),
        }));
        let key = HostKey::from_url(&Url::parse("http://a.gov.cn/").unwrap()).unwrap();
        let starts = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let max_in_flight = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..6 {
            let (pool, key, starts) = (pool.clone(), key.clone(), starts.clone());
            let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = pool.acquire(&key).await;
                use std::sync::atomic::Ordering::SeqCst;
                let now = in_flight.fetch_add(1, SeqCst) + 1;
                max_in_flight.fetch_max(now, SeqCst);
                lock(&starts).push(Instant::now() - t0);
                tokio::time::sleep(Duration::from_millis(500)).await;
                in_flight.fetch_sub(1, SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let starts = lock(&starts).clone();
        assert_eq!(max_in_flight.load(std::sync::atomic::Ordering::SeqCst), 2);
        for pair in starts.windows(2) {
            assert!(
                pair[1] - pair[0] >= Duration::from_millis(100),
                "{starts:?}"
            );
        }
    }

    #[test]
    fn host_keys_include_the_port() {
        let a = HostKey::from_url(&Url::parse("http://127.0.0.1:8001/x").unwrap()).unwrap();
        let b = HostKey::from_url(&Url::parse("http://127.0.0.1:8002/x").unwrap()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.origin(), "http://127.0.0.1:8001/");
        let c = HostKey::from_url(&Url::parse("https://WWW.Yaan.gov.cn/x").unwrap()).unwrap();
        assert_eq!(c.origin(), "https://www.yaan.gov.cn/");
    }
}
