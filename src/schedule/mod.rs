//! When each site is crawled: schedules, jitter, missed runs and failure backoff.
//!
//! The planning here does no I/O and never reads the clock: every function takes the
//! times it needs, so the rules are tested with fixed times. [`store`] keeps the run
//! history in the crawl state file; `gazette schedule` (the service loop in the CLI)
//! feeds the clock and runs the passes.
//!
//! A site's `schedule` is either
//! - a 5-field cron expression, `minute hour day-of-month month day-of-week`
//!   (`0 */6 * * *`: lists `1,15`, ranges `1-5`, steps `*/10` / `8-18/2`, `*`, month and
//!   weekday names `jan` / `mon`, weekday `7` = Sunday, and `@hourly`, `@daily`,
//!   `@weekly`, `@monthly`, `@yearly`), read in the site's timezone; or
//! - an interval, `30s`, `15m`, `6h`, `1d`, `1w` or a sum like `1h30m`, measured from the
//!   start of the previous pass.
//!
//! The rules:
//! - **Missed runs run once.** When the service was down over one or more slots, the site
//!   runs once at start-up, not once per missed slot. A site that never ran, or whose last
//!   pass was interrupted, also runs at start-up.
//! - **No catch-up after a long pass.** A pass that outlasts its slot is not followed by
//!   an immediate second pass: the next run is the first slot after the pass finished.
//! - **Failure backoff.** After `n >= 2` failed passes in a row the wait is the schedule's
//!   period times `2^(n-1)`, capped (by default at a day, never below the period); one
//!   success resets it.
//! - **Jitter.** Every start is delayed by a random amount up to
//!   `min(jitter_fraction × period, jitter_max)` so that many sites with the same
//!   schedule do not start in the same second.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{
    DateTime, Datelike, Days, FixedOffset, Months, NaiveDate, NaiveDateTime, Offset, TimeDelta,
    Timelike, Utc,
};
use serde::{Deserialize, Serialize};

pub mod store;

/// The schedule of sites whose config names none.
pub const DEFAULT_SCHEDULE: &str = "6h";
/// Default upper bound of the start jitter.
pub const DEFAULT_JITTER_MAX: Duration = Duration::from_secs(60);
/// Default jitter as a fraction of the schedule's period.
pub const DEFAULT_JITTER_FRACTION: f64 = 0.1;
/// Default cap of the failure backoff.
pub const DEFAULT_BACKOFF_MAX: Duration = Duration::from_secs(24 * 3600);
/// Default number of days without a new article after which `status` flags a site.
pub const DEFAULT_STALE_AFTER_DAYS: u32 = 30;
/// Default time running passes get to finish after SIGTERM.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// A schedule that cannot be used, with what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScheduleError {
    #[error("schedule {text:?}: {message} (expected a cron expression like \"0 */6 * * *\" or an interval like \"6h\")")]
    Invalid { text: String, message: String },
    #[error("{key}: {message}")]
    Setting { key: String, message: String },
}

fn invalid(text: &str, message: impl Into<String>) -> ScheduleError {
    ScheduleError::Invalid {
        text: text.to_string(),
        message: message.into(),
    }
}

/// When a site is crawled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Cron(Cron),
    Every(Duration),
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Cron(c) => f.write_str(&c.source),
            Schedule::Every(d) => f.write_str(&format_duration(*d)),
        }
    }
}

impl Schedule {
    /// Parses a cron expression or an interval.
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(invalid(text, "it is empty"));
        }
        let looks_like_interval = trimmed.split_whitespace().count() == 1
            && !trimmed.starts_with('@')
            && trimmed.ends_with(|c: char| c.is_ascii_alphabetic());
        if looks_like_interval {
            let every = parse_duration(trimmed).map_err(|m| invalid(text, m))?;
            if every < Duration::from_secs(1) {
                return Err(invalid(text, "the interval must be at least 1s"));
            }
            return Ok(Schedule::Every(every));
        }
        Cron::parse(trimmed).map(Schedule::Cron)
    }

    /// The first slot strictly after `after` (cron), or `after + interval`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: FixedOffset) -> DateTime<Utc> {
        match self {
            Schedule::Every(d) => after + delta(*d),
            // Parsing guarantees a match within the search window; the fallback only keeps
            // the function total.
            Schedule::Cron(c) => c
                .next_after(after, tz)
                .unwrap_or(after + TimeDelta::days(366)),
        }
    }

    /// The usual gap between two runs near `at` (for jitter and backoff).
    pub fn period(&self, at: DateTime<Utc>, tz: FixedOffset) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(_) => {
                let first = self.next_after(at, tz);
                let second = self.next_after(first, tz);
                (second - first).to_std().unwrap_or(Duration::from_secs(60))
            }
        }
    }
}

/// A parsed 5-field cron expression. Each field is a bit set of the values it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    source: String,
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    /// Bit 0 = Sunday.
    days_of_week: u64,
    /// Vixie cron rule: when both day fields are restricted (neither starts with `*`), a
    /// day matches if *either* matches.
    dom_restricted: bool,
    dow_restricted: bool,
}

