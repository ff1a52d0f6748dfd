//! Carrying out plan steps, one system call (or a short fixed sequence)
//! each, resolving loop slots and device sizes as they become known, with
//! the kernel modules each step needs loaded first.

#[allow(unused_imports)]
use crate::prelude::*;

use log::{info, warn};

use super::error::{BootError, Cause, Stage};
use super::modules::Loader;
use crate::plan::kernel::module_requests;
use crate::plan::{DmTable, LoopSlot, MountFlags, Sectors, Source, Step};
use crate::sys::{Errno, Sys};

/// Report a long copy's progress this often (in percent).
const PROGRESS_STEP: u64 = 10;

/// A loop device attached for a slot.
struct Attached {
    slot: LoopSlot,
    device: String,
    backing: String,
}

/// Runs plan steps and remembers which loop device each slot got.
pub struct Executor<'a, S: Sys> {
    sys: &'a S,
    modules: &'a mut Loader,
    loops: Vec<Attached>,
}

impl<'a, S: Sys> Executor<'a, S> {
    pub fn new(sys: &'a S, modules: &'a mut Loader) -> Self {
        Executor {
            sys,
            modules,
            loops: Vec::new(),
        }
    }

    /// Runs `steps` in order; the first failure names the step, with the
    /// loop devices it involved spelled out (and the kernel modules it
    /// needed that failed to load).
    ///
    /// The modules of all the steps start loading at once, side by side;
    /// each step waits only for its own.
    pub fn run(&mut self, stage: Stage, steps: &[Step]) -> Result<(), BootError> {
        let requests: Vec<String> = steps.iter().flat_map(module_requests).collect();
        self.modules.request(self.sys, &requests);
        for original in steps {
            let step = self.resolve(original);
            let failed_modules = self.modules.wait_for(self.sys, &module_requests(&step));
            info!("{step}");
            self.perform(&step).map_err(|e| {
                let subject = format!("{step}{}", self.backing_of(original));
                match self.missing_support(&step, e, failed_modules.clone()) {
                    None => BootError::sys(stage, subject, e),
                    Some(cause) => BootError::new(stage, subject, cause),
                }
            })?;
        }
        Ok(())
    }

    /// Why the kernel may have refused the step: a module it needed
    /// failed to load, or nothing provides its filesystem.
    fn missing_support(&self, step: &Step, errno: Errno, failed: Vec<String>) -> Option<Cause> {
        let fstype = match step {
            Step::Mount {
                fstype: Some(fstype),
                ..
            } if errno == Errno::NODEV
                && !module_requests(step)
                    .iter()
                    .any(|r| self.modules.can_answer(r)) =>
            {
                Some(fstype.to_string())
            }
            _ => None,
        };
        (!failed.is_empty() || fstype.is_some()).then_some(Cause::MissingSupport {
            errno,
            failed,
            fstype,
        })
    }

