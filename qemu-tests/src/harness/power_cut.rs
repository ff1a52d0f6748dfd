//! A boot whose power is cut: QEMU quits from its monitor the moment a
//! marker appears on the console, with no shutdown of the guest (nothing
//! the guest had not yet written to its disks reaches them), as pulling
//! the plug. The disks' files stay, for the next boot to read.

use crate::out_dir;
use crate::qemu::{self, BootOutcome, Console, ConsoleStep};

use super::case::Case;

/// What the kernel prints when the guest powers off by itself.
const POWER_DOWN: &str = "reboot: Power down";

impl Case {
    /// Boots until `marker` appears, then cuts the power; panics if the
    /// marker never appeared or the guest shut down by itself.
    pub fn boot_until_power_cut(&self, marker: &str) -> BootOutcome {
        let name = &self.name;
        let mut cfg = self.config();
        cfg.console = Console::Scripted {
            log: out_dir().join(format!("{name}.log")),
            steps: vec![ConsoleStep::monitor(marker, "quit")],
        };
        eprintln!(
            "[{name}] booting (power cut at `{marker}`): {}",
            cfg.cmdline()
        );
        let out = qemu::boot(&cfg).unwrap_or_else(|e| panic!("[{name}] {e:#}"));
        eprintln!(
            "[{name}] power cut; QEMU ended after {:.1}s ({})",
            out.elapsed.as_secs_f64(),
            out.status
        );
        let fail = |why: &str| -> ! {
            panic!(
                "[{name}] {why}\nlast {} console lines:\n{}",
                qemu::TAIL_LINES,
                out.tail(qemu::TAIL_LINES)
            )
        };
        if out.steps_sent != 1 {
            fail(&format!(
                "the power was never cut: `{marker}` never appeared"
            ));
        }
        if out.log.contains(POWER_DOWN) {
            fail("the guest powered off by itself: that was no power cut");
        }
        out
    }
}
