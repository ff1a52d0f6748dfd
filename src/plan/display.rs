//! How steps read in logs, error messages and `liveinit explain`.

use core::fmt;

use super::{DmTable, LoopSlot, Sectors, Source, Step};

impl fmt::Display for LoopSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let LoopSlot::Layer(n) = self {
            return write!(f, "<layer {n} loop>");
        }
        f.write_str(match self {
            LoopSlot::Layer(_) => "",
            LoopSlot::Image => "<image loop>",
            LoopSlot::Base => "<base loop>",
            LoopSlot::Cow => "<cow loop>",
            LoopSlot::ThinData => "<thin data loop>",
            LoopSlot::ThinMeta => "<thin meta loop>",
            LoopSlot::Iso => "<iso loop>",
            LoopSlot::Persist => "<persistent overlay loop>",
        })
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Path(p) => f.write_str(p),
            Source::Loop(slot) => slot.fmt(f),
        }
    }
}

impl fmt::Display for Sectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sectors::Of(slot) => write!(f, "<sectors of {slot}>"),
            Sectors::Fixed(n) => write!(f, "{n}"),
        }
    }
}

impl fmt::Display for DmTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0 {} {}", self.length, self.target)?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::MakeDir { path } => write!(f, "mkdir {path}"),
            Step::Mount {
                source,
                target,
                fstype,
                flags,
                data,
            } => {
                write!(f, "mount {source} -> {target} (")?;
                if flags.bind {
                    f.write_str("bind")?;
                } else {
                    f.write_str(fstype.unwrap_or("auto"))?;
                    f.write_str(if flags.read_only { ", ro" } else { ", rw" })?;
                }
                for (on, name) in [
                    (flags.nosuid, "nosuid"),
                    (flags.nodev, "nodev"),
                    (flags.noexec, "noexec"),
                    (flags.noatime, "noatime"),
                    (flags.nodiratime, "nodiratime"),
                ] {
                    if on {
                        write!(f, ", {name}")?;
                    }
                }
                if !data.is_empty() {
                    write!(f, ", {data}")?;
                }
                f.write_str(")")
            }
            Step::AttachLoop {
                backing, read_only, ..
            } => write!(
                f,
                "attach loop <- {backing} ({})",
                if *read_only { "ro" } else { "rw" }
            ),
            Step::CreateSparse { path, bytes } => {
                write!(f, "create sparse {path} ({} MiB)", bytes >> 20)
            }
            Step::CopyFile { from, to } => write!(f, "copy {from} -> {to}"),
            Step::DmCreate {
                name,
                read_only,
                table,
            } => write!(
                f,
                "dm create {name}{}: {table}",
                if *read_only { " (ro)" } else { "" }
            ),
            Step::DmMessage { name, text } => write!(f, "dm message {name} 0 {text}"),
            Step::Symlink { target, link } => write!(f, "symlink {link} -> {target}"),
            Step::WriteFile { path, .. } => write!(f, "write {path}"),
            Step::Detach { path } => write!(f, "detach {path}"),
            Step::ClearDir { path } => write!(f, "empty {path} (rd.overlay.reset)"),
            Step::ZeroStart { path, bytes } => write!(
                f,
                "zero the first {} KiB of {path} (rd.overlay.reset)",
                bytes >> 10
            ),
        }
    }
}
