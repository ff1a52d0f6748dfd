//! The report's scale sections: the two variants side by side, with the
//! ratio that says whether liveinit's cost grew, and the floor's figures
//! where it booted too (what the kernel alone costs on that machine).

use std::fmt::Write as _;

use super::boot::Timed;
use super::cases::CaseId;
use super::format::{min_max, ratio, secs, spread};
use super::scale::{ScaleResult, VariantResult, DISKS, DISKS_GOAL};
use super::stats::{self, Summary};
use super::timeline::Breakdown;

type Pick = fn(&Timed) -> Option<f64>;

/// Which boots of a variant a row reads.
#[derive(Clone, Copy)]
enum Who {
    Liveinit,
    Floor,
}

fn boots(v: &VariantResult, who: Who) -> &[Result<Timed, String>] {
    match who {
        Who::Liveinit => &v.liveinit,
        Who::Floor => &v.floor,
    }
}

fn summary(v: &VariantResult, who: Who, pick: Pick) -> Option<Summary> {
    let values: Vec<f64> = boots(v, who).iter().flatten().filter_map(pick).collect();
    Summary::of(&values)
}

fn found(t: &Timed) -> Option<f64> {
    t.milestones.medium_matched
}

fn appears(t: &Timed) -> Option<f64> {
    t.milestones.device_appears
}

pub fn section(md: &mut String, s: &ScaleResult) {
    let [a, b] = &s.variants;
    let _ = writeln!(
        md,
        "### {}: {}\n\n| figure (median; min – max, spread) | {} | {} | ratio |\n|---|---|---|---|",
        s.id.name(),
        s.title,
        a.label,
        b.label
    );
    let mut rows: Vec<(&str, Who, Pick)> = vec![
        (
            "liveinit: Run /init → the medium's disk appears (kernel)",
            Who::Liveinit,
            appears,
        ),
        (
            "liveinit: Run /init → **found the medium**",
            Who::Liveinit,
            found,
        ),
        (
            "liveinit: the disk appears → found the medium",
            Who::Liveinit,
            |t| Some(found(t)? - appears(t)?),
        ),
        (
            "liveinit: found the medium → real init",
            Who::Liveinit,
            |t| Some(t.to_real_init - found(t)?),
        ),
        ("liveinit: Run /init → real init", Who::Liveinit, |t| {
            Some(t.to_real_init)
        }),
    ];
    let with_floor = !a.floor.is_empty() || !b.floor.is_empty();
    if with_floor {
        rows.push((
            "floor: Run /init → the medium's disk appears",
            Who::Floor,
            appears,
        ));
        rows.push(("floor: Run /init → real init", Who::Floor, |t| {
            Some(t.to_real_init)
        }));
    }
    for (name, who, pick) in &rows {
        let [sa, sb] = [a, b].map(|v| summary(v, *who, *pick));
        let cell = |s: &Option<Summary>| match s {
            Some(s) => format!("{} ({}, {})", secs(Some(s.median)), min_max(s), spread(s)),
            None => "n/a".into(),
        };
        let r = match (sa, sb) {
            (Some(x), Some(y)) => ratio(stats::ratio(y.median, x.median)),
            _ => "n/a".into(),
        };
        let _ = writeln!(md, "| {name} | {} | {} | {r} |", cell(&sa), cell(&sb));
    }
    let failed: usize = [a, b]
        .iter()
        .flat_map(|v| v.liveinit.iter().chain(&v.floor))
        .filter(|r| r.is_err())
        .count();
    if failed > 0 {
        let _ = writeln!(
            md,
            "\n{failed} boot(s) failed; their logs are under target/bench/{}/.",
            s.id.name()
        );
    }
    md.push('\n');
    match s.id {
        CaseId::ScaleDisks => disks_verdict(md, a, b),
        _ => {
            md.push_str(
                "The init never reads the image: what follows \"found the medium\" (loop, the dm \
                 snapshot over the image, the ext4 mount) must not grow with its size; the time to \
                 find the medium depends on the disk, not on what the file holds.\n\n",
            );
            if let Some(steps) = &s.steps {
                steps_side_by_side(md, a, b, steps);
            }
        }
    }
}

