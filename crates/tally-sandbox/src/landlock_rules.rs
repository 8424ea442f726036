//! The Landlock ruleset of the fallback mode: read/execute under `/usr`, the venv and the
//! fork-server, read-write only in the slot's private directory, no TCP bind or connect.
//! Built in the service (it allocates), enforced in the worker between fork and exec.

use std::path::Path;

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreated,
    RulesetCreatedAttr, ABI,
};

use crate::isolation::Launch;
use crate::SandboxError;

pub(crate) fn build(launch: &Launch, private_dir: &Path) -> Result<RulesetCreated, SandboxError> {
    let abi = ABI::V4;
    let err = |e: landlock::RulesetError| SandboxError::Landlock(e.to_string());
    let read_only: Vec<&Path> = vec![
        Path::new("/usr"),
        Path::new("/etc/ld.so.cache"),
        Path::new("/dev/null"),
        Path::new("/dev/urandom"),
        Path::new("/proc"),
        &launch.venv,
        &launch.script,
    ];
    let read_write: Vec<&Path> = vec![private_dir, Path::new("/dev/null")];
    let ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .map_err(err)?
        .handle_access(AccessNet::from_all(abi))
        .map_err(err)?
        .create()
        .map_err(err)?
        .add_rules(path_beneath_rules(
            read_only.iter().filter(|p| p.exists()),
            AccessFs::from_read(abi),
        ))
        .map_err(err)?
        .add_rules(path_beneath_rules(read_write, AccessFs::from_all(abi)))
        .map_err(err)?;
    Ok(ruleset)
}
