//! The simulator's configuration: projects and keys, seed, pace, catalog size and the
//! fault knobs, with the validation the binary applies once at start-up.

use rand::Rng;
use runboard_shared::ProjectId;
use serde::{Deserialize, Serialize};

/// The slowest pace accepted (a run a thousand times slower than a real one).
pub const MIN_SPEED: f64 = 0.001;
/// The fastest pace accepted.
pub const MAX_SPEED: f64 = 1_000_000.0;
/// The largest catalog a project may have.
pub const MAX_TESTS_PER_PROJECT: usize = 100_000;
/// The catalog size when none is given: a few features of a few suites.
pub const DEFAULT_TESTS_PER_PROJECT: usize = 36;

/// Everything a [`Simulator`](crate::Simulator) is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seeds catalogs, ids and outcomes: the same seed and the same requests give the
    /// same answers.
    pub seed: u64,
    /// Simulated time per real time. At 1 a run paces like a real one (seconds per
    /// test); at 100 a few dozen tests finish in about a second.
    pub speed: f64,
    /// Tests in each project's catalog.
    pub tests_per_project: usize,
    /// The projects served, each with its own key and catalog.
    pub projects: Vec<SimProject>,
    /// Faults injected into `/api/` responses.
    pub faults: Faults,
}

impl Default for SimConfig {
    /// Seed 42, real pace, 36 tests, one demo project with a random id and key, no faults.
    fn default() -> Self {
        Self {
            seed: 42,
            speed: 1.0,
            tests_per_project: DEFAULT_TESTS_PER_PROJECT,
            projects: vec![SimProject::random()],
            faults: Faults::default(),
        }
    }
}

impl SimConfig {
    /// Checks the values a person typed; [`Simulator::new`](crate::Simulator::new)
    /// clamps instead, so an embedded simulator never fails to build.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.speed.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&self.speed)) {
            return Err(ConfigError::Speed(self.speed));
        }
        if !(1..=MAX_TESTS_PER_PROJECT).contains(&self.tests_per_project) {
            return Err(ConfigError::Tests(self.tests_per_project));
        }
        for (i, project) in self.projects.iter().enumerate() {
            project.validate()?;
            if self.projects[..i].iter().any(|p| p.id == project.id) {
                return Err(ConfigError::DuplicateProject(project.id.clone()));
            }
        }
        self.faults.validate()
    }

    /// The same configuration with every value forced into its accepted range.
    pub(crate) fn clamped(mut self) -> Self {
        self.speed = if self.speed.is_finite() {
            self.speed.clamp(MIN_SPEED, MAX_SPEED)
        } else {
            1.0
        };
        self.tests_per_project = self.tests_per_project.clamp(1, MAX_TESTS_PER_PROJECT);
        self.faults = self.faults.clamped();
        self
    }
}

/// One project the simulator serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimProject {
    /// The project id used in API paths (the platform uses 24-hex ids).
    pub id: String,
    /// The `x-api-key` that unlocks this project.
    pub key: String,
}

impl SimProject {
    /// A project with the given id and key.
    pub fn new(id: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            key: key.into(),
        }
    }

    /// A project with a random 24-hex id and a random key, for demos.
    pub fn random() -> Self {
        let mut rng = rand::thread_rng();
        let id = crate::rng::object_id(&mut rng);
        let key = format!("sim_{:032x}", rng.r#gen::<u128>());
        Self { id, key }
    }

    /// Parses the command line's `ID:KEY` form.
    pub fn parse(spec: &str) -> Result<Self, ConfigError> {
        let (id, key) = spec
            .split_once(':')
            .ok_or_else(|| ConfigError::ProjectSpec(spec.chars().take(64).collect()))?;
        let project = Self::new(id.trim(), key.trim());
        project.validate()?;
        Ok(project)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        ProjectId::parse(self.id.as_str()).map_err(|e| ConfigError::ProjectId(e.to_string()))?;
        if self.key.is_empty()
            || self
                .key
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(ConfigError::Key(self.id.clone()));
        }
        Ok(())
    }
}

