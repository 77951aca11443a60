//! Unit tests of catalog generation and selection.

use std::collections::HashSet;

use runboard_shared::{Id, Selector};

use super::*;

fn id(value: &str) -> Id {
    Id::parse("id", value).expect("valid id")
}

#[test]
fn catalogs_are_deterministic_per_seed() {
    let a = generate("p1", 7, 36);
    assert_eq!(a.catalog, generate("p1", 7, 36).catalog);
    assert_ne!(a.catalog, generate("p1", 8, 36).catalog);
    assert_ne!(
        a.catalog.features[0].id,
        generate("p2", 7, 36).catalog.features[0].id
    );
}

#[test]
fn every_size_gets_exactly_its_tests_and_one_all_feature() {
    for size in [1, 2, 5, 36, 100, 10_000] {
        let data = generate("p", 1, size);
        let catalog = &data.catalog;
        assert_eq!(catalog.test_count, size);
        assert_eq!(catalog.tests().count(), size, "size {size}");
        assert_eq!(data.tests.len(), size);
        let all: Vec<_> = catalog.features.iter().filter(|f| f.all).collect();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].test_count, size);
        assert!(all[0].suites.is_empty());
        for feature in catalog.features.iter().filter(|f| !f.all) {
            assert!(!feature.suites.is_empty());
            assert!(feature.suites.iter().all(|s| !s.tests.is_empty()));
            let in_suites: usize = feature.suites.iter().map(|s| s.tests.len()).sum();
            assert_eq!(feature.test_count, in_suites);
        }
        let ids: HashSet<&str> = catalog.tests().map(|t| t.id.as_str()).collect();
        assert_eq!(ids.len(), size, "test ids are unique");
        let titles: HashSet<&str> = catalog.tests().map(|t| t.title.as_str()).collect();
        assert_eq!(titles.len(), size, "test titles are unique");
    }
}

#[test]
fn selectors_pick_the_right_tests() {
    let data = generate("p", 1, 36);
    let catalog = &data.catalog;
    let all = catalog.all_feature().expect("all feature");
    let selected = data.select(&Selector::Feature(id(&all.id))).expect("all");
    assert_eq!(selected.tests.len(), 36);
    assert!(selected.title.starts_with("Full regression"));

    let feature = &catalog.features[0];
    let selected = data
        .select(&Selector::Feature(id(&feature.id)))
        .expect("feature");
    assert_eq!(selected.tests.len(), feature.test_count);
    assert_eq!(
        selected.title,
        format!("{} · regression run", feature.title)
    );

    let suite = &feature.suites[0];
    let selected = data
        .select(&Selector::TestSuite(id(&suite.id)))
        .expect("suite");
    let picked: Vec<&str> = selected
        .tests
        .iter()
        .map(|&i| data.tests[i].id.as_str())
        .collect();
    let expected: Vec<&str> = suite.tests.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(picked, expected);

    let test = &suite.tests[0];
    let selected = data.select(&Selector::Test(id(&test.id))).expect("test");
    assert_eq!(selected.tests.len(), 1);
    assert!(selected.title.starts_with(&test.title));
}

#[test]
fn unknown_ids_are_named() {
    let data = generate("p", 1, 36);
    let known = data.catalog.tests().next().expect("a test").id.clone();
    let check = |selector: Selector, expected: &str| {
        let error = data.select(&selector).expect_err("unknown id");
        assert!(
            error.to_string().contains(expected),
            "{error} should mention {expected}"
        );
    };
    check(Selector::Feature(id("nope")), "featureId \"nope\"");
    check(Selector::TestSuite(id("nope")), "testSuiteId \"nope\"");
    check(Selector::Test(id("nope")), "testId \"nope\"");
    check(
        Selector::tests(&[known.as_str(), "nope"]).expect("list"),
        "tests[1] \"nope\"",
    );
    // A suite id is not a feature id.
    let suite = data.catalog.features[0].suites[0].id.clone();
    check(Selector::Feature(id(&suite)), "featureId");
}
