//! `cargo xtask demo`: build a demo live ISO (the probe as init, plus a static
//! busybox) and the initramfs, and boot it in QEMU on this terminal.

use std::io::IsTerminal;
use std::time::Duration;

use anyhow::{bail, Result};
use qemu_tests::media::{Layout, LiveImages, LiveRoot, LiveRootSpec, HOST_BUSYBOX};
use qemu_tests::qemu::{self, Console, Drive, QemuConfig};
use qemu_tests::{host, kernel::Kernel};

use crate::compress::Compression;
use crate::initramfs::{self, PackOptions};

const LABEL: &str = "LIVEINIT_DEMO";
/// Without a terminal the probe powers off by itself; this is the backstop.
const UNATTENDED_TIMEOUT: Duration = Duration::from_secs(300);

const HELP: &str = "\
usage: cargo xtask demo

Builds a live ISO labelled LIVEINIT_DEMO (a tiny root with a static busybox),
packs liveinit's initramfs for Debian's kernel and boots them in QEMU (TCG)
with the serial console on this terminal. On a terminal you get a shell in
the booted live system; otherwise the probe prints what it saw and powers off.
Ends with a summary: what the root is, which layer takes the writes, the
medium, and the time spent in the initramfs.
";

pub fn cmd(args: &[String]) -> Result<()> {
    if let Some(a) = args.first() {
        if a == "-h" || a == "--help" {
            print!("{HELP}");
            return Ok(());
        }
        bail!("unknown option '{a}'\n\n{HELP}");
    }
    host::ensure_all()?;
    let kernel = Kernel::fetch(&qemu_tests::kernel::default_cache_dir())?;
    let work = qemu_tests::out_dir().join("demo");
    let initrd = work.join("initramfs.img");
    initramfs::pack(&PackOptions {
        modules_dir: kernel.modules_dir.clone(),
        output: initrd.clone(),
        compression: Compression::Zstd,
        extra_files: Vec::new(),
        // A shell in the initramfs, so rd.break=… works in the demo too.
        busybox: Some(HOST_BUSYBOX.into()),
    })?;
    let probe = qemu_tests::build_probe()?;

    let spec = LiveRootSpec {
        probe,
        busybox: Some(HOST_BUSYBOX.into()),
        name: "liveinit demo".into(),
    };
    let root = LiveRoot::create(&work.join("root"), &spec)?;
    let iso = LiveImages::build(&root, Layout::FlatSquashfs, &work)?
        .iso(LABEL, &work.join("demo.iso"))?;

    let interactive = std::io::stdin().is_terminal();
    let mut append = format!("root=live:CDLABEL={LABEL}");
    if interactive {
        append.push_str(" liveinit.demo.shell");
    }
    // The console is this terminal, and a copy for the summary.
    let log = work.join("console.log");
    let cfg = QemuConfig::new(&kernel.vmlinuz, &initrd, &log)
        .console(Console::Tee(log.clone()))
        .append(&append)
        .drive(Drive::Cdrom(iso.path.clone()))
        .timeout((!interactive).then_some(UNATTENDED_TIMEOUT));

    println!("demo: kernel command line: {}", cfg.cmdline());
    if interactive {
        println!(
            "demo: booting {} (TCG: ~15 s). Leave with `exit` in the shell (powers off) \
             or Ctrl-A X (quits QEMU).",
            iso.path.display()
        );
    } else {
        println!(
            "demo: booting {} (TCG: ~15 s); stdin is not a terminal, so no shell: the probe \
             prints what the booted system sees and powers off (Ctrl-A X quits QEMU).",
            iso.path.display()
        );
    }
    let out = qemu::boot(&cfg)?;
    println!(
        "demo: QEMU exited after {:.0}s ({})",
        out.elapsed.as_secs_f64(),
        out.status
    );
    print!("{}", crate::demo_summary::summary(&out.log));
    Ok(())
}