/// Faults injected into every `/api/` request, decided afresh for each request.
///
/// Latency applies first; then at most one of drop, hang, 5xx and malformed JSON is
/// chosen, tried in that order, each with its own probability. `shapes` and `echo_key`
/// are not random: they reshape every answer while they are on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Delay added to every answer, in milliseconds.
    pub latency_ms: u64,
    /// Extra random delay, uniform in `0..=jitterMs`.
    pub jitter_ms: u64,
    /// Share (0..1) of requests answered 500, 502 or 503 without doing anything.
    pub error5xx_rate: f64,
    /// Share of requests whose answer (status kept) has its JSON body cut in half.
    pub malformed_json_rate: f64,
    /// Share of requests never answered until the client gives up (or the server stops).
    pub hang_rate: f64,
    /// Share of requests whose connection is closed without any response.
    pub drop_rate: f64,
    /// Whether answers use only the guide's shapes or also the ones it allows but never
    /// shows (see [`Shapes::Odd`]).
    pub shapes: Shapes,
    /// Whether (and how) answers echo the received `x-api-key`, to test that a proxy
    /// never passes such an answer on.
    #[serde(rename = "echo_key", alias = "echoKey")]
    pub echo_key: EchoKey,
}

/// The JSON shapes the simulator answers in (`"shapes"` in `/__sim/faults`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shapes {
    /// Exactly the shapes of the guide's examples.
    #[default]
    Plain,
    /// Shapes the guide allows but never shows. Run reports: every finished test's
    /// `duration` fractional (`1240.5`), one test with `"title": null`, one with
    /// `"duration": -1`, `"videoLink": null` where there is no video, no `timeline` and
    /// `"error": null` on passed tests, `"startTime": null` on scheduled tests,
    /// `testsInProjectCount` as a float (`36.0`); in a completed report one test has the
    /// undocumented status `"Blocked"`, counted as `{"label":"Blocked","count":1}`.
    /// Jobs answers: `"missingJobIds": null` when empty, `updatedAt` without a fraction.
    /// A duplicate start: HTTP 409 `{"success":false,"scheduleStatus":"AlreadyExists",…}`.
    Odd,
}

/// How answers echo the received key (`"echo_key"` in `/__sim/faults`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EchoKey {
    /// Never (the platform's documented behaviour).
    #[default]
    None,
    /// Every `/api/` answer is a 400 whose `error.message` holds the key after ~480
    /// characters of text, so a message cut at 500 characters keeps part of it.
    Error,
    /// Successful answers carry the key as sent: in a run report's `title`, the first
    /// job's `agentName`, or a `note` field.
    Body,
    /// Like `Body`, with the key percent-encoded (every non-alphanumeric byte).
    Urlencoded,
    /// Like `Body`, with the key in standard base64.
    Base64,
    /// Like `Body`, with the key in JSON `\u` escapes, as a .NET platform writes `+`
    /// (`\u002B`), and further: every other character escaped, the hex digits' case
    /// alternating. A byte scan sees no key; `JSON.parse` in a browser sees it whole.
    Escaped,
}

impl EchoKey {
    /// Every mode, for `--help` and error messages.
    pub const NAMES: &'static str = "none, error, body, urlencoded, base64, escaped";

    /// Parses a mode's name (as in JSON).
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        serde_json::from_value(serde_json::Value::String(name.to_owned()))
            .map_err(|_| ConfigError::EchoKey(name.chars().take(32).collect()))
    }
}

/// The longest latency or jitter accepted: one minute.
pub const MAX_LATENCY_MS: u64 = 60_000;

impl Faults {
    /// Whether no fault is configured.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }

