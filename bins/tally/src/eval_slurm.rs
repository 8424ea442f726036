//! `tally eval --cluster slurm`: the evaluation as Slurm jobs. One job per benchmark (and per
//! chunk with `--num_chunks`), each running `tally eval --cluster local` for its share — hosting
//! its own server unless `--server_address` is given — and one `summarize-results` job after all
//! of them. Jobs are argument vectors; the scripts stay in `<log_dir>/scripts`.

use std::path::Path;
use std::process::ExitCode;

use tally_cluster::{
    decide, sbatch_script, Decision, Executor, Job, JobId, JobState, SlurmConfig, SlurmExecutor,
    Submission, SubmittedJob,
};

use crate::cmd_eval::{Args, Bench};
use crate::AnyError;

/// The `tally eval` argv that runs `bench` (one chunk of it) on a node.
fn job_argv(args: &Args, bench: &str, chunk: Option<usize>) -> Result<Vec<String>, AnyError> {
    let exe = std::env::current_exe()?.display().to_string();
    let mut v = vec![
        exe,
        "eval".into(),
        "--cluster=local".into(),
        "--no_summary".into(),
    ];
    let mut push = |k: &str, val: String| v.push(format!("--{k}={val}"));
    push("output_dir", abs(&args.output_dir)?);
    push("benchmarks", bench.to_string());
    push("server_type", args.server_type.clone());
    if let Some(a) = &args.server_address {
        push("server_address", a.clone());
    }
    if let Some(m) = &args.model {
        push("model", m.clone());
    }
    if let Some(g) = args.server.server_gpus {
        push("server_gpus", g.to_string());
    }
    push("server_nodes", args.server.server_nodes.to_string());
    push("server_args", args.server.server_args.clone());
    push("server_port", args.server.server_port.to_string());
    push("server_wait_s", args.server.server_wait_s.to_string());
    push("starting_seed", args.starting_seed.to_string());
    if let Some(s) = &args.split {
        push("split", s.clone());
    }
    if let Some(d) = &args.data_dir {
        push("data_dir", abs(d)?);
    }
    if let Some(c) = &args.compat {
        push("compat", c.clone());
    }
    if let (Some(n), Some(i)) = (args.num_chunks, chunk) {
        push("num_chunks", n.to_string());
        push("chunk_ids", i.to_string());
    }
    if let Some(l) = &args.log_dir {
        push("log_dir", abs(l)?);
    }
    if args.skip_greedy {
        v.push("--skip_greedy".into());
    }
    if args.override_resume {
        v.push("--override-resume".into());
    }
    v.extend(args.overrides.iter().cloned());
    Ok(v)
}

fn abs(p: &Path) -> Result<String, AnyError> {
    Ok(std::path::absolute(p)?.display().to_string())
}

/// Whether every output a job writes is final: each seed's merged output marked `.done` with the
/// benchmark's manifest written (generated and graded), or — for a chunk job — each seed's chunk
/// marked `.done`.
fn outputs_final(bench: &Bench, chunk: Option<usize>) -> bool {
    let manifest = bench.out_dir.join("tally-eval-manifest.json").exists();
    bench.seeds.seeds.iter().all(|seed| {
        let name = match seed {
            Some(s) => format!("output-rs{s}"),
            None => "output".to_string(),
        };
        let merged = bench.out_dir.join(format!("{name}.jsonl"));
        let chunk_done = chunk.is_some_and(|c| {
            tally_cluster::is_done(&bench.out_dir.join(format!("{name}_chunk_{c}.jsonl")))
        });
        chunk_done || (tally_cluster::is_done(&merged) && manifest)
    })
}