const MONTH_NAMES: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAY_NAMES: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const FIELDS: [FieldSpec; 5] = [
    FieldSpec {
        name: "minute",
        min: 0,
        max: 59,
        names: &[],
    },
    FieldSpec {
        name: "hour",
        min: 0,
        max: 23,
        names: &[],
    },
    FieldSpec {
        name: "day of month",
        min: 1,
        max: 31,
        names: &[],
    },
    FieldSpec {
        name: "month",
        min: 1,
        max: 12,
        names: &MONTH_NAMES,
    },
    // 7 is accepted as Sunday and folded onto 0 afterwards.
    FieldSpec {
        name: "day of week",
        min: 0,
        max: 7,
        names: &WEEKDAY_NAMES,
    },
];

/// How far ahead a cron expression is searched: long enough for 29 February, even across
/// a century year that is not a leap year.
const CRON_SEARCH_YEARS: i32 = 9;

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, ScheduleError> {
        let expanded = match text.trim().to_ascii_lowercase().as_str() {
            "@hourly" => "0 * * * *".to_string(),
            "@daily" | "@midnight" => "0 0 * * *".to_string(),
            "@weekly" => "0 0 * * 0".to_string(),
            "@monthly" => "0 0 1 * *".to_string(),
            "@yearly" | "@annually" => "0 0 1 1 *".to_string(),
            other if other.starts_with('@') => {
                return Err(invalid(
                    text,
                    "unknown shortcut (use @hourly, @daily, @weekly, @monthly or @yearly)",
                ))
            }
            _ => text.trim().to_string(),
        };
        let parts: Vec<&str> = expanded.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(invalid(
                text,
                format!(
                    "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has {}",
                    parts.len()
                ),
            ));
        }
        let mut sets = [0u64; 5];
        for (i, (part, spec)) in parts.iter().zip(FIELDS.iter()).enumerate() {
            sets[i] = parse_field(part, spec).map_err(|m| invalid(text, m))?;
        }
        let mut days_of_week = sets[4];
        if days_of_week & (1 << 7) != 0 {
            days_of_week = (days_of_week & !(1 << 7)) | 1;
        }
        let cron = Cron {
            source: text.trim().to_string(),
            minutes: sets[0],
            hours: sets[1],
            days_of_month: sets[2],
            months: sets[3],
            days_of_week,
            dom_restricted: !parts[2].starts_with('*'),
            dow_restricted: !parts[4].starts_with('*'),
        };
        // `0 0 31 2 *` would never run: say so now rather than sleep forever.
        let probe = DateTime::<Utc>::from_timestamp(946_684_800, 0).unwrap_or_default();
        if cron.next_after(probe, Utc.fix()).is_none() {
            return Err(invalid(text, "no date ever matches it"));
        }
        Ok(cron)
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        let dom = self.days_of_month & (1 << date.day()) != 0;
        let dow = self.days_of_week & (1 << date.weekday().num_days_from_sunday()) != 0;
        match (self.dom_restricted, self.dow_restricted) {
            (true, true) => dom || dow,
            (true, false) => dom,
            (false, true) => dow,
            (false, false) => true,
        }
    }

    /// The first matching minute strictly after `after`, read in `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: FixedOffset) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&tz).naive_local();
        let start = local.with_second(0)?.with_nanosecond(0)? + TimeDelta::minutes(1);
        let last_year = start.year() + CRON_SEARCH_YEARS;
        let mut t = start;
        while t.year() <= last_year {
            if self.months & (1 << t.month()) == 0 {
                // First day of the next month.
                let first = NaiveDate::from_ymd_opt(t.year(), t.month(), 1)?;
                t = (first.checked_add_months(Months::new(1))?).and_hms_opt(0, 0, 0)?;
                continue;
            }
            if !self.day_matches(t.date()) {
                t = t
                    .date()
                    .checked_add_days(Days::new(1))?
                    .and_hms_opt(0, 0, 0)?;
                continue;
            }
            if self.hours & (1 << t.hour()) == 0 {
                t = t.with_minute(0)? + TimeDelta::hours(1);
                continue;
            }
            match next_bit_from(self.minutes, t.minute()) {
                Some(minute) => return to_utc(t.with_minute(minute)?, tz),
                None => t = t.with_minute(0)? + TimeDelta::hours(1),
            }
        }
        None
    }
}

fn to_utc(local: NaiveDateTime, tz: FixedOffset) -> Option<DateTime<Utc>> {
    local
        .and_local_timezone(tz)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The lowest set bit at or above `from`.
fn next_bit_from(set: u64, from: u32) -> Option<u32> {
    if from >= 64 {
        return None;
    }
    let masked = set & (!0u64 << from);
    (masked != 0).then(|| masked.trailing_zeros())
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<u64, String> {
    let mut set = 0u64;
    for item in text.split(',') {
        if item.is_empty() {
            return Err(format!("the {} field has an empty list item", spec.name));
        }
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => {
                let step: u32 = s
                    .parse()
                    .map_err(|_| format!("the {} field has a bad step {s:?}", spec.name))?;
                if step == 0 {
                    return Err(format!("the {} field has a step of 0", spec.name));
                }
                (r, Some(step))
            }
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (spec.min, spec.max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, spec)?, value(b, spec)?)
        } else {
            let v = value(range, spec)?;
            // `5/15` means "from 5 to the end, every 15" (as in Vixie cron).
            (v, if step.is_some() { spec.max } else { v })
        };
        if low > high {
            return Err(format!(
                "the {} field has a backwards range {range:?}",
                spec.name
            ));
        }
        let mut v = low;
        while v <= high {
            set |= 1 << v;
            v += step.unwrap_or(1);
        }
    }
    Ok(set)
}

