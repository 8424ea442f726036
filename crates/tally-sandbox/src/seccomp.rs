//! The seccomp filters every worker runs under (bubblewrap loads them with `--add-seccomp-fd`;
//! the Landlock fallback applies them itself before `exec`).
//!
//! Three filters, because one seccompiler filter has one "match" action and the kernel stacks
//! filters (the strictest verdict wins):
//! 1. sockets: `socket` of any family and `socketpair` other than `AF_UNIX` → `EACCES`. Model code
//!    has no business opening a connection, even to a unix socket (munged's is open to all uids).
//! 2. kernel attack surface (`ptrace`, `mount`, `bpf`, `io_uring_*`, new namespaces, …) → `EPERM`.
//! 3. `clone3` → `ENOSYS`, so glibc falls back to `clone`, whose flags filter 2 can inspect.

use std::collections::BTreeMap;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::SandboxError;

/// The compiled filters, in load order.
pub(crate) struct Filters {
    pub(crate) programs: Vec<BpfProgram>,
}

impl Filters {
    /// Raw `struct sock_filter` bytes of each program, as bubblewrap reads them from a fd.
    pub(crate) fn as_bytes(&self) -> Vec<Vec<u8>> {
        self.programs
            .iter()
            .map(|p| {
                let mut out = Vec::with_capacity(p.len() * 8);
                for ins in p {
                    out.extend_from_slice(&ins.code.to_ne_bytes());
                    out.push(ins.jt);
                    out.push(ins.jf);
                    out.extend_from_slice(&ins.k.to_ne_bytes());
                }
                out
            })
            .collect()
    }
}

fn arch() -> Result<TargetArch, SandboxError> {
    TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|e| SandboxError::Seccomp(format!("unsupported architecture: {e:?}")))
}

fn cond(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, SandboxError> {
    SeccompCondition::new(arg, SeccompCmpArgLen::Dword, op, value)
        .map_err(|e| SandboxError::Seccomp(e.to_string()))
}

fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule, SandboxError> {
    SeccompRule::new(conds).map_err(|e| SandboxError::Seccomp(e.to_string()))
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>, errno: i32) -> Result<BpfProgram, SandboxError> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(errno as u32),
        arch()?,
    )
    .map_err(|e| SandboxError::Seccomp(e.to_string()))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| SandboxError::Seccomp(e.to_string()))
}

/// Builds the three filters for this machine's architecture.
pub(crate) fn build() -> Result<Filters, SandboxError> {
    // 1. sockets
    let mut sockets = BTreeMap::new();
    sockets.insert(libc::SYS_socket, vec![]);
    sockets.insert(
        libc::SYS_socketpair,
        vec![rule(vec![cond(
            0,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )?])?],
    );

    // 2. kernel attack surface
    let mut deny = BTreeMap::new();
    let always: &[i64] = &[
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_personality,
        libc::SYS_kexec_load,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_acct,
        libc::SYS_settimeofday,
        libc::SYS_clock_settime,
        libc::SYS_open_by_handle_at,
        libc::SYS_name_to_handle_at,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
        libc::SYS_fanotify_init,
        libc::SYS_quotactl,
        libc::SYS_syslog,
        libc::SYS_vhangup,
        libc::SYS_mbind,
        libc::SYS_move_pages,
        libc::SYS_migrate_pages,
    ];
    for &nr in always {
        deny.insert(nr, vec![]);
    }
    let new_ns = [
        libc::CLONE_NEWNS,
        libc::CLONE_NEWUTS,
        libc::CLONE_NEWIPC,
        libc::CLONE_NEWUSER,
        libc::CLONE_NEWPID,
        libc::CLONE_NEWNET,
        libc::CLONE_NEWCGROUP,
    ];
    let mut clone_rules = Vec::new();
    for flag in new_ns {
        let flag = flag as u64;
        clone_rules.push(rule(vec![cond(0, SeccompCmpOp::MaskedEq(flag), flag)?])?);
    }
    deny.insert(libc::SYS_clone, clone_rules);

    // 3. clone3
    let mut clone3 = BTreeMap::new();
    clone3.insert(libc::SYS_clone3, vec![]);

    Ok(Filters {
        programs: vec![
            compile(sockets, libc::EACCES)?,
            compile(deny, libc::EPERM)?,
            compile(clone3, libc::ENOSYS)?,
        ],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn filters_compile() {
        let f = super::build().unwrap();
        assert_eq!(f.programs.len(), 3);
        assert!(f
            .as_bytes()
            .iter()
            .all(|b| !b.is_empty() && b.len() % 8 == 0));
    }
}