    /// `" (/dev/loop0 is …/squashfs.img)"` for the loop devices a step uses,
    /// so an error names the file to look at, not only a device number.
    fn backing_of(&self, step: &Step) -> String {
        let slots: Vec<LoopSlot> = match step {
            Step::Mount {
                source: Source::Loop(slot),
                ..
            }
            | Step::Symlink {
                target: Source::Loop(slot),
                ..
            } => vec![*slot],
            Step::DmCreate { table, .. } => {
                let mut slots: Vec<LoopSlot> = table
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        Source::Loop(slot) => Some(*slot),
                        Source::Path(_) => None,
                    })
                    .collect();
                if let Sectors::Of(slot) = table.length {
                    if !slots.contains(&slot) {
                        slots.push(slot);
                    }
                }
                slots
            }
            _ => Vec::new(),
        };
        let named: Vec<String> = slots
            .iter()
            .filter_map(|slot| self.loops.iter().find(|l| l.slot == *slot))
            .map(|l| format!("{} is {}", l.device, l.backing))
            .collect();
        if named.is_empty() {
            String::new()
        } else {
            format!(" ({})", named.join(", "))
        }
    }

    /// The device attached for `slot`, once attached.
    pub fn loop_device(&self, slot: LoopSlot) -> Option<&str> {
        self.loops
            .iter()
            .find(|l| l.slot == slot)
            .map(|l| l.device.as_str())
    }

    fn source(&self, source: &Source) -> Source {
        match source {
            Source::Loop(slot) => match self.loop_device(*slot) {
                Some(dev) => Source::Path(dev.to_owned()),
                None => source.clone(),
            },
            Source::Path(_) => source.clone(),
        }
    }

    /// Replaces loop slots and sizes by what they turned out to be.
    fn resolve(&self, step: &Step) -> Step {
        let mut step = step.clone();
        match &mut step {
            Step::Mount { source, .. } | Step::Symlink { target: source, .. } => {
                *source = self.source(source);
            }
            Step::DmCreate { table, .. } => {
                table.args = table.args.iter().map(|a| self.source(a)).collect();
                if let Sectors::Of(slot) = table.length {
                    if let Some(sectors) = self.sectors(slot) {
                        table.length = Sectors::Fixed(sectors);
                    }
                }
            }
            _ => {}
        }
        step
    }

    /// The size of a slot's device in 512-byte sectors, from sysfs.
    fn sectors(&self, slot: LoopSlot) -> Option<u64> {
        let name = self.loop_device(slot)?.strip_prefix("/dev/")?;
        let text = self
            .sys
            .read_file(&format!("/sys/class/block/{name}/size"))
            .ok()?;
        String::from_utf8_lossy(&text).trim().parse().ok()
    }

    fn perform(&mut self, step: &Step) -> Result<(), Errno> {
        let sys = self.sys;
        match step {
            Step::MakeDir { path } => sys.mkdir_all(path),
            Step::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => {
                let source = resolved(source)?;
                match sys.mount(source, target, *fstype, *flags, data) {
                    // As mount(8) does: a write-protected device (a CD, a
                    // locked SD card) is mounted read-only instead.
                    Err(Errno::ROFS | Errno::ACCESS) if !flags.read_only && !flags.bind => {
                        warn!("{source} is write-protected; mounting it read-only");
                        let read_only = MountFlags {
                            read_only: true,
                            ..*flags
                        };
                        sys.mount(source, target, *fstype, read_only, data)
                    }
                    other => other,
                }
            }
            Step::AttachLoop {
                slot,
                backing,
                read_only,
            } => {
                let device = sys.attach_loop(backing, *read_only)?;
                info!("{backing} is {device}");
                self.loops.push(Attached {
                    slot: *slot,
                    device,
                    backing: backing.clone(),
                });
                Ok(())
            }
            Step::CreateSparse { path, bytes } => sys.create_sparse(path, *bytes),
            Step::CopyFile { from, to } => copy_with_progress(sys, from, to),
            Step::DmCreate {
                name,
                read_only,
                table,
            } => {
                let (sectors, params) = table_text(table)?;
                let node = sys.dm_create(name, *read_only, sectors, table.target, &params)?;
                info!("{name} is {node}");
                Ok(())
            }
            Step::DmMessage { name, text } => sys.dm_message(name, text),
            Step::Symlink { target, link } => sys.symlink(resolved(target)?, link),
            Step::WriteFile { path, contents } => sys.write_file(path, contents.as_bytes()),
            Step::Detach { path } => sys.detach(path),
            Step::ClearDir { path } => sys.clear_dir(path),
            Step::ZeroStart { path, bytes } => sys.zero_start(path, *bytes),
        }
    }
}

/// A source whose loop device was never attached is a plan bug: report it
/// as "no such device" rather than crash.
fn resolved(source: &Source) -> Result<&str, Errno> {
    match source {
        Source::Path(p) => Ok(p),
        Source::Loop(_) => Err(Errno::NXIO),
    }
}

fn table_text(table: &DmTable) -> Result<(u64, String), Errno> {
    let Sectors::Fixed(sectors) = table.length else {
        return Err(Errno::NXIO);
    };
    let args = table
        .args
        .iter()
        .map(|a| resolved(a).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((sectors, args.join(" ")))
}

fn copy_with_progress(sys: &impl Sys, from: &str, to: &str) -> Result<(), Errno> {
    let mut next = PROGRESS_STEP;
    let copied = sys.copy_sparse(from, to, &mut |done, total| {
        let percent = done.saturating_mul(100).checked_div(total).unwrap_or(100);
        if percent >= next {
            info!(
                "copying {from}: {percent}% ({})",
                crate::progress::of_text(done, total)
            );
            next = percent - percent % PROGRESS_STEP + PROGRESS_STEP;
        }
    })?;
    info!("copied {} MiB to {to}", copied >> 20);
    Ok(())
}