fn value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    let v = match spec.names.iter().position(|n| *n == lower) {
        // Month names count from 1, weekday names from 0 (Sunday).
        Some(i) => i as u32 + spec.min,
        None => text.parse::<u32>().map_err(|_| {
            format!(
                "the {} field has {text:?}, which is not a number",
                spec.name
            )
        })?,
    };
    if v < spec.min || v > spec.max {
        return Err(format!(
            "the {} field has {v}, outside {}-{}",
            spec.name, spec.min, spec.max
        ));
    }
    Ok(v)
}

/// Parses `30s`, `15m`, `6h`, `1d`, `1w`, `500ms` and sums such as `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the duration is empty".into());
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!("{t:?} is not a duration like 30s, 15m, 6h or 1d"));
        }
        let number: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("{t:?}: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let piece = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" | "min" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            "d" => Duration::from_secs(number.saturating_mul(86_400)),
            "w" => Duration::from_secs(number.saturating_mul(7 * 86_400)),
            "" => {
                return Err(format!(
                    "{t:?}: the number {number} has no unit (s, m, h, d)"
                ))
            }
            other => {
                return Err(format!(
                    "{t:?}: unknown unit {other:?} (use s, m, h, d or w)"
                ))
            }
        };
        total = total.saturating_add(piece);
    }
    Ok(total)
}

/// Formats a duration the way [`parse_duration`] reads it (`1h30m`, `45s`).
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::days(365 * 100))
}

/// The `[scheduler]` table of the config file, as written. Every key is optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Upper bound of the random start delay (`"60s"`; `"0s"` turns jitter off).
    pub jitter_max: Option<String>,
    /// Random start delay as a fraction of the schedule's period (0.1).
    pub jitter_fraction: Option<f64>,
    /// Longest wait after repeated failures (`"24h"`).
    pub backoff_max: Option<String>,
    /// `gazette status` flags a site with no new article for this many days (30).
    pub stale_after_days: Option<u32>,
    /// How long running passes get to finish after SIGTERM (`"30s"`).
    pub shutdown_grace: Option<String>,
}

/// The resolved scheduler settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SchedulerSettings {
    pub jitter: Jitter,
    pub backoff_max: Duration,
    pub stale_after_days: u32,
    pub shutdown_grace: Duration,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        SchedulerSettings {
            jitter: Jitter::default(),
            backoff_max: DEFAULT_BACKOFF_MAX,
            stale_after_days: DEFAULT_STALE_AFTER_DAYS,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

impl SchedulerConfig {
    pub fn resolve(&self) -> Result<SchedulerSettings, ScheduleError> {
        let duration = |key: &str, v: &Option<String>, default: Duration| match v {
            Some(text) => parse_duration(text).map_err(|message| ScheduleError::Setting {
                key: format!("scheduler.{key}"),
                message,
            }),
            None => Ok(default),
        };
        let fraction = self.jitter_fraction.unwrap_or(DEFAULT_JITTER_FRACTION);
        if !(0.0..=1.0).contains(&fraction) {
            return Err(ScheduleError::Setting {
                key: "scheduler.jitter_fraction".into(),
                message: format!("{fraction} is not between 0 and 1"),
            });
        }
        Ok(SchedulerSettings {
            jitter: Jitter {
                max: duration("jitter_max", &self.jitter_max, DEFAULT_JITTER_MAX)?,
                fraction,
            },
            backoff_max: duration("backoff_max", &self.backoff_max, DEFAULT_BACKOFF_MAX)?,
            stale_after_days: self.stale_after_days.unwrap_or(DEFAULT_STALE_AFTER_DAYS),
            shutdown_grace: duration(
                "shutdown_grace",
                &self.shutdown_grace,
                DEFAULT_SHUTDOWN_GRACE,
            )?,
        })
    }
}

/// A bounded random delay added to every start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    pub max: Duration,
    pub fraction: f64,
}

impl Default for Jitter {
    fn default() -> Self {
        Jitter {
            max: DEFAULT_JITTER_MAX,
            fraction: DEFAULT_JITTER_FRACTION,
        }
    }
}

impl Jitter {
    /// No jitter at all (tests, or one site alone).
    pub const NONE: Jitter = Jitter {
        max: Duration::ZERO,
        fraction: 0.0,
    };

    /// The largest delay for a schedule of this period.
    pub fn bound(&self, period: Duration) -> Duration {
        period.mul_f64(self.fraction.clamp(0.0, 1.0)).min(self.max)
    }

    /// A delay in `[0, bound(period)]`.
    pub fn sample(&self, period: Duration, rng: &mut fastrand::Rng) -> Duration {
        let bound = self.bound(period).as_millis() as u64;
        Duration::from_millis(if bound == 0 { 0 } else { rng.u64(0..=bound) })
    }
}

