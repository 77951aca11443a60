//! A job's plan, fixed when the job is created: when each test starts, how long each of
//! its steps takes, which tests fail or are skipped, which record video. Offsets are
//! wall-clock milliseconds (simulated milliseconds divided by the speed), so reported
//! start times and durations agree with the clock whatever the pace.

use rand::{Rng, rngs::StdRng};
use serde_json::{Value, json};

use crate::catalog::{ProjectData, TestSpec};

/// Simulated time a job stays `Pending` before it looks for its agent.
pub(crate) const PENDING_MS: u64 = 1_500;
/// Simulated time between a run record appearing and its first test starting.
const SETUP_MS: u64 = 1_000;
/// Tests an agent runs at once.
const PARALLEL: usize = 3;
/// Chance that a test is skipped instead of run.
const SKIP_CHANCE: f64 = 0.04;
/// Chance that a finished test has a recording.
const VIDEO_CHANCE: f64 = 0.8;
/// Chance that a failure is the final assertion rather than an earlier step.
const ASSERTION_FAILURE_CHANCE: f64 = 0.7;
/// Simulated duration range of one step.
const STEP_MS: std::ops::RangeInclusive<u64> = 300..=2_400;

/// Converts simulated milliseconds to wall-clock milliseconds at `speed`.
pub(crate) fn wall_ms(sim_ms: u64, speed: f64) -> u64 {
    // The speed is clamped to a positive range at construction, so this is finite.
    (sim_ms as f64 / speed).round() as u64
}

/// How a planned test ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One test of a job's run.
#[derive(Debug, Clone)]
pub(crate) struct PlannedTest {
    /// Index into the project's tests.
    pub(crate) test: usize,
    /// When it starts (or is skipped), from the run's start.
    pub(crate) start_ms: u64,
    pub(crate) outcome: Outcome,
    /// End of each step that runs, from the test's start; the last is its duration.
    /// A failed test stops at its failing step; a skipped one runs none.
    pub(crate) step_ends: Vec<u64>,
    pub(crate) has_video: bool,
    pub(crate) error: Option<Value>,
}

impl PlannedTest {
    /// How long it runs.
    pub(crate) fn duration_ms(&self) -> u64 {
        self.step_ends.last().copied().unwrap_or(0)
    }

    /// When it is done, from the run's start.
    pub(crate) fn end_ms(&self) -> u64 {
        self.start_ms + self.duration_ms()
    }
}

/// Everything that will happen in a job's run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) tests: Vec<PlannedTest>,
    /// When the first test starts, from the run's start (the run is `Scheduled` before).
    pub(crate) first_start_ms: u64,
    /// When the last test is done, from the run's start.
    pub(crate) total_ms: u64,
    /// Whether any test fails.
    pub(crate) failed: bool,
}

/// Plans a run of `selection` (indices into `data.tests`) on `PARALLEL` slots.
pub(crate) fn plan(data: &ProjectData, selection: &[usize], rng: &mut StdRng, speed: f64) -> Plan {
    let first_start_ms = wall_ms(SETUP_MS, speed);
    let mut slots = vec![first_start_ms; PARALLEL.min(selection.len()).max(1)];
    let mut tests = Vec::with_capacity(selection.len());
    for &index in selection {
        let (slot, start_ms) = slots
            .iter()
            .copied()
            .enumerate()
            .min_by_key(|&(_, free)| free)
            .unwrap_or((0, first_start_ms));
        let planned = plan_test(index, &data.tests[index], start_ms, rng, speed);
        if planned.outcome != Outcome::Skipped {
            slots[slot] = planned.end_ms();
        }
        tests.push(planned);
    }
    let total_ms = tests
        .iter()
        .map(PlannedTest::end_ms)
        .fold(first_start_ms, u64::max);
    let failed = tests.iter().any(|t| t.outcome == Outcome::Failed);
    Plan {
        tests,
        first_start_ms,
        total_ms,
        failed,
    }
}

