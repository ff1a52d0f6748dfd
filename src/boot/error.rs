//! Boot errors: each names the stage, its subject and the cause, e.g.
//! `mount medium: mount /dev/sr0 -> /run/initramfs/live (iso9660, ro): Invalid argument (os error 22)`.

#[allow(unused_imports)]
use crate::prelude::*;

use core::fmt;

use crate::config::ConfigError;
use crate::sys::Errno;

/// The stages of the boot, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    EarlyMounts,
    Break,
    Cmdline,
    FindMedium,
    MountMedium,
    MountImage,
    AssembleRoot,
    FindInit,
    SwitchRoot,
    ExecInit,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::EarlyMounts => "early mounts",
            Stage::Break => "break",
            Stage::Cmdline => "command line",
            Stage::FindMedium => "find medium",
            Stage::MountMedium => "mount medium",
            Stage::MountImage => "mount image",
            Stage::AssembleRoot => "assemble root",
            Stage::FindInit => "find init",
            Stage::SwitchRoot => "switch root",
            Stage::ExecInit => "exec init",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    Sys(Errno),
    Config(ConfigError),
    Message(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootError {
    pub stage: Stage,
    /// The device, file, option or step at fault; may be empty.
    pub subject: String,
    pub cause: Cause,
}

impl BootError {
    pub fn new(stage: Stage, subject: impl Into<String>, cause: Cause) -> BootError {
        BootError {
            stage,
            subject: subject.into(),
            cause,
        }
    }

    pub fn sys(stage: Stage, subject: impl Into<String>, errno: Errno) -> BootError {
        BootError::new(stage, subject, Cause::Sys(errno))
    }

    pub fn message(stage: Stage, subject: impl Into<String>, text: impl Into<String>) -> BootError {
        BootError::new(stage, subject, Cause::Message(text.into()))
    }
}

pub use crate::sys::errno_text;

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::Sys(errno) => f.write_str(&errno_text(*errno)),
            Cause::Config(e) => e.fmt(f),
            Cause::Message(text) => f.write_str(text),
        }
    }
}

impl fmt::Display for BootError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.stage.name())?;
        if !self.subject.is_empty() {
            write!(f, ": {}", self.subject)?;
        }
        write!(f, ": {}", self.cause)
    }
}
