//! What each step asks of the kernel that a module may provide.
//!
//! The kernel would ask `modprobe` for these itself (`fs-<type>` from
//! `mount(2)`, `dm-<target>` from a table load, the loop driver from
//! `/dev/loop-control`), but an initramfs without `modprobe` has nobody to
//! answer, so the executor loads them before the step runs. The names are
//! the kernel's own requests, resolved like `modprobe` does: a module of
//! that name, else one with a matching alias; a request nothing answers is
//! taken to be built in.
//!
//! [`likely_requests`] guesses, from the command line alone, what the
//! steps will ask for, so those modules can load at idle priority while
//! discovery waits for the hardware.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::Step;
use crate::config::{LiveConfig, LiveRoot};
use crate::contract::{fs_by_mount_type, fs_support};

/// The module requests `step` needs answered before it runs.
pub fn module_requests(step: &Step) -> Vec<String> {
    match step {
        Step::Mount {
            fstype: Some(fstype),
            ..
        } => {
            // The filesystem, then what it asks for while mounting (the
            // initramfs contract): by module name, as modprobe resolves them.
            let at_mount = fs_by_mount_type(fstype).map_or(&[][..], |fs| fs_support(fs).at_mount);
            core::iter::once(format!("fs-{fstype}"))
                .chain(at_mount.iter().map(|m| String::from(*m)))
                .collect()
        }
        Step::AttachLoop { .. } => alloc::vec![String::from("loop")],
        Step::DmCreate { table, .. } => {
            alloc::vec![String::from("dm-mod"), format!("dm-{}", table.target)]
        }
        Step::DmMessage { .. } => alloc::vec![String::from("dm-mod")],
        Step::Mount { fstype: None, .. }
        | Step::MakeDir { .. }
        | Step::CreateSparse { .. }
        | Step::CopyFile { .. }
        | Step::Symlink { .. }
        | Step::WriteFile { .. }
        | Step::ClearDir { .. }
        | Step::ZeroStart { .. }
        | Step::Detach { .. } => Vec::new(),
    }
}

/// The requests a boot with `cfg` will most likely make once its medium
/// is found: the loop driver and squashfs for the image (dracut's default
/// and every major distribution's), and overlayfs unless the options ask
/// for a device-mapper layer. A wrong guess costs one module load at idle
/// priority; the steps still wait only for what they really ask for.
pub fn likely_requests(cfg: &LiveConfig) -> Vec<String> {
    if !matches!(cfg.root, LiveRoot::Device(_)) {
        return Vec::new();
    }
    let mut requests = alloc::vec![String::from("loop"), String::from("fs-squashfs")];
    let device_mapper = cfg.overlay.thin || cfg.overlay.none || cfg.writable_fsimg;
    if cfg.overlay.overlayfs || !device_mapper {
        requests.push(String::from("fs-overlay"));
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline::Cmdline;
    use crate::plan::{DmTable, LoopSlot, MountFlags, Sectors, Source};

    fn mount(fstype: Option<&'static str>) -> Step {
        Step::Mount {
            source: Source::Loop(LoopSlot::Image),
            target: String::from("/x"),
            fstype,
            flags: MountFlags::default(),
            data: String::new(),
        }
    }

    #[test]
    fn mounts_ask_for_their_filesystem_and_binds_for_nothing() {
        assert_eq!(module_requests(&mount(Some("squashfs"))), ["fs-squashfs"]);
        assert_eq!(module_requests(&mount(Some("iso9660"))), ["fs-iso9660"]);
        assert_eq!(
            module_requests(&mount(Some("vfat"))),
            ["fs-vfat", "nls_cp437", "nls_ascii"]
        );
        assert!(module_requests(&mount(None)).is_empty());
    }

    #[test]
    fn loops_and_device_mapper_ask_for_their_drivers() {
        let attach = Step::AttachLoop {
            slot: LoopSlot::Image,
            backing: String::from("/f"),
            read_only: true,
        };
        assert_eq!(module_requests(&attach), ["loop"]);
        let create = Step::DmCreate {
            name: "live-rw",
            read_only: false,
            table: DmTable {
                length: Sectors::Fixed(8),
                target: "snapshot",
                args: Vec::new(),
            },
        };
        assert_eq!(module_requests(&create), ["dm-mod", "dm-snapshot"]);
        let message = Step::DmMessage {
            name: "live-pool",
            text: "create_thin 0",
        };
        assert_eq!(module_requests(&message), ["dm-mod"]);
        let dir = Step::MakeDir {
            path: String::from("/run/x"),
        };
        assert!(module_requests(&dir).is_empty());
    }

    fn guess(cmdline: &str) -> Vec<String> {
        likely_requests(&LiveConfig::from_cmdline(&Cmdline::parse(cmdline)).unwrap())
    }

    #[test]
    fn the_guess_follows_the_writable_layer_asked_for() {
        let flat = ["loop", "fs-squashfs", "fs-overlay"];
        assert_eq!(guess("root=live:CDLABEL=x"), flat);
        assert_eq!(guess("root=live:CDLABEL=x rd.live.overlay.overlayfs"), flat);
        assert_eq!(
            guess("root=live:CDLABEL=x rd.live.overlay.thin"),
            ["loop", "fs-squashfs"]
        );
        assert_eq!(
            guess("root=live:LABEL=x rd.writable.fsimg"),
            ["loop", "fs-squashfs"]
        );
        assert!(guess("root=live:http://example.com/x.img").is_empty());
    }
}