fn plan_test(
    index: usize,
    spec: &TestSpec,
    start_ms: u64,
    rng: &mut StdRng,
    speed: f64,
) -> PlannedTest {
    let outcome = if rng.gen_bool(SKIP_CHANCE) {
        Outcome::Skipped
    } else if rng.gen_bool(spec.fail_chance) {
        Outcome::Failed
    } else {
        Outcome::Passed
    };
    let last_step = spec.steps.len() - 1;
    let (steps_run, error) = match outcome {
        Outcome::Skipped => (0, None),
        Outcome::Passed => (spec.steps.len(), None),
        Outcome::Failed => {
            let failing = if last_step == 0 || rng.gen_bool(ASSERTION_FAILURE_CHANCE) {
                last_step
            } else {
                rng.gen_range(1..=last_step)
            };
            (failing + 1, Some(failure(spec, failing, rng)))
        }
    };
    let mut simulated = 0;
    let mut step_ends: Vec<u64> = (0..steps_run)
        .map(|_| {
            simulated += rng.gen_range(STEP_MS);
            wall_ms(simulated, speed)
        })
        .collect();
    // Keep a test that ran visibly non-instant even at extreme speeds.
    if let Some(last) = step_ends.last_mut() {
        *last = (*last).max(1);
    }
    let has_video = outcome != Outcome::Skipped && rng.gen_bool(VIDEO_CHANCE);
    PlannedTest {
        test: index,
        start_ms,
        outcome,
        step_ends,
        has_video,
        error,
    }
}

/// The `error` of a test failing at step `failing` (0-based): an assertion object for
/// the final check, otherwise a plain message or an element-not-found object.
fn failure(spec: &TestSpec, failing: usize, rng: &mut StdRng) -> Value {
    let step = failing + 1;
    let name = &spec.steps[failing];
    if failing == spec.steps.len() - 1 {
        let (expected, actual) = spec.check;
        return json!({
            "message": format!("expected {expected:?}, got {actual:?}"),
            "step": step,
            "type": "AssertionError",
        });
    }
    if rng.gen_bool(0.5) {
        Value::String(format!(
            "Timed out after 10000 ms at step {step} ({name}): the page did not respond"
        ))
    } else {
        json!({
            "message": format!("no element matched while running {name:?}"),
            "step": step,
            "type": "ElementNotFoundError",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{catalog::generate, rng::rng_for};

    #[test]
    fn plans_keep_slots_busy_and_steps_consistent() {
        let data = generate("p", 3, 60);
        let selection: Vec<usize> = (0..60).collect();
        let plan = plan(&data, &selection, &mut rng_for(3, &[1]), 1.0);
        assert_eq!(plan.tests.len(), 60);
        assert_eq!(plan.first_start_ms, SETUP_MS);
        for test in &plan.tests {
            assert!(test.start_ms >= plan.first_start_ms);
            assert!(test.end_ms() <= plan.total_ms);
            assert!(test.step_ends.windows(2).all(|w| w[0] <= w[1]));
            match test.outcome {
                Outcome::Skipped => assert!(test.step_ends.is_empty() && test.error.is_none()),
                Outcome::Passed => {
                    assert_eq!(test.step_ends.len(), data.tests[test.test].steps.len());
                    assert!(test.error.is_none());
                }
                Outcome::Failed => assert!(test.error.is_some() && !test.step_ends.is_empty()),
            }
        }
        // At most PARALLEL tests overlap at any test's start.
        for test in &plan.tests {
            let at = test.start_ms;
            let running = plan
                .tests
                .iter()
                .filter(|t| t.outcome != Outcome::Skipped && t.start_ms <= at && at < t.end_ms())
                .count();
            assert!(running <= PARALLEL, "{running} tests overlap at {at}");
        }
    }

    #[test]
    fn speed_scales_wall_time() {
        let data = generate("p", 3, 36);
        let selection: Vec<usize> = (0..36).collect();
        let slow = plan(&data, &selection, &mut rng_for(3, &[1]), 1.0);
        let fast = plan(&data, &selection, &mut rng_for(3, &[1]), 100.0);
        assert!(
            slow.total_ms > 20_000,
            "a real-pace run takes tens of seconds"
        );
        assert!(
            fast.total_ms < 2_000,
            "at speed 100 it takes about a second"
        );
        assert_eq!(slow.failed, fast.failed);
    }
}
