//! The Debian package, as an administrator meets it: built by `scripts/build-deb --binary` from
//! the binary cargo built for the tests (shared by both tests), installed on this machine with `dpkg -i`, looked at, its units
//! checked with `systemd-analyze`, removed, purged, and the system user deleted, so the machine
//! ends as it began.
//!
//! PID 1 here is not systemd (nor in CI), so the service is not started: the units are checked
//! statically (`systemd-analyze verify` and `security --offline=yes`), and the installed binary
//! is run by hand as the service user. Needs root (or password-less sudo), dpkg-dev, binutils,
//! systemd (for systemd-analyze), adduser and init-system-helpers: `scripts/install-deps`.
//!
//! The test refuses to run on a machine where smebridge is installed, or its user, state or
//! configuration directory exists: purging them would destroy someone's desk.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Instant;

const UNITS: [&str; 3] = ["smebridge.service", "smebridge-backup.service", "smebridge-backup.timer"];
const UNIT_DIR: &str = "/usr/lib/systemd/system";
const CONFIG: &str = "/etc/smebridge/smebridge.toml";
const TEMPLATES: &str = "/etc/smebridge/templates";
const STATE: &str = "/var/lib/smebridge";

/// The highest exposure `systemd-analyze security` may give each service (it rates 0 to 10;
/// README: 1.2 and 0.3 on systemd 252).
const MAX_EXPOSURE: [(&str, f64); 2] = [("smebridge.service", 1.5), ("smebridge-backup.service", 0.5)];

/// The .deb, built once for every test in this file.
fn deb() -> &'static Path {
    static DEB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DEB.get_or_init(|| {
        let out = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let started = Instant::now();
        // The binary cargo built for these tests, packaged with `--binary`: the package is what
        // is under test here, and a second, release build of the whole crate would cost CI
        // several minutes (`scripts/build-deb` without `--binary` does exactly that).
        let built = Command::new(repo.join("scripts/build-deb"))
            .arg("--binary")
            .arg(env!("CARGO_BIN_EXE_smebridge"))
            .arg("--out")
            .arg(out.path())
            .current_dir(repo)
            .stdin(Stdio::null())
            .output()
            .expect("scripts/build-deb must start");
        // Not an assertion: how long the packaging took, for the record.
        eprintln!("scripts/build-deb --binary (dpkg-deb) took {:.0} s", started.elapsed().as_secs_f64());
        assert!(built.status.success(), "scripts/build-deb failed:\n{}", text(&built));
        let stdout = String::from_utf8(built.stdout).unwrap();
        let deb = PathBuf::from(stdout.lines().last().expect("build-deb prints the .deb's path").trim());
        assert!(deb.starts_with(out.path()) && deb.exists(), "{}", deb.display());
        let name = deb.file_name().unwrap().to_string_lossy().into_owned();
        let version = env!("CARGO_PKG_VERSION");
        assert!(name.starts_with(&format!("smebridge_{version}-1_")) && name.ends_with(".deb"), "{name}");
        (out, deb)
    })
    .1
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `program args…`, as root: directly when this is root, else through `sudo -n`.
fn as_root(program: &str, args: &[&str]) -> Command {
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    let mut command = if unsafe { libc::geteuid() } == 0 {
        Command::new(program)
    } else {
        let mut sudo = Command::new("sudo");
        sudo.arg("-n").arg(program);
        sudo
    };
    command.args(args).stdin(Stdio::null()).current_dir("/");
    command
}

fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    command.output().unwrap_or_else(|e| panic!("{shown} must start: {e}"))
}

fn succeeds(command: Command) -> String {
    let shown = format!("{command:?}");
    let out = run(command);
    assert!(out.status.success(), "{shown} failed:\n{}", text(&out));
    text(&out)
}

fn dpkg_deb(args: &[&str]) -> String {
    let mut command = Command::new("dpkg-deb");
    command.args(args).arg(deb());
    succeeds(command)
}

/// The `/etc/passwd` or `/etc/group` line for `name`.
fn account(file: &str, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().find(|l| l.split(':').next() == Some(name)).map(str::to_owned)
}

