//! How a worker is confined: bubblewrap under an unprivileged uid (preferred), the Landlock
//! fallback (uid drop + Landlock + seccomp + rlimits) where user namespaces are missing, or
//! nothing at all when the caller explicitly asked for `unsafe_no_isolation`.
//!
//! Measured choices (see the infra feasibility report): bubblewrap run as root maps the inside uid
//! to host uid 0 (then `/etc/shadow` is readable and `RLIMIT_NPROC` is ignored), so the uid is
//! always dropped *before* bubblewrap starts; each worker slot gets a uid of its own because
//! `RLIMIT_NPROC` counts every process of a uid system-wide; only `/usr`, the venv and the
//! fork-server are bound, never `/` or `/run` (host unix sockets stay unreachable).

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::uid_lease::UidLease;
use crate::{SandboxConfig, SandboxError};

/// Which isolation the caller wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IsolationPolicy {
    /// Bubblewrap if it works, else the Landlock fallback, else refuse to start.
    #[default]
    Auto,
    /// Bubblewrap or refuse to start.
    Bubblewrap,
    /// The Landlock fallback or refuse to start (also useful to test the fallback).
    Landlock,
    /// Run snippets with rlimits only: model code can touch the host. Development only.
    UnsafeNoIsolation,
}

/// The isolation the service actually runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsolationMode {
    /// Each worker is a bubblewrap sandbox (all namespaces, no network, private /tmp).
    Bubblewrap { bwrap: PathBuf },
    /// Each worker is confined in-process: uid drop, Landlock, seccomp and rlimits.
    Landlock { abi: i32 },
    /// No isolation (explicitly requested).
    Unsafe,
}

impl IsolationMode {
    /// A short name for logs and `/health`.
    pub fn name(&self) -> &'static str {
        match self {
            IsolationMode::Bubblewrap { .. } => "bubblewrap",
            IsolationMode::Landlock { .. } => "landlock",
            IsolationMode::Unsafe => "none",
        }
    }
}

/// Chooses the isolation mode by probing what works on this machine (as root, bubblewrap is
/// tried under `base_uid`; a starting service probes under a uid of its own lease instead).
pub fn probe(config: &SandboxConfig) -> Result<IsolationMode, SandboxError> {
    let uid = (unsafe { libc::geteuid() } == 0).then_some(config.base_uid);
    probe_as(config, uid)
}

pub(crate) fn probe_as(
    config: &SandboxConfig,
    uid: Option<u32>,
) -> Result<IsolationMode, SandboxError> {
    let bwrap = || -> Result<IsolationMode, String> {
        let path = ["/usr/bin/bwrap", "/bin/bwrap"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .ok_or_else(|| "bwrap is not installed".to_string())?;
        probe_bwrap(&path, uid).map(|()| IsolationMode::Bubblewrap { bwrap: path })
    };
    let landlock = || -> Result<IsolationMode, String> {
        let abi = landlock_abi();
        if abi < 1 {
            return Err("the kernel has no Landlock".into());
        }
        if unsafe { libc::geteuid() } != 0 {
            return Err("the Landlock fallback needs root to drop to a slot uid".into());
        }
        Ok(IsolationMode::Landlock { abi })
    };
    match config.isolation {
        IsolationPolicy::Bubblewrap => {
            bwrap().map_err(|reason| SandboxError::IsolationUnavailable {
                mode: "bubblewrap",
                reason,
            })
        }
        IsolationPolicy::Landlock => {
            landlock().map_err(|reason| SandboxError::IsolationUnavailable {
                mode: "landlock",
                reason,
            })
        }
        IsolationPolicy::UnsafeNoIsolation => Ok(IsolationMode::Unsafe),
        IsolationPolicy::Auto => bwrap().or_else(|b| {
            landlock().map_err(|l| SandboxError::NoIsolation {
                reason: format!("bubblewrap: {b}; landlock: {l}"),
            })
        }),
    }
}

fn landlock_abi() -> i32 {
    // landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION) returns the ABI version.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            1u32,
        )
    };
    r as i32
}