/// Submits the jobs (or prints their scripts with `--dry-run`); with `--wait`, waits for them.
///
/// Submitting the same evaluation again sends only what is unfinished: a job whose earlier copy
/// is still queued or running is kept (see `<log_dir>/<expname>-slurm-jobs.json`), a job whose
/// outputs are final is skipped, and the summary job then waits for the jobs of both
/// submissions.
pub fn submit(
    args: &Args,
    benches: &[(String, u32)],
    plan: &[Bench],
    log_dir: &Path,
) -> Result<ExitCode, AnyError> {
    let mut config = SlurmConfig::new(log_dir.join("scripts"));
    config.partition = args.partition.clone();
    config.time_min = args.time_min.clone();
    config.nodes = Some(args.server.server_nodes);
    config.gpus_per_node = args
        .server
        .server_gpus
        .filter(|_| args.server_address.is_none());
    config.exclusive = !args.not_exclusive;
    let expname = args.expname.clone().unwrap_or_else(|| "eval".into());
    let mut jobs = Vec::new();
    for (name, n) in benches {
        let chunks: Vec<Option<usize>> = match args.num_chunks {
            Some(c) => (0..c).map(Some).collect(),
            None => vec![None],
        };
        let bench = plan.iter().find(|b| &b.name == name);
        for chunk in chunks {
            let suffix = chunk.map(|c| format!("-chunk{c}")).unwrap_or_default();
            let job_name = format!("{expname}-{name}{suffix}");
            let log = log_dir.join(format!("{job_name}_%j.log"));
            let done = bench.is_some_and(|b| outputs_final(b, chunk));
            jobs.push((
                Job::new(
                    job_name,
                    job_argv(args, &format!("{name}:{n}"), chunk)?,
                    log,
                ),
                done,
            ));
        }
    }
    let exe = std::env::current_exe()?.display().to_string();
    let mut summarize = vec![exe, "summarize-results".into(), abs(&args.output_dir)?];
    if let Some(c) = &args.compat {
        summarize.push(format!("--compat={c}"));
    }
    let summary_job = Job::new(
        format!("{expname}-summarize"),
        summarize,
        log_dir.join(format!("{expname}-summarize_%j.log")),
    );

    if args.dry_run {
        for (j, _) in &jobs {
            println!("{}", sbatch_script(j, &config)?);
        }
        println!("{}", sbatch_script(&summary_job, &config)?);
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(log_dir).map_err(|e| format!("{}: {e}", log_dir.display()))?;
    let record_path = log_dir.join(format!("{expname}-slurm-jobs.json"));
    let mut record = Submission::read(&record_path)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let executor = SlurmExecutor::new(config);
    rt.block_on(async {
        let mut ids: Vec<JobId> = Vec::new();
        for (j, done) in &jobs {
            match decide(&executor, record.jobs.get(&j.name), *done).await? {
                Decision::Keep { id, state } => {
                    println!(
                        "{} is still {} as Slurm job {id}: not submitted again",
                        j.name,
                        if state == JobState::Pending {
                            "queued"
                        } else {
                            "running"
                        }
                    );
                    ids.push(id);
                }
                Decision::Done => println!("{}: outputs complete, nothing to submit", j.name),
                Decision::Submit => {
                    let id = executor.submit(j).await?;
                    println!("submitted {} as Slurm job {id}", j.name);
                    record.jobs.insert(
                        j.name.clone(),
                        SubmittedJob {
                            id: id.to_string(),
                            log: j.log_path.clone(),
                        },
                    );
                    // Recorded at once: a submission interrupted half-way is not sent twice.
                    record.write(&record_path)?;
                    ids.push(id);
                }
            }
        }
        let mut last = summary_job;
        for id in &ids {
            last = last.after(id);
        }
        let sid = match decide(&executor, record.jobs.get(&last.name), false).await? {
            // A summary still waiting on the earlier jobs would run before the new ones finish.
            Decision::Keep { id, .. } => {
                executor.cancel(&id).await?;
                executor.submit(&last).await?
            }
            _ => executor.submit(&last).await?,
        };
        println!(
            "submitted {} as Slurm job {sid} (after the others)",
            last.name
        );
        record.jobs.insert(
            last.name.clone(),
            SubmittedJob {
                id: sid.to_string(),
                log: last.log_path.clone(),
            },
        );
        record.write(&record_path)?;
        if !args.wait {
            return Ok(ExitCode::SUCCESS);
        }
        let mut all = ids.clone();
        all.push(sid);
        let states = executor.wait(&all).await?;
        let mut ok = true;
        for (id, st) in all.iter().zip(&states) {
            println!("Slurm job {id}: {st:?}");
            ok &= st.is_success();
        }
        Ok::<ExitCode, AnyError>(if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(2)
        })
    })
}