/// dpkg's state for the package: `install ok installed`, `deinstall ok config-files`, or
/// `None` when dpkg does not know it.
fn package_status() -> Option<String> {
    let out = run({
        let mut c = Command::new("dpkg-query");
        c.args(["-W", "-f=${Status}", "smebridge"]);
        c
    });
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned()).filter(|s| !s.is_empty())
}

/// `(mode, uid, gid)` of a path (not following a symlink).
fn owner_and_mode(path: &str) -> (u32, u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (meta.permissions().mode() & 0o7777, meta.uid(), meta.gid())
}

fn systemd_links() -> Vec<String> {
    let mut found = Vec::new();
    for dir in [
        "/etc/systemd/system",
        "/var/lib/systemd/deb-systemd-helper-enabled",
        "/var/lib/systemd/deb-systemd-helper-masked",
    ] {
        let out = Command::new("find").args([dir, "-name", "*smebridge*"]).output().unwrap();
        found.extend(String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned));
    }
    found
}

/// Purges the package and deletes the user if the test stops half-way, so that a failure does
/// not leave the machine changed.
struct Cleanup {
    done: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.done {
            let _ = as_root("dpkg", &["--purge", "smebridge"]).output();
            if account("/etc/passwd", "smebridge").is_some() {
                let _ = as_root("deluser", &["--system", "smebridge"]).output();
            }
        }
    }
}

#[test]
fn the_package_holds_the_binary_the_conffiles_and_the_units() {
    let control = dpkg_deb(&["--info"]);
    let field = |name: &str| {
        control
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in:\n{control}"))
            .to_owned()
    };
    assert_eq!(field("Package"), "smebridge");
    assert_eq!(field("Version"), format!("{}-1", env!("CARGO_PKG_VERSION")));
    let depends = field("Depends");
    assert!(depends.contains("libc6 (>=") && depends.ends_with(", adduser"), "{depends}");
    assert_eq!(field("Section"), "mail");

    // The configuration and every template are conffiles: dpkg keeps what the admin changed.
    let mut command = Command::new("dpkg-deb");
    command.arg("--info").arg(deb()).arg("conffiles");
    let conffiles: Vec<String> = succeeds(command).lines().map(str::to_owned).collect();
    let mut expected = vec![CONFIG.to_owned()];
    for entry in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates")).unwrap() {
        expected.push(format!("{TEMPLATES}/{}", entry.unwrap().file_name().to_string_lossy()));
    }
    expected.sort();
    assert_eq!(conffiles, expected);
    assert_eq!(conffiles.len(), 1 + shipped_templates());

    // Every file with its mode and owner (dpkg-deb --root-owner-group: root:root).
    let contents = dpkg_deb(&["--contents"]);
    let entry = |path: &str| {
        contents
            .lines()
            .find(|l| l.ends_with(&format!(" .{path}")))
            .unwrap_or_else(|| panic!("{path} is not in the package:\n{contents}"))
            .to_owned()
    };
    for (path, mode) in [
        ("/usr/bin/smebridge", "-rwxr-xr-x"),
        (CONFIG, "-rw-r--r--"),
        ("/etc/smebridge/templates/ack.ko.txt.j2", "-rw-r--r--"),
        ("/usr/lib/systemd/system/smebridge.service", "-rw-r--r--"),
        ("/usr/lib/systemd/system/smebridge-backup.service", "-rw-r--r--"),
        ("/usr/lib/systemd/system/smebridge-backup.timer", "-rw-r--r--"),
        ("/usr/share/doc/smebridge/README.md", "-rw-r--r--"),
        ("/usr/share/doc/smebridge/copyright", "-rw-r--r--"),
    ] {
        let line = entry(path);
        assert!(line.starts_with(&format!("{mode} root/root ")), "{line}");
    }
    assert!(contents.lines().all(|l| l.contains(" root/root ")), "{contents}");
    // The state directory is made by postinst (owned by a user that does not exist yet).
    assert!(!contents.contains("./var/lib/smebridge"), "{contents}");
    // The shipped units are the repository's files.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let extracted = tempfile::tempdir().unwrap();
    let mut command = Command::new("dpkg-deb");
    command.arg("--extract").arg(deb()).arg(extracted.path());
    succeeds(command);
    for unit in UNITS {
        let shipped = std::fs::read(extracted.path().join("usr/lib/systemd/system").join(unit)).unwrap();
        assert_eq!(shipped, std::fs::read(repo.join("packaging").join(unit)).unwrap(), "{unit}");
    }
    // Stripped: no symbol table.
    let out = run({
        let mut c = Command::new("nm");
        c.arg(extracted.path().join("usr/bin/smebridge"));
        c
    });
    assert!(text(&out).contains("no symbols"), "{}", text(&out));
}

