//! Carrying out plan steps, one system call each.

use log::info;

use super::error::{BootError, Stage};
use crate::plan::{LoopSlot, Source, Step};
use crate::sys::Sys;

/// Runs plan steps and remembers which loop device each slot got.
pub struct Executor<'a, S: Sys> {
    sys: &'a S,
    loops: Vec<(LoopSlot, String)>,
}

impl<'a, S: Sys> Executor<'a, S> {
    pub fn new(sys: &'a S) -> Self {
        Executor {
            sys,
            loops: Vec::new(),
        }
    }

    /// Runs `steps` in order; the first failure names the step.
    pub fn run(&mut self, stage: Stage, steps: &[Step]) -> Result<(), BootError> {
        for step in steps {
            let step = self.resolve(step);
            info!("{step}");
            self.perform(&step)
                .map_err(|e| BootError::sys(stage, step.to_string(), e))?;
        }
        Ok(())
    }

    /// The device attached for `slot`, once attached.
    pub fn loop_device(&self, slot: LoopSlot) -> Option<&str> {
        self.loops
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, dev)| dev.as_str())
    }

    /// Replaces loop slots by the devices they got, for doing and telling.
    fn resolve(&self, step: &Step) -> Step {
        match step {
            Step::Mount {
                source: Source::Loop(slot),
                target,
                fstype,
                flags,
                data,
            } => match self.loop_device(*slot) {
                Some(dev) => Step::Mount {
                    source: Source::Path(dev.to_owned()),
                    target: target.clone(),
                    fstype: *fstype,
                    flags: *flags,
                    data: data.clone(),
                },
                None => step.clone(),
            },
            _ => step.clone(),
        }
    }

    fn perform(&mut self, step: &Step) -> Result<(), crate::sys::Errno> {
        let sys = self.sys;
        match step {
            Step::MakeDir { path } => sys.mkdir_all(path),
            Step::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => match source {
                Source::Path(source) => sys.mount(source, target, *fstype, *flags, data),
                // A slot that was never attached: a plan bug, not a crash.
                Source::Loop(_) => Err(crate::sys::Errno::NXIO),
            },
            Step::AttachLoop {
                slot,
                backing,
                read_only,
            } => {
                let device = sys.attach_loop(backing, *read_only)?;
                info!("{backing} is {device}");
                self.loops.push((*slot, device));
                Ok(())
            }
            Step::Symlink { target, link } => sys.symlink(target, link),
            Step::Detach { path } => sys.detach(path),
        }
    }
}