/// The wait before retrying a site that failed `failures` passes in a row: the period
/// for 0 or 1 failures, then doubling, capped at `max(cap, period)`.
pub fn backoff_wait(period: Duration, failures: u32, cap: Duration) -> Duration {
    if failures <= 1 {
        return period;
    }
    let factor = 1u32 << (failures - 1).min(20);
    period.saturating_mul(factor).min(cap.max(period))
}

/// The run history of a site that the schedule depends on (persisted in the crawl state).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunRecord {
    pub last_start: Option<DateTime<Utc>>,
    pub last_finish: Option<DateTime<Utc>>,
    /// Failed passes in a row since the last success.
    pub consecutive_failures: u32,
}

/// Why a site runs when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The site has no recorded pass.
    NeverRun,
    /// The last pass started but never finished (killed, crashed).
    Interrupted,
    /// One or more slots passed while the service was down: run once now.
    Missed,
    /// The regular next slot.
    OnTime,
    /// Later than usual because the last passes failed.
    Backoff,
}

/// The next start of a site, before jitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    pub at: DateTime<Utc>,
    pub reason: Reason,
}

/// One site's schedule in its timezone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteSchedule {
    pub schedule: Schedule,
    pub timezone: FixedOffset,
}

impl SiteSchedule {
    pub fn new(schedule: Schedule, timezone: FixedOffset) -> Self {
        SiteSchedule { schedule, timezone }
    }

    /// The schedule of a configured site: its own `schedule`, else `default`, else
    /// [`DEFAULT_SCHEDULE`].
    pub fn for_site(
        own: Option<&str>,
        default: Option<&str>,
        timezone: FixedOffset,
    ) -> Result<Self, ScheduleError> {
        let text = own.or(default).unwrap_or(DEFAULT_SCHEDULE);
        Ok(SiteSchedule::new(Schedule::parse(text)?, timezone))
    }

    pub fn period(&self, at: DateTime<Utc>) -> Duration {
        self.schedule.period(at, self.timezone)
    }

    fn next_after(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        self.schedule.next_after(t, self.timezone)
    }

    /// When to run after a pass that ran from `start` to `finish`, given the failures in a
    /// row including that pass.
    pub fn after_pass(
        &self,
        start: DateTime<Utc>,
        finish: DateTime<Utc>,
        failures: u32,
        backoff_max: Duration,
    ) -> Planned {
        let finish = finish.max(start);
        let regular = match &self.schedule {
            // Keep the cadence of the starts, skipping slots the pass itself overran.
            Schedule::Every(d) => {
                let step = delta(*d).max(TimeDelta::seconds(1));
                let mut next = start + step;
                if next <= finish {
                    let behind =
                        (finish - start).num_milliseconds() / step.num_milliseconds().max(1);
                    next = start + step * (behind as i32 + 1);
                    if next <= finish {
                        next += step;
                    }
                }
                next
            }
            Schedule::Cron(_) => self.next_after(finish),
        };
        if failures >= 2 {
            let period = self.period(start);
            let wait = backoff_wait(period, failures, backoff_max);
            let earliest = finish + delta(wait);
            let backed_off = match &self.schedule {
                Schedule::Every(_) => earliest,
                // The first slot at or after `earliest`.
                Schedule::Cron(_) => self.next_after(earliest - TimeDelta::seconds(1)),
            };
            if backed_off > regular {
                return Planned {
                    at: backed_off,
                    reason: Reason::Backoff,
                };
            }
        }
        Planned {
            at: regular,
            reason: Reason::OnTime,
        }
    }

    /// When to run a site when the service starts at `now`.
    pub fn at_startup(
        &self,
        record: &RunRecord,
        now: DateTime<Utc>,
        backoff_max: Duration,
    ) -> Planned {
        let Some(start) = record.last_start else {
            return Planned {
                at: now,
                reason: Reason::NeverRun,
            };
        };
        let finish = match record.last_finish {
            Some(f) if f >= start => f,
            _ => {
                return Planned {
                    at: now,
                    reason: Reason::Interrupted,
                }
            }
        };
        let planned = self.after_pass(start, finish, record.consecutive_failures, backoff_max);
        if planned.at <= now {
            Planned {
                at: now,
                reason: Reason::Missed,
            }
        } else {
            planned
        }
    }
}

/// The scheduler's view of one site.
#[derive(Debug, Clone)]
pub struct Entry {
    pub schedule: SiteSchedule,
    pub record: RunRecord,
    /// When it runs next, jitter included; meaningless while `running`.
    pub next: DateTime<Utc>,
    pub reason: Reason,
    pub running: bool,
    /// Removed from the config while a pass was running: dropped when it finishes.
    pub retired: bool,
}

/// The timetable of all sites: which are due, when to wake up, what follows a pass.
/// Pure bookkeeping; the service loop does the sleeping and the crawling.
#[derive(Debug)]
pub struct Timetable {
    settings: SchedulerSettings,
    rng: fastrand::Rng,
    entries: BTreeMap<String, Entry>,
}

impl Timetable {
    pub fn new(settings: SchedulerSettings, rng: fastrand::Rng) -> Self {
        Timetable {
            settings,
            rng,
            entries: BTreeMap::new(),
        }
    }