    /// Checks that every rate is in 0..1 and latencies are at most a minute.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (name, rate) in self.rates() {
            if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
                return Err(ConfigError::Rate { name, value: rate });
            }
        }
        for (name, ms) in [("latencyMs", self.latency_ms), ("jitterMs", self.jitter_ms)] {
            if ms > MAX_LATENCY_MS {
                return Err(ConfigError::Latency { name, value: ms });
            }
        }
        Ok(())
    }

    fn rates(&self) -> [(&'static str, f64); 4] {
        [
            ("error5xxRate", self.error5xx_rate),
            ("malformedJsonRate", self.malformed_json_rate),
            ("hangRate", self.hang_rate),
            ("dropRate", self.drop_rate),
        ]
    }

    pub(crate) fn clamped(self) -> Self {
        let rate = |r: f64| {
            if r.is_finite() {
                r.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        Self {
            latency_ms: self.latency_ms.min(MAX_LATENCY_MS),
            jitter_ms: self.jitter_ms.min(MAX_LATENCY_MS),
            error5xx_rate: rate(self.error5xx_rate),
            malformed_json_rate: rate(self.malformed_json_rate),
            hang_rate: rate(self.hang_rate),
            drop_rate: rate(self.drop_rate),
            ..self
        }
    }
}

/// Why a configuration was refused; each message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// `--speed` out of range.
    #[error("speed {0} is out of range; use a number from {MIN_SPEED} to {MAX_SPEED}")]
    Speed(f64),
    /// `--tests` out of range.
    #[error("tests per project {0} is out of range; use 1 to {MAX_TESTS_PER_PROJECT}")]
    Tests(usize),
    /// `--project` without a colon.
    #[error("project {0:?} is not of the form ID:KEY")]
    ProjectSpec(String),
    /// A project id that is not a safe id.
    #[error("project id {0}")]
    ProjectId(String),
    /// An empty key or one with spaces.
    #[error("the key of project {0} must be non-empty and contain no spaces")]
    Key(String),
    /// An `--echo-key` mode that does not exist.
    #[error("echo-key mode {0:?} does not exist; use one of {names}", names = EchoKey::NAMES)]
    EchoKey(String),
    /// The same project twice.
    #[error("project {0} is configured twice")]
    DuplicateProject(String),
    /// A fault rate outside 0..1.
    #[error("{name} is {value}; use a share from 0 to 1")]
    Rate {
        /// The JSON name of the rate.
        name: &'static str,
        /// The refused value.
        value: f64,
    },
    /// A latency over a minute.
    #[error("{name} is {value} ms; at most {MAX_LATENCY_MS} ms is accepted")]
    Latency {
        /// The JSON name of the latency.
        name: &'static str,
        /// The refused value.
        value: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_specs_parse_or_explain() {
        let p = SimProject::parse("67f8cb3fe236b8d41b7700ac:secret").expect("valid spec");
        assert_eq!(p, SimProject::new("67f8cb3fe236b8d41b7700ac", "secret"));
        for bad in ["nocolon", "bad/id:key", ":key", "id:", "id:has space"] {
            assert!(SimProject::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let mut config = SimConfig::default();
        assert_eq!(config.validate(), Ok(()));
        config.speed = 0.0;
        assert!(config.validate().unwrap_err().to_string().contains("speed"));
        config.speed = 1.0;
        config.faults.drop_rate = 1.5;
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("dropRate")
        );
        let clamped = config.clone().clamped();
        assert_eq!(clamped.faults.drop_rate, 1.0);
        config.faults = Faults::default();
        config.projects.push(config.projects[0].clone());
        assert!(matches!(
            config.validate(),
            Err(ConfigError::DuplicateProject(_))
        ));
    }

    #[test]
    fn faults_use_camel_case_json() {
        let faults: Faults =
            serde_json::from_str(r#"{"latencyMs":5,"error5xxRate":0.5}"#).expect("parses");
        assert_eq!(faults.latency_ms, 5);
        assert_eq!(faults.error5xx_rate, 0.5);
        assert!(serde_json::from_str::<Faults>(r#"{"dropRatio":1}"#).is_err());
    }

    #[test]
    fn switches_use_the_contracts_names() {
        let faults: Faults =
            serde_json::from_str(r#"{"shapes":"odd","echo_key":"base64"}"#).expect("parses");
        assert_eq!(
            (faults.shapes, faults.echo_key),
            (Shapes::Odd, EchoKey::Base64)
        );
        let written = serde_json::to_value(faults).expect("serializes");
        assert_eq!(
            (&written["shapes"], &written["echo_key"]),
            (&"odd".into(), &"base64".into())
        );
        let alias: Faults = serde_json::from_str(r#"{"echoKey":"urlencoded"}"#).expect("parses");
        assert_eq!(alias.echo_key, EchoKey::Urlencoded);
        assert_eq!(EchoKey::parse("error"), Ok(EchoKey::Error));
        let refused = EchoKey::parse("loud")
            .expect_err("no such mode")
            .to_string();
        assert!(
            refused.contains("loud") && refused.contains(EchoKey::NAMES),
            "{refused}"
        );
    }
}
