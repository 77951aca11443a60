//! Writes a project's catalog from the seed: how many features and suites, their titles,
//! each test's title, steps and flakiness.

use std::collections::HashMap;

use rand::{Rng, rngs::StdRng, seq::SliceRandom};

use super::{
    Catalog, Feature, ProjectData, Suite, TestCase, TestSpec,
    words::{AREAS, Area, SUITES, VARIANTS},
};
use crate::rng::{label, object_id, rng_for};

/// Roughly how many tests one feature holds before another feature is added.
const TESTS_PER_FEATURE: usize = 9;
/// Roughly how many tests one suite holds before another suite is added.
const TESTS_PER_SUITE: usize = 4;
/// The most suites a feature gets.
const MAX_SUITES: usize = 4;
/// Share of tests that are flaky, and how often those fail.
const FLAKY_SHARE: f64 = 0.15;
const FLAKY_FAIL_CHANCE: f64 = 0.35;
/// How often a steady test fails.
const STEADY_FAIL_CHANCE: f64 = 0.03;

/// The catalog of `project_id` with `test_count` tests, the same for the same seed.
pub(crate) fn generate(project_id: &str, seed: u64, test_count: usize) -> ProjectData {
    let mut rng = rng_for(seed, &[label("catalog"), label(project_id)]);
    let mut areas: Vec<&Area> = AREAS.iter().collect();
    areas.shuffle(&mut rng);
    let feature_count = test_count.div_ceil(TESTS_PER_FEATURE).clamp(1, areas.len());
    let sizes = split(test_count, feature_count, &mut rng);

    let mut data = ProjectData {
        catalog: Catalog {
            id: project_id.to_owned(),
            test_count,
            features: Vec::with_capacity(feature_count + 1),
            agents: Vec::new(),
        },
        tests: Vec::with_capacity(test_count),
        features: HashMap::new(),
        suites: HashMap::new(),
        test_index: HashMap::with_capacity(test_count),
    };
    for (area, size) in areas.into_iter().zip(sizes) {
        add_feature(&mut data, area, size, &mut rng);
    }
    add_all_feature(&mut data, &mut rng);
    data
}

/// Adds one feature of `size` tests, split into a few suites.
fn add_feature(data: &mut ProjectData, area: &Area, size: usize, rng: &mut StdRng) {
    let feature_start = data.tests.len();
    let suite_count = size
        .div_ceil(TESTS_PER_SUITE)
        .clamp(1, MAX_SUITES)
        .min(size);
    let mut suite_titles: Vec<&str> = SUITES.to_vec();
    suite_titles[1..].shuffle(rng);
    let mut phrases: Vec<&str> = area.phrases.to_vec();
    phrases.shuffle(rng);

    let mut suites = Vec::with_capacity(suite_count);
    let mut ordinal = 0;
    for (suite_title, suite_size) in suite_titles.into_iter().zip(split(size, suite_count, rng)) {
        let suite_start = data.tests.len();
        let mut tests = Vec::with_capacity(suite_size);
        for _ in 0..suite_size {
            let spec = test_spec(area, title_for(area.name, &phrases, ordinal), rng);
            ordinal += 1;
            data.test_index.insert(spec.id.clone(), data.tests.len());
            tests.push(TestCase {
                id: spec.id.clone(),
                title: spec.title.clone(),
            });
            data.tests.push(spec);
        }
        let id = object_id(rng);
        let run_title = format!("{} › {suite_title} · suite run", area.name);
        data.suites
            .insert(id.clone(), (run_title, suite_start..data.tests.len()));
        suites.push(Suite {
            id,
            title: suite_title.to_owned(),
            tests,
        });
    }
    let id = object_id(rng);
    let run_title = format!("{} · regression run", area.name);
    data.features
        .insert(id.clone(), (run_title, feature_start..data.tests.len()));
    data.catalog.features.push(Feature {
        id,
        title: area.name.to_owned(),
        test_count: size,
        all: false,
        suites,
    });
}

/// Adds the "Full regression" feature, which runs every test of the project.
fn add_all_feature(data: &mut ProjectData, rng: &mut StdRng) {
    let id = object_id(rng);
    let count = data.tests.len();
    let run_title = format!("Full regression · all {count} tests");
    data.features.insert(id.clone(), (run_title, 0..count));
    data.catalog.features.push(Feature {
        id,
        title: "Full regression".to_owned(),
        test_count: count,
        all: true,
        suites: Vec::new(),
    });
}

/// The `ordinal`-th distinct title of a feature: each phrase plain, then with variants,
/// then numbered.
fn title_for(area: &str, phrases: &[&str], ordinal: usize) -> String {
    let phrase = phrases[ordinal % phrases.len()];
    let round = ordinal / phrases.len();
    let variant = VARIANTS[round % VARIANTS.len()];
    let cycle = round / VARIANTS.len();
    if cycle == 0 {
        format!("{area} {phrase}{variant}")
    } else {
        format!("{area} {phrase}{variant} (set {})", cycle + 1)
    }
}

/// One test: id, steps drawn from its area, and whether it is flaky.
fn test_spec(area: &Area, title: String, rng: &mut StdRng) -> TestSpec {
    let mut actions: Vec<&str> = area.actions.to_vec();
    actions.shuffle(rng);
    let action_count = rng.gen_range(1..=actions.len().min(4));
    let check = area.checks[rng.gen_range(0..area.checks.len())];
    let mut steps = Vec::with_capacity(action_count + 2);
    steps.push(format!("open {}", area.path));
    steps.extend(actions[..action_count].iter().map(|a| (*a).to_owned()));
    steps.push(format!("assert text {:?}", check.0));
    let fail_chance = if rng.gen_bool(FLAKY_SHARE) {
        FLAKY_FAIL_CHANCE
    } else {
        STEADY_FAIL_CHANCE
    };
    TestSpec {
        id: object_id(rng),
        title,
        fail_chance,
        steps,
        check,
    }
}

/// Splits `total` into `parts` sizes of at least one each, unevenly but not wildly so.
/// `parts` must be between 1 and `total`.
fn split(total: usize, parts: usize, rng: &mut StdRng) -> Vec<usize> {
    let parts = parts.clamp(1, total.max(1));
    let weights: Vec<usize> = (0..parts).map(|_| rng.gen_range(2..=4)).collect();
    let weight_sum: usize = weights.iter().sum();
    let spare = total.saturating_sub(parts);
    let mut sizes: Vec<usize> = weights.iter().map(|w| 1 + spare * w / weight_sum).collect();
    let mut missing = total.saturating_sub(sizes.iter().sum());
    let mut next = 0;
    while missing > 0 {
        sizes[next % parts] += 1;
        missing -= 1;
        next += 1;
    }
    sizes
}
