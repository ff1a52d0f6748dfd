//! The failure policy: bad options, rd.break points, rd.shell, the
//! emergency action.

#[allow(unused_imports)]
use crate::prelude::*;

use super::*;

#[test]
fn a_bad_command_line_stops_at_the_cmdline_stage() {
    let sys = live_machine("root=/dev/sda1");
    let err = boot(&sys);
    assert_eq!(err.stage, Stage::Cmdline);
    assert!(
        matches!(
            err.cause,
            Cause::Config(crate::config::ConfigError::NotLive(_))
        ),
        "{err}"
    );
}

#[test]
fn emergency_pauses_then_powers_off() {
    let sys = FakeSys::new();
    let err = BootError::new(Stage::FindMedium, "LABEL=x", Cause::NoFilesystem);
    emergency::fatal(&sys, &Policy::default(), &err);
    assert_eq!(sys.now(), emergency::PAUSE);
    assert_eq!(sys.calls_starting("power"), ["power poweroff"]);
    assert!(sys.calls_starting("shell").is_empty());
}

#[test]
fn bad_option_values_stop_the_boot_naming_the_option() {
    for (value, shown) in [("abc", "abc"), ("0", "0"), ("-5", "-5")] {
        let sys = nested_machine(&format!(
            r"root=live:CDLABEL=My\x20Disk rd.live.overlay.size={value}"
        ));
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::Cmdline);
        assert!(
            err.to_string().contains(&format!(
                "rd.live.overlay.size={shown}: expected a size in MiB"
            )),
            "{err}"
        );
        assert!(sys.calls_starting("mount /dev/sr0").is_empty());
    }
}

#[test]
fn each_break_point_opens_a_shell_then_the_boot_goes_on() {
    let expectations = [
        ("cmdline", "load"),
        ("pre-udev", "read /dev/sr0"),
        ("pre-trigger", "read /dev/sr0"),
        ("initqueue", "read /dev/sr0"),
        ("pre-mount", "mount /dev/sr0"),
        ("mount", "attach /run/initramfs/squashfs/LiveOS/rootfs.img"),
        ("pre-pivot", "switch_root"),
        ("cleanup", "switch_root"),
    ];
    for (point, comes_after) in expectations {
        let sys = with_shell(nested_machine(&format!(
            r"root=live:CDLABEL=My\x20Disk rd.break={point}"
        )));
        sys.file(crate::contract::MODULES_LOAD, b"/lib/modules/k/a.ko\n");
        let err = boot(&sys);
        assert_eq!(err.stage, Stage::ExecInit, "{point}: {err}");
        let calls = sys.calls();
        let shell = calls
            .iter()
            .position(|c| c == &format!("shell /bin/sh (rd.break={point})"))
            .unwrap_or_else(|| panic!("{point}: no shell in {calls:#?}"));
        let next = calls
            .iter()
            .position(|c| c.starts_with(comes_after))
            .unwrap_or_else(|| panic!("{point}: no {comes_after}"));
        assert!(
            shell < next,
            "{point}: shell must come before {comes_after}"
        );
    }
}

#[test]
fn a_bare_break_stops_just_before_the_switch() {
    let sys = with_shell(live_machine(r"root=live:CDLABEL=My\x20Disk rd.break"));
    let _ = boot(&sys);
    let calls = sys.calls();
    let shell = calls
        .iter()
        .position(|c| c == "shell /bin/sh (rd.break)")
        .unwrap();
    let switch = calls
        .iter()
        .position(|c| c == "switch_root /sysroot")
        .unwrap();
    assert_eq!(shell + 1, switch, "{calls:#?}");
}

#[test]
fn a_break_without_a_shell_is_an_error_naming_the_way_out() {
    let sys = live_machine(r"root=live:CDLABEL=My\x20Disk rd.break=pre-mount rd.emergency=reboot");
    let (err, policy) = boot_with_policy(&sys);
    assert_eq!(err.stage, Stage::Break);
    assert_eq!(err.subject, "rd.break=pre-mount");
    assert_eq!(err.cause, Cause::NoShell);
    assert!(sys.calls_starting("mount /dev/sr0").is_empty());
    emergency::fatal(&sys, &policy, &err);
    assert_eq!(sys.calls_starting("power"), ["power reboot"]);
}

#[test]
fn rd_shell_offers_a_shell_on_fatal_errors_then_acts() {
    let sys = with_shell(live_machine(
        "root=live:CDLABEL=NOPE rd.retry=1 rd.shell rd.emergency=halt",
    ));
    let (err, policy) = boot_with_policy(&sys);
    emergency::fatal(&sys, &policy, &err);
    let calls = sys.calls();
    let shell = calls
        .iter()
        .position(|c| c == "shell /bin/sh (emergency)")
        .unwrap();
    let power = calls.iter().position(|c| c == "power halt").unwrap();
    assert!(shell < power);
}

#[test]
fn fatal_errors_without_rd_shell_start_no_shell_even_if_there_is_one() {
    let sys = with_shell(live_machine("root=live:CDLABEL=NOPE rd.retry=1"));
    let (err, policy) = boot_with_policy(&sys);
    emergency::fatal(&sys, &policy, &err);
    assert!(sys.calls_starting("shell").is_empty());
    assert_eq!(sys.calls_starting("power"), ["power poweroff"]);
}

#[test]
fn the_policy_applies_even_when_the_live_options_are_wrong() {
    let sys = live_machine("root=/dev/sda1 rd.emergency=reboot");
    let (err, policy) = boot_with_policy(&sys);
    assert_eq!(err.stage, Stage::Cmdline);
    assert_eq!(policy.action, crate::policy::EmergencyAction::Reboot);
}