fn probe_bwrap(bwrap: &Path, uid: Option<u32>) -> Result<(), String> {
    let mut cmd = std::process::Command::new(bwrap);
    cmd.args([
        "--unshare-all",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
        "--symlink",
        "usr/lib",
        "/lib",
        "--symlink",
        "usr/lib64",
        "/lib64",
        "/usr/bin/true",
    ])
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::piped());
    let limits = PreExec {
        uid,
        ..PreExec::default()
    };
    unsafe {
        cmd.pre_exec(move || limits.apply());
    }
    let out = cmd.output().map_err(|e| format!("running bwrap: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "bwrap probe failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// What runs between `fork` and `exec` of a worker: only async-signal-safe calls, everything
/// allocated beforehand.
#[derive(Default, Clone, Copy)]
pub(crate) struct PreExec {
    pub(crate) uid: Option<u32>,
    pub(crate) nproc: u64,
    pub(crate) fsize: u64,
    pub(crate) nofile: u64,
    pub(crate) address_space: u64,
    /// (source fd, target fd) pairs to dup2 (seccomp programs for bwrap).
    pub(crate) fds: [(i32, i32); 3],
    pub(crate) nfds: usize,
}

impl PreExec {
    pub(crate) fn apply(&self) -> std::io::Result<()> {
        fn check(r: i32) -> std::io::Result<()> {
            if r < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
        unsafe {
            // The worker dies with the service, even if the service is SIGKILLed.
            check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0))?;
            // Seccomp programs onto their target fds: first every source is copied above the
            // targets, then dup2'ed onto them. A source may itself sit on a target number (fd 3
            // is often free when the file is opened), and dup2(fd, fd) would leave close-on-exec
            // set: bwrap would find it closed. Done before RLIMIT_NOFILE is lowered, as the
            // copies need free descriptors under the parent's limit.
            let mut high = [-1i32; 3];
            for (i, &(from, _)) in self.fds[..self.nfds].iter().enumerate() {
                high[i] = libc::fcntl(from, libc::F_DUPFD_CLOEXEC, 8);
                check(high[i])?;
            }
            for (i, &(_, to)) in self.fds[..self.nfds].iter().enumerate() {
                // dup2 clears close-on-exec on the target, so bwrap inherits it.
                check(libc::dup2(high[i], to))?;
            }
            let set = |res, v: u64| {
                if v == 0 {
                    return Ok(());
                }
                let lim = libc::rlimit {
                    rlim_cur: v,
                    rlim_max: v,
                };
                check(libc::setrlimit(res, &lim))
            };
            set(libc::RLIMIT_NPROC, self.nproc)?;
            set(libc::RLIMIT_FSIZE, self.fsize)?;
            set(libc::RLIMIT_NOFILE, self.nofile)?;
            set(libc::RLIMIT_AS, self.address_space)?;
            let core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            check(libc::setrlimit(libc::RLIMIT_CORE, &core))?;
            if let Some(uid) = self.uid {
                check(libc::setgroups(0, std::ptr::null()))?;
                check(libc::setgid(uid))?;
                check(libc::setuid(uid))?;
                // Paranoia: make sure root cannot be regained.
                if libc::setuid(0) == 0 {
                    return Err(std::io::Error::other("could not drop root"));
                }
            }
            check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
        }
        Ok(())
    }
}

/// Everything needed to start a slot's worker; built once by the service.
pub(crate) struct Launch {
    pub(crate) mode: IsolationMode,
    /// The service's own uids when it runs as root (slot `i` runs as `uids.uid(i)`); without
    /// root, workers run as the service's uid (it cannot switch; slots share `RLIMIT_NPROC`).
    pub(crate) uids: Option<UidLease>,
    pub(crate) venv: PathBuf,
    pub(crate) python: PathBuf,
    pub(crate) script: PathBuf,
    pub(crate) runtime_dir: PathBuf,
    /// Seccomp programs, one file each, opened per spawn.
    pub(crate) seccomp_files: Vec<PathBuf>,
    pub(crate) seccomp: crate::seccomp::Filters,
}

/// A started worker process and what it needs to be killed for good.
pub(crate) struct Spawned {
    pub(crate) child: tokio::process::Child,
    /// The uid all of this worker's processes run as, when it is a slot uid of their own.
    pub(crate) slot_uid: Option<u32>,
}

impl Launch {
    /// Starts the worker of `slot`. The returned child has piped stdin/stdout/stderr.
    pub(crate) fn spawn(
        &self,
        config: &SandboxConfig,
        slot: usize,
    ) -> Result<Spawned, SandboxError> {
        let uid = self.uids.as_ref().map(|l| l.uid(slot));
        let mut pre = PreExec {
            uid,
            nproc: config.max_processes,
            fsize: config.max_file_size_bytes,
            nofile: 256,
            address_space: config.memory_limit_bytes,
            ..PreExec::default()
        };
        let env = [
            ("PATH", "/usr/bin:/bin".to_string()),
            ("LANG", "C.UTF-8".to_string()),
            ("OPENBLAS_NUM_THREADS", "1".to_string()),
            ("OMP_NUM_THREADS", "1".to_string()),
            ("MKL_NUM_THREADS", "1".to_string()),
            ("PYTHONDONTWRITEBYTECODE", "1".to_string()),
            ("TALLY_SANDBOX_WORKER", "1".to_string()),
            (
                "TALLY_SANDBOX_OUTPUT_CAP",
                config.output_capture_bytes.to_string(),
            ),
        ];
        // Kept open until the spawn returns; bwrap reads the filters from the dup'ed fds.
        let mut _keep: Vec<OwnedFd> = Vec::new();
        let mut cmd = match &self.mode {
            IsolationMode::Bubblewrap { bwrap } => {
                let mut c = tokio::process::Command::new(bwrap);
                c.args(["--unshare-all", "--die-with-parent", "--new-session"])
                    .args(["--cap-drop", "ALL"])
                    .args(["--ro-bind", "/usr", "/usr"])
                    .args(["--symlink", "usr/bin", "/bin"])
                    .args(["--symlink", "usr/lib", "/lib"])
                    .args(["--symlink", "usr/lib64", "/lib64"])
                    .args(["--symlink", "usr/sbin", "/sbin"])
                    .args(["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"])
                    .args(["--proc", "/proc", "--dev", "/dev"])
                    // --size must precede --tmpfs; the tmpfs precedes binds under /tmp.
                    .arg("--size")
                    .arg(config.tmp_size_bytes.to_string())
                    .args(["--tmpfs", "/tmp"]);
                c.arg("--ro-bind").arg(&self.venv).arg(&self.venv);
                c.arg("--ro-bind")
                    .arg(&self.script)
                    .arg("/sandbox/forkserver.py");
                // bwrap's root is a private tmpfs; make everything but /tmp read-only anyway.
                c.args(["--remount-ro", "/"]);
                c.args(["--chdir", "/tmp", "--hostname", "sandbox", "--clearenv"]);
                for (k, v) in &env {
                    c.arg("--setenv").arg(k).arg(v);
                }
                c.args(["--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp"]);
                c.args(["--setenv", "TALLY_SANDBOX_TMP", "/tmp"]);
                for (i, path) in self.seccomp_files.iter().enumerate() {
                    let f = File::open(path)
                        .map_err(|e| SandboxError::io(format!("opening {}", path.display()), e))?;
                    let target = 3 + i as i32;
                    pre.fds[i] = (f.as_raw_fd(), target);
                    pre.nfds = i + 1;
                    c.arg("--add-seccomp-fd").arg(target.to_string());
                    _keep.push(f.into());
                }
                c.arg("--")
                    .arg(&self.python)
                    .arg("-I")
                    .arg("/sandbox/forkserver.py");
                c
            }
            IsolationMode::Landlock { .. } | IsolationMode::Unsafe => {
                let tmp = self.runtime_dir.join(format!("slot-{slot}-tmp"));
                prepare_private_dir(&tmp, uid)?;
                let mut c = tokio::process::Command::new(&self.python);
                c.arg("-I").arg(&self.script);
                c.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
                c.env("HOME", &tmp)
                    .env("TMPDIR", &tmp)
                    .env("TALLY_SANDBOX_TMP", &tmp)
                    .current_dir(&tmp);
                if matches!(self.mode, IsolationMode::Landlock { .. }) {
                    let ruleset = crate::landlock_rules::build(self, &tmp)?;
                    let seccomp = self.seccomp.programs.clone();
                    let mut ruleset = Some(ruleset);
                    unsafe {
                        c.pre_exec(move || {
                            pre.apply()?;
                            if let Some(r) = ruleset.take() {
                                r.restrict_self()
                                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                            }
                            for p in &seccomp {
                                seccompiler::apply_filter(p)
                                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                            }
                            Ok(())
                        });
                    }
                    return finish(c, uid, _keep);
                }
                c
            }
        };
        unsafe {
            cmd.pre_exec(move || pre.apply());
        }
        finish(cmd, uid, _keep)
    }
}

fn finish(
    mut cmd: tokio::process::Command,
    uid: Option<u32>,
    _keep: Vec<OwnedFd>,
) -> Result<Spawned, SandboxError> {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| SandboxError::io("starting a sandbox worker", e))?;
    Ok(Spawned {
        child,
        slot_uid: uid,
    })
}

