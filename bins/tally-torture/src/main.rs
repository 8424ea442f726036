//! `tally-torture`: kills real `tally` runs at random moments against a faulty server and checks
//! that every restarted run ends exactly as an uninterrupted one. See docs/reliability.md.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use tally_torture::{FaultConfig, FaultServer, Harness, Mode, Workload};

#[derive(Parser)]
#[command(about = "Crash-and-fault torture trials of tally (generate, chunks, judge, eval)")]
enum Cli {
    /// Run trials (the default use).
    Run(Args),
    /// Only serve the fault-injecting OpenAI-compatible server until killed (for benchmarks
    /// and by-hand experiments); prints its URL.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
struct Args {
    /// The tally binary (default: `tally` next to this program).
    #[arg(long)]
    tally: Option<PathBuf>,
    /// Modes to torture, comma-separated: generate, chunks, judge, eval.
    #[arg(long, default_value = "generate,chunks,judge,eval")]
    modes: String,
    /// Trials per mode.
    #[arg(long, default_value_t = 50)]
    trials: u64,
    /// Seed of the first trial (trial i uses seed + i): the same seed, the same kill plan.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction of requests that get a fault.
    #[arg(long, default_value_t = 0.15)]
    fault_rate: f64,
    /// Latency added to every answer, in milliseconds.
    #[arg(long, default_value_t = 25)]
    latency_ms: u64,
    /// Problems in the data set.
    #[arg(long, default_value_t = 60)]
    problems: usize,
    /// Work directory (default: a temporary one, removed unless a trial failed).
    #[arg(long)]
    root: Option<PathBuf>,
}

fn main() -> ExitCode {
    match Cli::parse() {
        Cli::Run(args) => run(args),
        Cli::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = FaultConfig::flaky(
        args.fault_rate,
        args.seed,
        Duration::from_millis(args.latency_ms),
    );
    match FaultServer::start_on(args.port, config) {
        Ok(server) => {
            println!("{}", server.url());
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("error: 127.0.0.1:{}: {e}", args.port);
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> ExitCode {
    let tally = args.tally.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("tally")))
            .unwrap_or_else(|| PathBuf::from("tally"))
    });
    let modes: Vec<Mode> = match args
        .modes
        .split(',')
        .map(|m| Mode::parse(m.trim()).ok_or(m))
        .collect()
    {
        Ok(m) => m,
        Err(bad) => {
            eprintln!("error: --modes: unknown mode `{bad}` (generate, chunks, judge, eval)");
            return ExitCode::from(2);
        }
    };
    let tmp = tempfile::tempdir().expect("temporary directory");
    let root = args
        .root
        .clone()
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let workload = Workload {
        problems: args.problems,
        ..Workload::default()
    };
    let harness = match Harness::new(&tally, &root, workload) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let server = FaultServer::start(FaultConfig::flaky(
        args.fault_rate,
        args.seed,
        Duration::from_millis(args.latency_ms),
    ))
    .expect("fault server");
    let started = Instant::now();
    let mut failed = 0usize;
    let mut totals = Vec::new();
    for mode in modes {
        let (mut exact, mut kills, mut restarts) = (0u64, 0usize, 0usize);
        for i in 0..args.trials {
            let seed = args.seed + i;
            let r = match harness.trial(mode, seed, &server) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            kills += r.kills.len();
            restarts += r.restarts;
            println!(
                "{:<8} seed {:<4} {} in {:.1}s, {} restarts; {}",
                mode.name(),
                seed,
                if r.exact() { "exact" } else { "BROKEN" },
                r.elapsed.as_secs_f64(),
                r.restarts,
                r.kills.join("; ")
            );
            for v in &r.violations {
                println!("    {v}");
            }
            if r.exact() {
                exact += 1;
            } else {
                failed += 1;
            }
        }
        totals.push((mode, exact, kills, restarts));
    }
    let c = server.counters();
    println!("\nmode      exact/trials  kills  restarts");
    for (mode, exact, kills, restarts) in &totals {
        println!(
            "{:<9} {:>5}/{:<6}  {:>5}  {:>8}",
            mode.name(),
            exact,
            args.trials,
            kills,
            restarts
        );
    }
    println!(
        "server: {} generation requests, {} faults injected; {:.0} s",
        c.requests.load(std::sync::atomic::Ordering::Relaxed),
        c.faults.load(std::sync::atomic::Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        let kept = tmp.keep();
        println!(
            "trial outputs kept in {}",
            args.root.unwrap_or(kept).display()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