    pub fn settings(&self) -> &SchedulerSettings {
        &self.settings
    }

    /// Replaces the settings (config reload); planned times are kept.
    pub fn set_settings(&mut self, settings: SchedulerSettings) {
        self.settings = settings;
    }

    fn jittered(&mut self, schedule: &SiteSchedule, planned: Planned) -> DateTime<Utc> {
        let period = schedule.period(planned.at);
        planned.at + delta(self.settings.jitter.sample(period, &mut self.rng))
    }

    /// Adds a site, or updates it after a config reload. A new site is planned from its
    /// record (see [`SiteSchedule::at_startup`]); an existing one keeps its record and is
    /// re-planned only if its schedule changed.
    pub fn upsert(
        &mut self,
        name: &str,
        schedule: SiteSchedule,
        record: RunRecord,
        now: DateTime<Utc>,
    ) {
        if let Some(entry) = self.entries.get_mut(name) {
            entry.retired = false;
            if entry.schedule == schedule {
                return;
            }
            entry.schedule = schedule.clone();
            if entry.running {
                return;
            }
            let record = entry.record.clone();
            let planned = schedule.at_startup(&record, now, self.settings.backoff_max);
            let next = self.jittered(&schedule, planned);
            if let Some(entry) = self.entries.get_mut(name) {
                entry.next = next;
                entry.reason = planned.reason;
            }
            return;
        }
        let planned = schedule.at_startup(&record, now, self.settings.backoff_max);
        let next = self.jittered(&schedule, planned);
        self.entries.insert(
            name.to_string(),
            Entry {
                schedule,
                record,
                next,
                reason: planned.reason,
                running: false,
                retired: false,
            },
        );
    }

    /// Drops every site not in `keep` (config reload). Running ones are dropped when
    /// their pass finishes.
    pub fn retain(&mut self, keep: &[&str]) {
        self.entries.retain(|name, entry| {
            if keep.contains(&name.as_str()) {
                return true;
            }
            entry.retired = true;
            entry.running
        });
    }

    /// The sites due at `now`, earliest first; they are marked running.
    pub fn take_due(&mut self, now: DateTime<Utc>) -> Vec<String> {
        let mut due: Vec<(DateTime<Utc>, String)> = self
            .entries
            .iter()
            .filter(|(_, e)| !e.running && !e.retired && e.next <= now)
            .map(|(name, e)| (e.next, name.clone()))
            .collect();
        due.sort();
        for (_, name) in &due {
            if let Some(entry) = self.entries.get_mut(name) {
                entry.running = true;
                entry.record.last_start = Some(now);
            }
        }
        due.into_iter().map(|(_, name)| name).collect()
    }

    /// The earliest planned start among idle sites.
    pub fn next_wakeup(&self) -> Option<DateTime<Utc>> {
        self.entries
            .values()
            .filter(|e| !e.running && !e.retired)
            .map(|e| e.next)
            .min()
    }

