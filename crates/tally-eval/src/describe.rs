//! The plan as text (`tally eval --dry-run`): the server and its command, per benchmark the
//! problems file, prompt and each pass's sampling, then the stages after generation.

use std::fmt::Write;

use tally_generate::{output_file_name, passes, SeedDefaults};

use crate::error::Result;
use crate::plan::EvalPlan;
use crate::target::ServerChoice;

/// What `plan` will do, one line per file and stage.
pub fn describe(plan: &EvalPlan) -> Result<String> {
    let mut out = String::new();
    let server = &plan.options.server;
    describe_server(&mut out, "server", server)?;
    for b in &plan.benchmarks {
        let settings = b.settings()?;
        let overrides = b.overrides()?;
        let _ = writeln!(
            out,
            "{} (split {}): {}{}",
            b.label(),
            b.split,
            b.input.display(),
            if b.input.exists() {
                ""
            } else {
                " (missing: would be prepared)"
            }
        );
        let _ = writeln!(
            out,
            "  prompt: config {}, template {}",
            settings.prompt_config.as_deref().unwrap_or(
                tally_data::registry::lookup(&b.name).map_or("generic/math", |i| i.prompt_config)
            ),
            settings.prompt_template.as_deref().unwrap_or("none (chat)")
        );
        for (seed, pass) in
            b.seeds
                .iter()
                .zip(passes(&b.seed_plan(), SeedDefaults::Eval, &overrides)?)
        {
            let p = &pass.params;
            let _ = writeln!(
                out,
                "  {}: random_seed={} temperature={} top_p={} top_k={} tokens_to_generate={}",
                b.generated_dir
                    .join(output_file_name("output", *seed))
                    .display(),
                p.seed.map_or("none".into(), |s| s.to_string()),
                p.temperature,
                p.top_p,
                p.top_k,
                p.max_tokens
            );
        }
    }
    let results = plan.options.output_dir.join("eval-results");
    if plan.options.judge.is_none() && plan.options.genselect.is_none() {
        let _ = writeln!(
            out,
            "then: grade every file in place, summarize {}",
            results.display()
        );
        return Ok(out);
    }
    let _ = writeln!(out, "then: grade every file in place");
    if let Some(j) = &plan.options.judge {
        describe_server(&mut out, "judge", &j.server)?;
        let user = tally_core::overrides::Overrides::parse(&j.overrides)?;
        for b in &plan.benchmarks {
            let job = crate::run::judge_job(b, j, &user)?;
            let _ = writeln!(
                out,
                "  {} → {} (math_judge, prompt {}, judge-only-when {:?}{})",
                b.generated_dir.display(),
                b.out_dir.display(),
                job.overrides
                    .get_str("prompt_config")
                    .unwrap_or("judge/math"),
                j.when,
                if j.cache { ", cached" } else { "" }
            );
        }
    }
    if let Some(g) = &plan.options.genselect {
        let _ = writeln!(
            out,
            "then: {} with the server's model, {} seed(s), windows of {}, solutions over {} characters{} left out",
            g.mode,
            g.num_seeds,
            g.window_size,
            g.solution_length_cap.map_or("∞".into(), |c| c.to_string()),
            if g.filter_incomplete { " and incomplete ones" } else { "" }
        );
        for b in plan.benchmarks.iter().filter(|b| !b.greedy_apart) {
            let _ = writeln!(
                out,
                "  {} → {}",
                b.out_dir.display(),
                b.out_dir.join(g.mode.output_dir()).display()
            );
        }
    }
    let _ = writeln!(
        out,
        "then: summarize {}{}{}",
        results.display(),
        if plan.options.judge.is_some() {
            " with judge columns"
        } else {
            ""
        },
        match &plan.options.genselect {
            Some(g) => format!(" and a {}@k row", g.mode),
            None => String::new(),
        }
    );
    Ok(out)
}

/// `server: host … → URL` with its command, a running server, or the embedded model.
fn describe_server(out: &mut String, what: &str, server: &ServerChoice) -> Result<()> {
    match &server.address {
        _ if server.is_hosted() => {
            let spec = crate::target::server_spec(
                server.server_type,
                server.model.as_deref(),
                &server.host,
            )?;
            let _ = writeln!(
                out,
                "{what}: host {} → {}\n  {}",
                spec.kind,
                spec.base_url(),
                spec.command()?
            );
        }
        Some(a) => {
            let _ = writeln!(
                out,
                "{what}: {} at {a}{}",
                server.server_type,
                server
                    .model
                    .as_deref()
                    .map(|m| format!(" (model {m})"))
                    .unwrap_or_default()
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{what}: embedded (--server_type local), {}",
                server
                    .model
                    .as_deref()
                    .unwrap_or("the cached SmolLM2-135M-Instruct Q4_1")
            );
        }
    }
    Ok(())
}
