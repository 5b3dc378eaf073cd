//! Process management: free ports, server processes in their own process
//! groups, reliable teardown, and a watchdog that kills the servers if the
//! owning (test) process dies without running `Drop`.

use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

/// A random `u64` (std's `RandomState` is seeded from the OS).
pub(crate) fn random_u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

// ---------------------------------------------------------------------------
// Ports
// ---------------------------------------------------------------------------

/// Ports handed out to live stacks of this process, so two stacks in one
/// test binary can never be given the same port.
static RESERVED_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

fn reserved() -> MutexGuard<'static, Option<HashSet<u16>>> {
    // A panic while holding this lock cannot leave the set inconsistent.
    RESERVED_PORTS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lower bound of the kernel's ephemeral port range (outgoing connections
/// and `bind(:0)` use ports from there).
fn ephemeral_port_start() -> u16 {
    fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|p| p.parse().ok()))
        .unwrap_or(32768)
}

/// Whether 127.0.0.1:`port` can be bound right now.
///
/// The probe socket is bound (with `SO_REUSEADDR`, as both servers do) but
/// never put into the listening state. A listening probe would be a hazard:
/// if another thread of this process forks while it exists, the child holds a
/// copy until it execs -- under load long enough to make the server's own
/// bind fail. A bound, non-listening copy does not block the server.
fn probe_bind(port: u16) -> io::Result<()> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())
}

/// Picks a port on 127.0.0.1 that is free right now and reserves it for this
/// process until [`release_port`].
///
/// Ports are chosen at random *below* the ephemeral range: a port from
/// `bind(:0)` may become the local port of some outgoing connection at any
/// time, which would make a later restart of a server on the same port fail.
pub(crate) fn reserve_port() -> Result<u16> {
    let high = ephemeral_port_start().max(12000);
    let low: u16 = 10000;
    let span = u64::from(high - low);
    for _ in 0..1000 {
        // `span` > 0 and the result is < high, so the cast cannot truncate.
        let port = low + (random_u64() % span) as u16;
        let mut guard = reserved();
        let set = guard.get_or_insert_with(HashSet::new);
        if !set.contains(&port) && probe_bind(port).is_ok() {
            set.insert(port);
            return Ok(port);
        }
    }
    bail!("no free port found on 127.0.0.1 between {low} and {high}")
}

/// Returns a port taken by [`reserve_port`].
pub(crate) fn release_port(port: u16) {
    if let Some(set) = reserved().as_mut() {
        set.remove(&port);
    }
}

/// Waits (up to 1 s) until 127.0.0.1:`port` can be bound; fails with an
/// "Address already in use" error otherwise. The wait covers sockets that
/// linger briefly, e.g. copies held by a process that has forked but not
/// yet exec'd.
pub(crate) fn check_port_free(port: u16, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        match probe_bind(port) {
            Ok(()) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(e).with_context(|| format!("{what}: cannot bind 127.0.0.1:{port}"));
            }
            Err(_) => thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub(crate) fn port_accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Connects to 127.0.0.1:`port` and reads the first line the server sends.
pub(crate) fn read_greeting(port: u16) -> io::Result<String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(200))?;
    s.set_read_timeout(Some(Duration::from_millis(1000)))?;
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while buf.len() < 4096 {
        match s.read(&mut byte)? {
            0 => break,
            _ if byte[0] == b'\n' => break,
            _ => buf.push(byte[0]),
        }
    }
    // Be polite: both IMAP and SMTP servers log rude disconnects.
    let quit: &[u8] = if buf.starts_with(b"*") { b"z LOGOUT\r\n" } else { b"QUIT\r\n" };
    let _ = s.write_all(quit);
    Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
}

// ---------------------------------------------------------------------------
// Users, ownership
// ---------------------------------------------------------------------------

/// Looks up a user's uid and primary gid in /etc/passwd.
pub(crate) fn lookup_user(name: &str) -> Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").context("reading /etc/passwd")?;
    for line in passwd.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 4 && f[0] == name {
            let uid = f[2].parse().context("bad uid in /etc/passwd")?;
            let gid = f[3].parse().context("bad gid in /etc/passwd")?;
            return Ok((uid, gid));
        }
    }
    bail!("user {name:?} not found in /etc/passwd (is the Debian package installed?)")
}