    /// Records the end of a pass and plans the next one; returns the updated entry.
    pub fn finish(
        &mut self,
        name: &str,
        start: DateTime<Utc>,
        finish: DateTime<Utc>,
        succeeded: bool,
    ) -> Option<&Entry> {
        let backoff_max = self.settings.backoff_max;
        let entry = self.entries.get_mut(name)?;
        if entry.retired {
            self.entries.remove(name);
            return None;
        }
        entry.running = false;
        entry.record.last_start = Some(start);
        entry.record.last_finish = Some(finish);
        entry.record.consecutive_failures = if succeeded {
            0
        } else {
            entry.record.consecutive_failures.saturating_add(1)
        };
        let schedule = entry.schedule.clone();
        let planned = schedule.after_pass(
            start,
            finish,
            entry.record.consecutive_failures,
            backoff_max,
        );
        let next = self.jittered(&schedule, planned);
        let entry = self.entries.get_mut(name)?;
        entry.next = next;
        entry.reason = planned.reason;
        Some(entry)
    }

    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.entries.get(name)
    }

    pub fn entries(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }

    pub fn running_count(&self) -> usize {
        self.entries.values().filter(|e| e.running).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn cron(text: &str) -> Schedule {
        Schedule::parse(text).unwrap()
    }

    fn next(text: &str, after: &str) -> String {
        cron(text)
            .next_after(utc(after), cst())
            .with_timezone(&cst())
            .to_rfc3339()
    }

    #[test]
    fn intervals_parse() {
        assert_eq!(
            Schedule::parse("30s").unwrap(),
            Schedule::Every(Duration::from_secs(30))
        );
        assert_eq!(
            Schedule::parse(" 15m ").unwrap(),
            Schedule::Every(Duration::from_secs(900))
        );
        assert_eq!(
            Schedule::parse("6h").unwrap(),
            Schedule::Every(Duration::from_secs(21_600))
        );
        assert_eq!(
            Schedule::parse("1d").unwrap(),
            Schedule::Every(Duration::from_secs(86_400))
        );
        assert_eq!(
            Schedule::parse("1h30m").unwrap(),
            Schedule::Every(Duration::from_secs(5400))
        );
        assert_eq!(Schedule::parse("1h30m").unwrap().to_string(), "1h30m");
        for bad in ["", "6", "6x", "h", "0s", "500ms", "-5m"] {
            assert!(Schedule::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let message = Schedule::parse("6x").unwrap_err().to_string();
        assert!(
            message.contains("unknown unit") && message.contains("6h"),
            "{message}"
        );
    }

    #[test]
    fn cron_fields_parse_with_lists_ranges_steps_and_names() {
        let Schedule::Cron(c) = cron("0,30 8-18/2 */10 jan,JUL mon-fri") else {
            panic!("not cron")
        };
        assert_eq!(c.minutes, 1 | 1 << 30);
        assert_eq!(
            c.hours,
            (1 << 8) | (1 << 10) | (1 << 12) | (1 << 14) | (1 << 16) | (1 << 18)
        );
        assert_eq!(
            c.days_of_month,
            (1 << 1) | (1 << 11) | (1 << 21) | (1 << 31)
        );
        assert_eq!(c.months, (1 << 1) | (1 << 7));
        assert_eq!(c.days_of_week, 0b0111110);
        let Schedule::Cron(sunday) = cron("0 0 * * 7") else {
            panic!()
        };
        assert_eq!(sunday.days_of_week, 1);
        let Schedule::Cron(from5) = cron("5/20 * * * *") else {
            panic!()
        };
        assert_eq!(from5.minutes, (1 << 5) | (1 << 25) | (1 << 45));
    }

    #[test]
    fn bad_cron_expressions_say_what_is_wrong() {
        for (text, needle) in [
            ("0 */6 * *", "5 fields"),
            ("60 * * * *", "minute field has 60"),
            ("* 24 * * *", "hour field has 24"),
            ("* * 0 * *", "day of month field has 0"),
            ("* * * 13 *", "month"),
            ("* * * * 8", "day of week"),
            ("*/0 * * * *", "step of 0"),
            ("5-1 * * * *", "backwards"),
            ("a * * * *", "not a number"),
            ("0 0 31 2 *", "no date ever matches"),
            ("@often", "unknown shortcut"),
        ] {
            let message = Schedule::parse(text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }

    #[test]
    fn cron_next_runs_in_the_site_timezone() {
        // 02:30 UTC = 10:30 +08:00: the next 6-hourly slot is 12:00 local.
        assert_eq!(
            next("0 */6 * * *", "2026-11-29T02:30:00Z"),
            "2026-11-29T12:00:00+08:00"
        );
        // Strictly after: a time on a slot gives the following slot.
        assert_eq!(
            next("0 */6 * * *", "2026-11-29T04:00:00Z"),
            "2026-11-29T18:00:00+08:00"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-29T02:44:59Z"),
            "2026-11-29T10:45:00+08:00"
        );
        // Daily at 03:00 local rolls over the day and the month.
        assert_eq!(
            next("0 3 * * *", "2026-11-30T20:00:00Z"),
            "2026-12-02T03:00:00+08:00"
        );
        // Year rollover.
        assert_eq!(
            next("0 0 1 1 *", "2026-06-01T00:00:00Z"),
            "2027-01-01T00:00:00+08:00"
        );
        // Weekdays: 2026-11-29 is a Sunday.
        assert_eq!(
            next("30 9 * * mon", "2026-11-29T00:00:00Z"),
            "2026-11-30T09:30:00+08:00"
        );
        // Both day fields restricted: either matches (the 1st, or any Friday).
        assert_eq!(
            next("0 0 1 * fri", "2026-11-29T00:00:00Z"),
            "2026-12-01T00:00:00+08:00"
        );
        assert_eq!(
            next("0 0 1 * fri", "2026-11-30T17:00:00Z"),
            "2026-12-04T00:00:00+08:00"
        );
        // 29 February.
        assert_eq!(
            next("0 0 29 2 *", "2026-03-01T00:00:00Z"),
            "2028-02-29T00:00:00+08:00"
        );
        assert_eq!(
            next("@hourly", "2026-11-29T02:00:00Z"),
            "2026-11-29T11:00:00+08:00"
        );
    }

    #[test]
    fn periods_are_the_gap_between_slots() {
        let at = utc("2026-11-29T02:30:00Z");
        assert_eq!(
            cron("0 */6 * * *").period(at, cst()),
            Duration::from_secs(6 * 3600)
        );
        assert_eq!(cron("15m").period(at, cst()), Duration::from_secs(900));
    }

    #[test]
    fn jitter_is_bounded_by_fraction_and_cap() {
        let jitter = Jitter::default();
        assert_eq!(
            jitter.bound(Duration::from_secs(6 * 3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            jitter.bound(Duration::from_secs(120)),
            Duration::from_secs(12)
        );
        assert_eq!(
            jitter.bound(Duration::from_secs(2)),
            Duration::from_millis(200)
        );
        let mut rng = fastrand::Rng::with_seed(7);
        let samples: Vec<Duration> = (0..500)
            .map(|_| jitter.sample(Duration::from_secs(120), &mut rng))
            .collect();
        assert!(samples.iter().all(|s| *s <= Duration::from_secs(12)));
        assert!(
            samples.iter().any(|s| *s > Duration::from_secs(6)),
            "jitter is spread out"
        );
        assert_eq!(
            Jitter::NONE.sample(Duration::from_secs(3600), &mut rng),
            Duration::ZERO
        );
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_never_below_the_period() {
        let hour = Duration::from_secs(3600);
        let cap = Duration::from_secs(5 * 3600);
        assert_eq!(backoff_wait(hour, 0, cap), hour);
        assert_eq!(backoff_wait(hour, 1, cap), hour);
        assert_eq!(backoff_wait(hour, 2, cap), 2 * hour);
        assert_eq!(backoff_wait(hour, 3, cap), 4 * hour);
        assert_eq!(backoff_wait(hour, 4, cap), cap);
        assert_eq!(backoff_wait(hour, 40, cap), cap);
        assert_eq!(backoff_wait(10 * hour, 3, cap), 10 * hour);
    }

    fn every(secs: u64) -> SiteSchedule {
        SiteSchedule::new(Schedule::Every(Duration::from_secs(secs)), cst())
    }

    #[test]
    fn intervals_keep_the_start_cadence_and_skip_overrun_slots() {
        let site = every(60);
        let start = utc("2026-11-29T02:00:00Z");
        let quick = site.after_pass(start, utc("2026-11-29T02:00:10Z"), 0, DEFAULT_BACKOFF_MAX);
        assert_eq!(quick.at, utc("2026-11-29T02:01:00Z"));
        assert_eq!(quick.reason, Reason::OnTime);
        // A 150 s pass overran two slots: the next is the first slot after it finished.
        let slow = site.after_pass(start, utc("2026-11-29T02:02:30Z"), 0, DEFAULT_BACKOFF_MAX);
        assert_eq!(slow.at, utc("2026-11-29T02:03:00Z"));
        // Finishing exactly on a slot does not start again in the same instant.
        let exact = site.after_pass(start, utc("2026-11-29T02:02:00Z"), 0, DEFAULT_BACKOFF_MAX);
        assert_eq!(exact.at, utc("2026-11-29T02:03:00Z"));
    }

    #[test]
    fn repeated_failures_back_off_and_success_resets() {
        let site = every(60);
        let start = utc("2026-11-29T02:00:00Z");
        let finish = utc("2026-11-29T02:00:05Z");
        let cap = Duration::from_secs(600);
        assert_eq!(
            site.after_pass(start, finish, 1, cap).at,
            utc("2026-11-29T02:01:00Z")
        );
        let two = site.after_pass(start, finish, 2, cap);
        assert_eq!(
            (two.at, two.reason),
            (utc("2026-11-29T02:02:05Z"), Reason::Backoff)
        );
        assert_eq!(
            site.after_pass(start, finish, 3, cap).at,
            utc("2026-11-29T02:04:05Z")
        );
        assert_eq!(
            site.after_pass(start, finish, 9, cap).at,
            utc("2026-11-29T02:10:05Z")
        );

        // The timetable counts failures and resets them on success.
        let mut table = Timetable::new(
            SchedulerSettings {
                jitter: Jitter::NONE,
                backoff_max: cap,
                ..SchedulerSettings::default()
            },
            fastrand::Rng::with_seed(1),
        );
        table.upsert("a", site, RunRecord::default(), start);
        let mut now = start;
        for expected_failures in 1..=3 {
            assert_eq!(table.take_due(now), vec!["a".to_string()]);
            let entry = table.finish("a", now, now, false).unwrap();
            assert_eq!(entry.record.consecutive_failures, expected_failures);
            now = entry.next;
        }
        assert_eq!(now, start + TimeDelta::seconds(60 + 120 + 240));
        assert_eq!(table.take_due(now), vec!["a".to_string()]);
        let entry = table.finish("a", now, now, true).unwrap();
        assert_eq!(entry.record.consecutive_failures, 0);
        assert_eq!(entry.next, now + TimeDelta::seconds(60));
    }

    #[test]
    fn cron_backoff_lands_on_a_slot() {
        let site = SiteSchedule::new(cron("0 * * * *"), cst());
        let start = utc("2026-11-29T02:00:00Z");
        let finish = utc("2026-11-29T02:10:00Z");
        let planned = site.after_pass(start, finish, 3, DEFAULT_BACKOFF_MAX);
        // Four hours after the failure, rounded up to the next full hour.
        assert_eq!(planned.at, utc("2026-11-29T07:00:00Z"));
        assert_eq!(planned.reason, Reason::Backoff);
    }

    #[test]
    fn startup_runs_missed_and_interrupted_passes_once() {
        let site = every(3600);
        let cap = DEFAULT_BACKOFF_MAX;
        let now = utc("2026-11-29T12:00:00Z");
        assert_eq!(
            site.at_startup(&RunRecord::default(), now, cap).reason,
            Reason::NeverRun
        );
        // Down for five hours over a 1-hour schedule: one run now, not five.
        let record = RunRecord {
            last_start: Some(utc("2026-11-29T07:00:00Z")),
            last_finish: Some(utc("2026-11-29T07:05:00Z")),
            consecutive_failures: 0,
        };
        let planned = site.at_startup(&record, now, cap);
        assert_eq!((planned.at, planned.reason), (now, Reason::Missed));
        let mut table = Timetable::new(
            SchedulerSettings {
                jitter: Jitter::NONE,
                ..SchedulerSettings::default()
            },
            fastrand::Rng::with_seed(1),
        );
        table.upsert("a", site.clone(), record, now);
        assert_eq!(table.take_due(now), vec!["a".to_string()]);
        assert!(
            table.take_due(now).is_empty(),
            "a running site is never due twice"
        );
        let after = table
            .finish("a", now, now + TimeDelta::minutes(2), true)
            .unwrap();
        assert_eq!(after.next, utc("2026-11-29T13:00:00Z"));
        assert!(table.take_due(utc("2026-11-29T12:59:59Z")).is_empty());

        // Restarted before the next slot: wait for it.
        let recent = RunRecord {
            last_start: Some(utc("2026-11-29T11:30:00Z")),
            last_finish: Some(utc("2026-11-29T11:31:00Z")),
            consecutive_failures: 0,
        };
        let planned = site.at_startup(&recent, now, cap);
        assert_eq!(
            (planned.at, planned.reason),
            (utc("2026-11-29T12:30:00Z"), Reason::OnTime)
        );
        // Killed mid-pass: run again now.
        let killed = RunRecord {
            last_start: Some(utc("2026-11-29T11:30:00Z")),
            last_finish: Some(utc("2026-11-29T10:31:00Z")),
            consecutive_failures: 0,
        };
        assert_eq!(
            site.at_startup(&killed, now, cap).reason,
            Reason::Interrupted
        );
        // Still backing off after a restart.
        let failing = RunRecord {
            last_start: Some(utc("2026-11-29T11:30:00Z")),
            last_finish: Some(utc("2026-11-29T11:31:00Z")),
            consecutive_failures: 3,
        };
        let planned = site.at_startup(&failing, now, cap);
        assert_eq!(
            (planned.at, planned.reason),
            (utc("2026-11-29T15:31:00Z"), Reason::Backoff)
        );
    }

    #[test]
    fn timetable_wakes_for_the_earliest_idle_site_with_bounded_jitter() {
        let settings = SchedulerSettings::default();
        let mut table = Timetable::new(settings, fastrand::Rng::with_seed(3));
        let now = utc("2026-11-29T00:00:00Z");
        for name in ["a", "b", "c"] {
            table.upsert(name, every(600), RunRecord::default(), now);
        }
        let starts: Vec<DateTime<Utc>> = table.entries().map(|(_, e)| e.next).collect();
        assert!(starts
            .iter()
            .all(|t| *t >= now && *t <= now + TimeDelta::seconds(60)));
        assert_eq!(table.next_wakeup(), starts.iter().min().copied());
        let due = table.take_due(now + TimeDelta::seconds(60));
        assert_eq!(due.len(), 3);
        assert_eq!(table.next_wakeup(), None, "all running");
        assert_eq!(table.running_count(), 3);

        // A reload that drops a running site lets its pass finish, then forgets it.
        table.retain(&["a", "b"]);
        assert!(table.get("c").is_some());
        assert!(table.finish("c", now, now, true).is_none());
        assert!(table.get("c").is_none());

        // A reload that changes a schedule re-plans an idle site from its record.
        let finished = now + TimeDelta::seconds(70);
        table.finish("a", now, finished, true);
        table.upsert("a", every(60), RunRecord::default(), finished);
        let a = table.get("a").unwrap();
        // Slots every 60 s from the last start; the first one after the pass finished.
        assert!(a.next >= now + TimeDelta::seconds(120) && a.next <= now + TimeDelta::seconds(126));
        assert_eq!(
            a.record.last_finish,
            Some(finished),
            "the record survives a reload"
        );
    }

    #[test]
    fn settings_resolve_with_defaults_and_name_bad_keys() {
        let settings = SchedulerConfig::default().resolve().unwrap();
        assert_eq!(settings, SchedulerSettings::default());
        let raw: SchedulerConfig =
            toml::from_str("jitter_max = \"5s\"\nstale_after_days = 7\n").unwrap();
        let settings = raw.resolve().unwrap();
        assert_eq!(settings.jitter.max, Duration::from_secs(5));
        assert_eq!(settings.stale_after_days, 7);
        let err = SchedulerConfig {
            backoff_max: Some("soon".into()),
            ..SchedulerConfig::default()
        }
        .resolve()
        .unwrap_err()
        .to_string();
        assert!(err.contains("scheduler.backoff_max"), "{err}");
        assert!(toml::from_str::<SchedulerConfig>("jiter_max = \"1s\"").is_err());
    }

    #[test]
    fn site_schedule_falls_back_to_the_default() {
        let s = SiteSchedule::for_site(None, Some("2h"), cst()).unwrap();
        assert_eq!(s.schedule, Schedule::Every(Duration::from_secs(7200)));
        let s = SiteSchedule::for_site(None, None, cst()).unwrap();
        assert_eq!(s.schedule.to_string(), DEFAULT_SCHEDULE);
        let s = SiteSchedule::for_site(Some("@daily"), Some("2h"), cst()).unwrap();
        assert!(matches!(s.schedule, Schedule::Cron(_)));
    }
}