/// Creates (or empties) a directory owned by the slot uid, mode 0700.
fn prepare_private_dir(dir: &Path, uid: Option<u32>) -> Result<(), SandboxError> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)
        .map_err(|e| SandboxError::io(format!("creating {}", dir.display()), e))?;
    if let Some(uid) = uid {
        let c = CString::new(dir.as_os_str().as_encoded_bytes())
            .map_err(|_| SandboxError::Config(format!("bad path {}", dir.display())))?;
        if unsafe { libc::chown(c.as_ptr(), uid, uid) } != 0 {
            return Err(SandboxError::io(
                format!("chown {}", dir.display()),
                std::io::Error::last_os_error(),
            ));
        }
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| SandboxError::io(format!("chmod {}", dir.display()), e))?;
    Ok(())
}

/// Kills every process of `uid` (never root, never our own uid). Used when a worker without a
/// PID namespace is recycled: its escaped grandchildren would otherwise outlive it. The uid is
/// this service's alone (see `uid_lease.rs`), so no other service's process is touched.
pub(crate) fn kill_uid(uid: u32) {
    kill_uid_range(uid, 1);
}

/// Kills every process whose real uid is in `first..first + count` (root and our own uid never).
pub(crate) fn kill_uid_range(first: u32, count: u32) {
    let me = unsafe { libc::getuid() };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let owner = status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u32>().ok());
        if let Some(uid) = owner {
            if uid != 0 && uid != me && uid >= first && uid - first < count {
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
        }
    }
}