/// Looks up a group's gid in /etc/group.
pub(crate) fn lookup_group(name: &str) -> Result<u32> {
    let group = fs::read_to_string("/etc/group").context("reading /etc/group")?;
    for line in group.lines() {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() >= 3 && f[0] == name {
            return f[2].parse().context("bad gid in /etc/group");
        }
    }
    bail!("group {name:?} not found in /etc/group (is postfix installed?)")
}

/// `mkdir -p`, then chown and chmod the (last) directory.
pub(crate) fn make_dir(path: &Path, uid: u32, gid: u32, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).with_context(|| format!("chown {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).with_context(|| format!("chmod {}", path.display()))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Logs
// ---------------------------------------------------------------------------

/// Opens a log file for appending (shared by stdout, stderr and the server's
/// own log writer, so nothing overwrites anything).
pub(crate) fn open_log(path: &Path) -> Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening log file {}", path.display()))
}

/// Current size of a file (0 if missing).
pub(crate) fn file_len(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The part of a log file written after `offset`.
pub(crate) fn read_from(path: &Path, offset: u64) -> String {
    let mut out = Vec::new();
    if let Ok(mut f) = File::open(path) {
        if f.seek(SeekFrom::Start(offset)).is_ok() {
            let _ = f.read_to_end(&mut out);
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The last `lines` lines of a file, for error messages.
pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = read_from(path, 0);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let mut s = all[start..].join("\n");
    if s.is_empty() {
        s = format!("({} is empty or missing)", path.display());
    }
    s
}

// ---------------------------------------------------------------------------
// Server processes
// ---------------------------------------------------------------------------

/// A server (Dovecot or Postfix master) running in its own process group,
/// whose leader is `child`; all its worker processes stay in that group.
pub(crate) struct ServerProcess {
    name: &'static str,
    child: Child,
    /// == child's pid (the child is the group leader).
    pgid: i32,
    /// `sh` process that SIGKILLs the group when our process dies.
    watchdog: Option<Child>,
    /// Whether [`stop`](Self::stop) sends the first SIGTERM to the whole
    /// group rather than just the leader.
    term_group: bool,
    /// Whether `child` has been reaped (after which `pgid` must not be
    /// signalled any more: the number could be reused).
    reaped: bool,
}

impl ServerProcess {
    /// Spawns `cmd` in a new process group with stdout+stderr appended to
    /// `log`. `marker` is a string that appears in the leader's command line
    /// (the config path); the watchdog checks it before killing anything.
    /// `term_group`: see [`stop`](Self::stop). `cleanup`: a directory the
    /// watchdog removes after killing the server (the stack's temp dir).
    pub(crate) fn spawn(
        name: &'static str,
        mut cmd: Command,
        log: &Path,
        marker: &str,
        term_group: bool,
        cleanup: Option<&Path>,
    ) -> Result<Self> {
        let out = open_log(log)?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(Stdio::from(out)).stderr(Stdio::from(err)).process_group(0);
        let child = cmd.spawn().with_context(|| format!("spawning {name}: {cmd:?}"))?;
        let pgid = i32::try_from(child.id()).map_err(|_| anyhow!("pid out of range"))?;
        let mut server = ServerProcess { name, child, pgid, watchdog: None, term_group, reaped: false };
        // A missing watchdog only matters if the test process is killed, so it
        // is not worth failing the start for.
        server.watchdog = spawn_watchdog(pgid, marker, cleanup).ok();
        Ok(server)
    }

    /// Whether the group leader has exited (without reaping it, so the pid —
    /// and with it the process group id — stays reserved).
    pub(crate) fn leader_exited(&self) -> bool {
        if self.reaped {
            return true;
        }
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: plain syscall on our own child with a zeroed out-parameter.
        let rc = unsafe {
            libc::waitid(libc::P_PID, self.pgid as libc::id_t, &mut info, libc::WEXITED | libc::WNOHANG | libc::WNOWAIT)
        };
        if rc != 0 {
            // ECHILD: already reaped elsewhere; treat as exited.
            return true;
        }
        // SAFETY: waitid filled in (or left zeroed) the siginfo.
        unsafe { info.si_pid() != 0 }
    }

    /// Number of live (non-zombie) processes in the server's process group.
    fn live_members(&self) -> usize {
        live_group_members(self.pgid)
    }

    /// Sends `sig` to the leader only (`group == false`) or to the whole
    /// process group.
    fn signal(&self, sig: libc::c_int, group: bool) {
        if !self.reaped {
            let target = if group { -self.pgid } else { self.pgid };
            // SAFETY: kill(2) on our own, not yet reaped, child / its group
            // (an unreaped child keeps its pid, and so the group id, reserved).
            unsafe {
                libc::kill(target, sig);
            }
        }
    }

    /// Stops the server: SIGTERM (to the leader, or to the whole group if
    /// the server was spawned with `term_group`), up to `grace` for every
    /// process to exit, then SIGKILL to the whole group. Returns once no
    /// process of the group is alive any more. Idempotent.
    pub(crate) fn stop(&mut self, grace: Duration) -> Result<()> {
        if !self.reaped {
            self.signal(libc::SIGTERM, self.term_group);
            if !self.wait_gone(Instant::now() + grace) {
                self.signal(libc::SIGKILL, true);
                if !self.wait_gone(Instant::now() + Duration::from_secs(10)) {
                    bail!("{}: processes of group {} still alive after SIGKILL", self.name, self.pgid);
                }
            }
            self.child.wait().with_context(|| format!("reaping {}", self.name))?;
            self.reaped = true;
        }
        self.kill_watchdog();
        Ok(())
    }

    /// Polls until the leader has exited and no other group member is alive,
    /// or `deadline` passes. Returns whether everything is gone.
    fn wait_gone(&self, deadline: Instant) -> bool {
        loop {
            if self.leader_exited() && self.live_members() == 0 {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn kill_watchdog(&mut self) {
        if let Some(mut w) = self.watchdog.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.stop(Duration::from_secs(3));
        // Even if stop failed: dropping a live watchdog's stdin would make it
        // act as if this process had died.
        self.kill_watchdog();
    }
}

/// Counts non-zombie processes whose process group is `pgid` (via /proc).
pub(crate) fn live_group_members(pgid: i32) -> usize {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = fs::read_to_string(format!("/proc/{name}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ..." -- comm may contain anything, so
        // parse from the last ')'.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let mut fields = stat[close + 1..].split_whitespace();
        let state = fields.next().unwrap_or("");
        let _ppid = fields.next();
        let pgrp: i32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(-1);
        if pgrp == pgid && state != "Z" && state != "X" {
            n += 1;
        }
    }
    n
}

/// Spawns a tiny `sh` that blocks reading a pipe whose write end only this
/// process holds. When this process dies for any reason (SIGKILL, abort,
/// Ctrl-C), the pipe closes and the watchdog SIGKILLs the server's process
/// group — provided the group leader is still the server (its command line
/// contains `marker`), so a recycled pid is never hit — and then removes
/// `cleanup`, if given.
fn spawn_watchdog(pgid: i32, marker: &str, cleanup: Option<&Path>) -> Result<Child> {
    // dash: no `--` for the kill builtin.
    const SCRIPT: &str = r#"trap '' INT HUP TERM QUIT PIPE
while read -r _; do :; done
if grep -qF -- "$1" "/proc/$2/cmdline" 2>/dev/null; then
  kill -KILL "-$2" 2>/dev/null
fi
if [ -n "$3" ]; then
  sleep 0.5
  rm -rf -- "$3"
fi"#;
    let child = Command::new("/bin/sh")
        .arg("-c")
        .arg(SCRIPT)
        .arg("mailstack-watchdog")
        .arg(marker)
        .arg(pgid.to_string())
        .arg(cleanup.map(|p| p.as_os_str()).unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Own group: a Ctrl-C on the terminal must not reach it.
        .process_group(0)
        .spawn()
        .context("spawning watchdog")?;
    // The `ChildStdin` (write end, close-on-exec) stays in `child`.
    Ok(child)
}

/// Absolute path of a Postfix/Dovecot binary, or a helpful error.
pub(crate) fn require_binary(path: &str, package: &str) -> Result<PathBuf> {
    let p = PathBuf::from(path);
    if p.exists() {
        Ok(p)
    } else {
        bail!("{path} not found; install the Debian package(s): {package}")
    }
}
