//! `tally convert` (`ns convert`, spec §1.4): hf → TensorRT-LLM through TensorRT-LLM's own tools.

use std::process::ExitCode;

use tally_launch::run_plan;

use crate::AnyError;

pub use tally_cli::convert::Args;

pub fn run(args: Args) -> Result<ExitCode, AnyError> {
    let spec = args.spec()?;
    let tools = args.tools(spec.model_type)?;
    let plan = spec.plan(&tools)?;
    if args.dry_run {
        print!("{plan}");
        return Ok(ExitCode::SUCCESS);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        tools.check().await?;
        let logs = args.output_model.join("conversion-logs");
        for step in run_plan(&plan, &logs).await? {
            eprintln!(
                "{}: {} ({:.0} s){}",
                step.name,
                if step.skipped { "reused" } else { "done" },
                step.elapsed.as_secs_f64(),
                step.log_path
                    .map(|p| format!(", log {}", p.display()))
                    .unwrap_or_default()
            );
        }
        Ok::<(), AnyError>(())
    })?;
    Ok(ExitCode::SUCCESS)
}