/// liveinit's steps from "found the medium" on, one debug boot per
/// variant, aligned step by step (both run the same plan).
fn steps_side_by_side(
    md: &mut String,
    a: &VariantResult,
    b: &VariantResult,
    steps: &[Result<Breakdown, String>; 2],
) {
    let [Ok(sa), Ok(sb)] = steps else {
        md.push_str("(A debug boot failed: no step-by-step comparison.)\n\n");
        return;
    };
    let after_found = |bd: &Breakdown| -> Vec<(String, f64)> {
        bd.steps
            .iter()
            .skip_while(|s| !s.what.starts_with("found the live medium"))
            .map(|s| (s.what.clone(), s.took))
            .collect()
    };
    let (xa, xb) = (after_found(sa), after_found(sb));
    let first_word = |s: &str| s.split_whitespace().next().unwrap_or("").to_string();
    let aligned = xa.len() == xb.len()
        && xa
            .iter()
            .zip(&xb)
            .all(|(p, q)| first_word(&p.0) == first_word(&q.0));
    if !aligned || xa.is_empty() {
        md.push_str("(The two debug boots took different steps: no step-by-step comparison.)\n\n");
        return;
    }
    let _ = writeln!(
        md,
        "<details><summary>liveinit's steps after finding the medium, one <code>rd.debug</code> \
         boot each</summary>\n\n| step ({}) | {} | {} |\n|---|---|---|",
        a.label, a.label, b.label
    );
    for ((what, ta), (_, tb)) in xa.iter().zip(&xb) {
        let _ = writeln!(
            md,
            "| {} | {:.0} ms | {:.0} ms |",
            what.replace('|', "\\|"),
            ta * 1000.0,
            tb * 1000.0
        );
    }
    md.push_str("\n</details>\n\n");
}

fn disks_verdict(md: &mut String, one: &VariantResult, many: &VariantResult) {
    let median = |v: &VariantResult, who: Who, pick: Pick| summary(v, who, pick).map(|s| s.median);
    let found_ratio = match (
        median(one, Who::Liveinit, found),
        median(many, Who::Liveinit, found),
    ) {
        (Some(x), Some(y)) => stats::ratio(y, x),
        _ => f64::NAN,
    };
    let verdict = if found_ratio <= DISKS_GOAL {
        "goal met"
    } else if found_ratio.is_finite() {
        "goal missed"
    } else {
        "not measured"
    };
    let _ = writeln!(
        md,
        "Finding the medium behind {} more disks takes {} × the single-disk time (goal: at most \
         {DISKS_GOAL}): **{verdict}**.",
        DISKS - 1,
        ratio(found_ratio)
    );
    let floor_one = median(one, Who::Floor, appears);
    let floor_many = median(many, Who::Floor, appears);
    if let (Some(f1), Some(fm)) = (floor_one, floor_many) {
        let over =
            |v: &VariantResult, floor: f64| median(v, Who::Liveinit, found).map(|l| l - floor);
        let _ = writeln!(
            md,
            "The kernel alone needs {} to present the medium's disk on this machine against {} \
             with one disk ({} ×): that is the floor's figure, with no init work at all beside \
             it. liveinit finds the medium {} after that with one disk and {} after it with {DISKS} \
             (its own probing shares the one CPU with the kernel's).\n",
            secs(Some(fm)),
            secs(Some(f1)),
            ratio(stats::ratio(fm, f1)),
            secs(over(one, f1)),
            secs(over(many, fm)),
        );
    } else {
        md.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::timeline::Milestones;

    fn boot(appears: f64, found: f64, real: f64) -> Result<Timed, String> {
        Ok(Timed {
            to_real_init: real,
            milestones: Milestones {
                device_appears: Some(appears),
                medium_matched: Some(found),
                ..Milestones::default()
            },
            host_load: 0.0,
            kernel_boot: 2.0,
        })
    }

    #[test]
    fn disks_verdict_against_the_goal_and_the_floor() {
        let s = ScaleResult {
            id: CaseId::ScaleDisks,
            title: "disks",
            variants: [
                VariantResult {
                    label: "1 disk".into(),
                    liveinit: vec![boot(0.6, 0.8, 1.2)],
                    floor: vec![boot(0.5, f64::NAN, 0.9)],
                },
                VariantResult {
                    label: "32 disks".into(),
                    liveinit: vec![boot(1.0, 1.1, 1.5)],
                    floor: vec![boot(0.9, f64::NAN, 1.3)],
                },
            ],
            steps: None,
        };
        let mut md = String::new();
        section(&mut md, &s);
        assert!(
            md.contains("takes 1.38 × the single-disk time (goal: at most 1.5): **goal met**"),
            "{md}"
        );
        assert!(
            md.contains("| floor: Run /init → the medium's disk appears | 0.500 s"),
            "{md}"
        );
        assert!(
            md.contains(
                "liveinit finds the medium 0.300 s after that with one disk and 0.200 s after it"
            ),
            "{md}"
        );
    }
}