#[test]
fn installed_with_dpkg_the_desk_has_its_user_private_state_and_hardened_units_and_purge_cleans_up() {
    // Nothing of smebridge may be on this machine: the test ends by purging it.
    assert_eq!(package_status(), None, "smebridge is installed here; the test would purge it");
    assert_eq!(account("/etc/passwd", "smebridge"), None, "a user smebridge exists; the test would delete it");
    assert_eq!(account("/etc/group", "smebridge"), None, "a group smebridge exists; the test would delete it");
    for dir in [STATE, "/etc/smebridge"] {
        assert!(!Path::new(dir).exists(), "{dir} exists; the test would delete it");
    }
    assert_eq!(systemd_links(), Vec::<String>::new());
    let passwd_before = std::fs::read_to_string("/etc/passwd").unwrap();
    let group_before = std::fs::read_to_string("/etc/group").unwrap();
    let deb = deb().to_str().unwrap().to_owned();
    let mut cleanup = Cleanup { done: false };

    // Install.
    let installed = succeeds(as_root("dpkg", &["--install", &deb]));
    assert!(installed.contains("Setting up smebridge"), "{installed}");
    assert_eq!(package_status().as_deref(), Some("install ok installed"));

    // The system user: its own group, no login, home = the state directory.
    let user = account("/etc/passwd", "smebridge").expect("postinst creates the user smebridge");
    let fields: Vec<&str> = user.split(':').collect();
    let (uid, gid): (u32, u32) = (fields[2].parse().unwrap(), fields[3].parse().unwrap());
    assert!(uid < 1000, "a system user: {user}");
    assert_eq!(fields[5], STATE, "{user}");
    assert_eq!(fields[6], "/usr/sbin/nologin", "{user}");
    let group = account("/etc/group", "smebridge").expect("and its group");
    assert_eq!(group.split(':').nth(2), Some(gid.to_string().as_str()), "{group}");

    // Files, modes, owners.
    assert_eq!(owner_and_mode("/usr/bin/smebridge"), (0o755, 0, 0));
    assert_eq!(owner_and_mode("/etc/smebridge"), (0o755, 0, 0));
    assert_eq!(owner_and_mode(CONFIG), (0o644, 0, 0));
    let templates: Vec<_> = std::fs::read_dir(TEMPLATES).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(templates.len(), shipped_templates());
    for template in &templates {
        assert_eq!(owner_and_mode(template.to_str().unwrap()), (0o644, 0, 0), "{}", template.display());
    }
    for unit in UNITS {
        assert_eq!(owner_and_mode(&format!("{UNIT_DIR}/{unit}")), (0o644, 0, 0), "{unit}");
    }
    assert_eq!(owner_and_mode(STATE), (0o700, uid, gid), "the database directory is the service user's alone");
    let listed = succeeds(as_root("dpkg", &["--listfiles", "smebridge"]));
    for path in ["/usr/bin/smebridge", CONFIG, "/usr/share/doc/smebridge/README.md"] {
        assert!(listed.lines().any(|l| l == path), "{path} not in dpkg -L:\n{listed}");
    }
    // Not enabled (it needs a filled-in configuration); the backup timer is.
    let links = systemd_links();
    assert!(links.contains(&"/etc/systemd/system/timers.target.wants/smebridge-backup.timer".to_owned()), "{links:?}");
    assert!(
        !links.iter().any(|l| l.starts_with("/etc/systemd/system/") && l.ends_with("/smebridge.service")),
        "{links:?}"
    );

    // The installed binary runs.
    let version = succeeds({
        let mut c = Command::new("/usr/bin/smebridge");
        c.arg("--version");
        c
    });
    assert_eq!(version.trim(), format!("smebridge {}", env!("CARGO_PKG_VERSION")));

    // `check` as the service user, before anything is filled in: the configuration and the
    // templates are fine, the database directory is ready, and each server line says which
    // password it could not read (outside systemd there are no credentials). It stops there,
    // before any connection, and fails: exit status 1, not a crash.
    let mut check = as_root("runuser", &["-u", "smebridge", "--", "/usr/bin/smebridge", "check", "--config", CONFIG]);
    check.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    let out = run(check);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 7, "{stdout}");
    assert_eq!(lines[0], "ok      configuration");
    assert_eq!(lines[1], format!("ok      reply templates: all {} from {TEMPLATES}", shipped_templates()));
    assert_eq!(lines[2], "ok      database");
    assert_eq!(lines[3], "ok      database integrity: no database yet");
    assert!(lines[4].starts_with("ok      disk space: ") && lines[4].ends_with(&format!("at {STATE}")), "{stdout}");
    assert!(lines[5].starts_with("FAILED  IMAP login and mailbox: cannot read the IMAP password"), "{stdout}");
    assert!(lines[6].starts_with("FAILED  SMTP connection: cannot read the SMTP password"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(std::fs::read_dir(STATE).unwrap().count(), 0, "check creates nothing");

    // The units: `verify` exits 0 on an unknown key or syscall group and only prints it, so any
    // output at all fails the test.
    let paths: Vec<String> = UNITS.iter().map(|u| format!("{UNIT_DIR}/{u}")).collect();
    let mut verify = Command::new("systemd-analyze");
    verify.arg("verify").args(&paths).env_remove("SYSTEMD_LOG_LEVEL");
    let out = run(verify);
    assert!(out.status.success() && text(&out).is_empty(), "systemd-analyze verify:\n{}", text(&out));
    for (unit, max) in MAX_EXPOSURE {
        let threshold = format!("--threshold={}", (max * 10.0).round() as u32);
        let mut security = Command::new("systemd-analyze");
        security.args(["security", "--offline=yes", "--no-pager", &threshold]).arg(format!("{UNIT_DIR}/{unit}"));
        let out = run(security);
        let report = text(&out);
        let score: f64 = report
            .lines()
            .find_map(|l| l.split_once(&format!("Overall exposure level for {unit}: ")))
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no exposure level for {unit}:\n{report}"));
        eprintln!("systemd-analyze security --offline=yes {unit}: {score}");
        assert!(score <= max, "{unit}: exposure {score} > {max}:\n{report}");
        assert!(out.status.success(), "{unit}: over the threshold:\n{report}");
    }

    // Remove: binary and units go; configuration, state directory and user stay.
    succeeds(as_root("dpkg", &["--remove", "smebridge"]));
    assert_eq!(package_status().as_deref(), Some("deinstall ok config-files"));
    assert!(!Path::new("/usr/bin/smebridge").exists());
    assert!(!Path::new(&format!("{UNIT_DIR}/smebridge.service")).exists());
    assert!(Path::new(CONFIG).exists() && Path::new(STATE).is_dir());
    assert!(account("/etc/passwd", "smebridge").is_some());

    // Purge: configuration and state (applicants' personal data) go; the user stays, as Debian
    // keeps system users (README); deleting it is the admin's step, done here.
    let purged = succeeds(as_root("dpkg", &["--purge", "smebridge"]));
    assert!(purged.contains("purging /var/lib/smebridge"), "{purged}");
    assert_eq!(package_status(), None);
    assert!(!Path::new("/etc/smebridge").exists());
    assert!(!Path::new(STATE).exists());
    assert_eq!(systemd_links(), Vec::<String>::new());
    assert!(account("/etc/passwd", "smebridge").is_some(), "purge keeps the system user");
    succeeds(as_root("deluser", &["--system", "smebridge"]));
    cleanup.done = true;

    assert_eq!(account("/etc/passwd", "smebridge"), None);
    assert_eq!(account("/etc/group", "smebridge"), None, "deluser removes the empty group too");
    assert_eq!(std::fs::read_to_string("/etc/passwd").unwrap(), passwd_before);
    assert_eq!(std::fs::read_to_string("/etc/group").unwrap(), group_before);
}

/// How many reply templates the repository ships (`config/templates/`): the package installs
/// each one.
fn shipped_templates() -> usize {
    std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("config/templates")).unwrap().count()
}
