//! The report's "where the time goes" parts: kernel-stamped milestones of
//! every peer (medians over the timed boots) and liveinit's own steps and
//! module loads from its debug boot.

use std::fmt::Write as _;

use super::format::secs;
use super::peers::Peer;
use super::side_by_side::CaseResult;
use super::stats::Summary;
use super::timeline::{Breakdown, Milestones};

pub fn milestones(md: &mut String, case: &CaseResult) {
    let _ = writeln!(
        md,
        "Where the time goes: medians of the kernel timestamps, seconds after `Run /init`.\n\n\
         | milestone | liveinit | busybox floor | dracut |\n|---|---|---|---|"
    );
    type Pick = fn(&Milestones) -> Option<f64>;
    let rows: [(String, Pick); 5] = [
        (
            format!("the medium's device ({}) appears", case.case.device),
            |m| m.device_appears,
        ),
        ("liveinit: found the live medium".into(), |m| {
            m.medium_matched
        }),
        ("the image is attached to loop0".into(), |m| {
            m.image_attached
        }),
        ("the init switches root".into(), |m| m.root_switched),
        ("the kernel executes /sbin/init".into(), |m| {
            m.real_init_exec
        }),
    ];
    for (name, pick) in rows {
        let cells = Peer::ALL.map(|p| {
            let values: Vec<f64> = case
                .timings(p)
                .iter()
                .filter_map(|t| pick(&t.milestones))
                .collect();
            secs(Summary::of(&values).map(|s| s.median))
        });
        let _ = writeln!(
            md,
            "| {name} | {} | {} | {} |",
            cells[0], cells[1], cells[2]
        );
    }
    let real = Peer::ALL.map(|p| secs(case.summary(p).map(|s| s.median)));
    let _ = writeln!(
        md,
        "| the real init reads its clock (the figure above) | {} | {} | {} |\n",
        real[0], real[1], real[2]
    );
}

pub fn breakdown(md: &mut String, b: &Breakdown) {
    md.push_str(
        "<details><summary>liveinit step by step (one boot with <code>rd.debug loglevel=8</code>, \
         so a little slower)</summary>\n\n\
         | at | until the next step | step |\n|---|---|---|\n",
    );
    for s in &b.steps {
        let _ = writeln!(
            md,
            "| {:.3} s | {:.0} ms | {} |",
            s.at,
            s.took * 1000.0,
            s.what.replace('|', "\\|")
        );
    }
    md.push_str(
        "\nModule loads (several run at once):\n\n| module | started at | took |\n|---|---|---|\n",
    );
    for m in &b.modules {
        let _ = writeln!(
            md,
            "| {} | {:.3} s | {:.0} ms |",
            m.name, m.start, m.took_ms
        );
    }
    md.push_str("\n</details>\n\n");
}
