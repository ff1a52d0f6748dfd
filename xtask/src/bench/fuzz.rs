//! The long fuzz run that closes the benchmark: the ignored tests of the
//! pure core (command line, probes), in release mode.

use anyhow::Result;

pub fn long_fuzz() -> Result<()> {
    eprintln!("bench: long fuzz run of the command line and the probes");
    let mut cmd = qemu_tests::cargo();
    cmd.current_dir(qemu_tests::workspace_root()).args([
        "test",
        "--release",
        "-p",
        "liveinit",
        "--lib",
        "--",
        "--ignored",
        "long_fuzz",
    ]);
    qemu_tests::run_streamed(&mut cmd)
}
