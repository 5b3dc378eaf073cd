//! The peak memory of one child process, measured so that nothing else in this test binary
//! counts.

use std::process::Command;

/// Runs `command` to its end; returns how it ended (its exit code, or minus the signal that
/// killed it) and its peak RSS (KiB).
///
/// The peak is the child's `VmHWM`, read from `/proc` when it stops on its way out (ptrace's
/// exit event). Neither `ru_maxrss` from `wait4` nor `getrusage(RUSAGE_CHILDREN)` would do:
/// Linux carries the parent's peak over into a child's at `exec`, and this test process holds
/// large inputs (and runs many tests at once); `RUSAGE_CHILDREN` is moreover the largest of every
/// child this process has waited for.
///
/// The child is reaped here; call this on the thread that owns the test (ptrace requests come
/// from the thread that forked the child).
pub fn run_for_peak_rss(command: &mut Command) -> (i32, i64) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: PTRACE_TRACEME only marks the child as traced by its parent; it is async-signal
    // safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| {
            if libc::ptrace(
                libc::PTRACE_TRACEME,
                0,
                std::ptr::null_mut::<libc::c_void>(),
                std::ptr::null_mut::<libc::c_void>(),
            ) == -1
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    // Reaped below with waitpid, after the ptrace exit stop; `Child::wait` would find it gone.
    #[allow(clippy::zombie_processes)]
    let child = command.spawn().expect("the child started");
    let pid = i32::try_from(child.id()).expect("a pid");
    let mut status = 0;
    let mut peak_kb = -1;
    // SAFETY: waitpid and ptrace on our own traced child, with valid pointers; the child is
    // reaped here and never waited for through `child`.
    unsafe {
        assert_eq!(libc::waitpid(pid, &mut status, 0), pid);
        assert!(libc::WIFSTOPPED(status), "stopped at exec");
        libc::ptrace(libc::PTRACE_SETOPTIONS, pid, 0, libc::PTRACE_O_TRACEEXIT);
        libc::ptrace(libc::PTRACE_CONT, pid, 0, 0);
        loop {
            assert_eq!(libc::waitpid(pid, &mut status, 0), pid, "{}", std::io::Error::last_os_error());
            if !libc::WIFSTOPPED(status) {
                break;
            }
            let signal = if status >> 8 == libc::SIGTRAP | libc::PTRACE_EVENT_EXIT << 8 {
                peak_kb = high_water_mark_kb(pid);
                0
            } else {
                libc::WSTOPSIG(status)
            };
            libc::ptrace(libc::PTRACE_CONT, pid, 0, signal);
        }
    }
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -libc::WTERMSIG(status) };
    assert!(peak_kb > 0, "the child's peak RSS was read");
    (code, peak_kb)
}

/// `VmHWM` (peak resident set size, KiB) of a process, from `/proc/PID/status`.
fn high_water_mark_kb(pid: i32) -> i64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(-1)
}
