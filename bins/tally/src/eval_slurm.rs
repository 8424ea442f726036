//! `tally eval --cluster slurm`: the evaluation as Slurm jobs. The plan is written to
//! `<log_dir>/<expname>-plan-<hash>.json`; each job runs one part of it (`tally eval --plan F
//! --part i`: a benchmark, or one chunk of it with `--num_chunks`), hosting its own server unless
//! `--server_address` is given, and a last job its summary (`--part summary`). Every option of
//! `eval` reaches the jobs through the plan: nothing here names one. The scripts stay in
//! `<log_dir>/scripts`.

use std::process::ExitCode;

use sha2::Digest;
use tally_cluster::{
    decide, sbatch_script, Decision, Executor, Job, JobId, JobState, SlurmConfig, SlurmExecutor,
    Submission, SubmittedJob,
};
use tally_eval::{BenchPlan, EvalPlan, Manifest};

use crate::cmd_eval::Args;
use crate::AnyError;

/// Whether every output a job writes is final: each seed's merged output marked `.done` with the
/// benchmark's manifest written (generated, graded and judged), or — for a chunk job — each
/// seed's chunk marked `.done`.
fn outputs_final(plan: &EvalPlan, bench: &BenchPlan, chunk: Option<usize>) -> bool {
    let manifest = Manifest::read(&bench.out_dir)
        .is_some_and(|m| plan.options.judge.is_none() || m.judge.is_some());
    bench.seeds.iter().all(|seed| {
        let name = tally_generate::output_file_name("output", *seed);
        let merged = bench.generated_dir.join(&name);
        let chunk_done = chunk.is_some_and(|c| {
            let stem = name.trim_end_matches(".jsonl");
            tally_cluster::is_done(&bench.generated_dir.join(format!("{stem}_chunk_{c}.jsonl")))
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
pub fn submit(args: &Args, plan: &EvalPlan) -> Result<ExitCode, AnyError> {
    let log_dir = &plan.log_dir;
    let mut config = SlurmConfig::new(log_dir.join("scripts"));
    config.partition = args.partition.clone();
    config.time_min = args.time_min.clone();
    let server = &plan.options.server;
    config.nodes = Some(server.host.nodes);
    config.gpus_per_node = server.host.gpus.filter(|_| server.address.is_none());
    config.exclusive = !args.not_exclusive;
    let expname = args.expname.clone().unwrap_or_else(|| "eval".into());
    let exe = std::env::current_exe()?.display().to_string();
    let json = plan.to_json()?;
    let hash = hex::encode(&sha2::Sha256::digest(json.as_bytes())[..6]);
    let plan_path = log_dir.join(format!("{expname}-plan-{hash}.json"));
    let part_argv = |part: &str| {
        vec![
            exe.clone(),
            "eval".to_string(),
            format!("--plan={}", plan_path.display()),
            format!("--part={part}"),
        ]
    };
    let mut jobs = Vec::new();
    for (i, part) in plan.parts().into_iter().enumerate() {
        let bench = &plan.benchmarks[part.benchmark];
        let suffix = part.chunk.map(|c| format!("-chunk{c}")).unwrap_or_default();
        let job_name = format!("{expname}-{}{suffix}", bench.name);
        let log = log_dir.join(format!("{job_name}_%j.log"));
        let done = outputs_final(plan, bench, part.chunk);
        jobs.push((Job::new(job_name, part_argv(&i.to_string()), log), done));
    }
    let summary_job = Job::new(
        format!("{expname}-summarize"),
        part_argv("summary"),
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
    tally_core::atomic::atomic_write_bytes(&plan_path, json.as_bytes())?;
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
