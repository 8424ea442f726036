//! `tally view`, `tally report`, `tally compare`, `tally export` on the fixture runs of
//! fixtures/view (made by its make_fixture.py; the expected numbers below are counted by hand from
//! that script's sample list). The viewer and the report are checked in a real headless
//! Chromium: the DOM after scripts ran, and a screenshot.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::{missing_service, run, stderr, stdout, tally};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/view")
        .join(name)
}

/// Debian's `chromium` (or another Chromium on PATH).
fn chromium() -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(o) = Command::new("which").arg(name).output() {
            if o.status.success() {
                return Some(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
            }
        }
    }
    missing_service("no chromium on PATH (apt-get install chromium; `just services` installs it)");
    None
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg("--virtual-time-budget=4000");
    c
}

/// The DOM after the page's scripts ran.
fn dump_dom(browser: &Path, profile: &Path, url: &str) -> String {
    let o = headless(browser, profile)
        .arg("--dump-dom")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium --dump-dom {url}: {}",
        stderr(&o)
    );
    stdout(&o)
}

fn screenshot(browser: &Path, profile: &Path, url: &str, png: &Path) {
    let o = headless(browser, profile)
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,800")
        .arg(url)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "chromium --screenshot {url}: {}",
        stderr(&o)
    );
}

/// A running `tally view`, stopped on drop.
struct Viewer {
    child: Child,
    url: String,
}

impl Viewer {
    fn start(dirs: &[PathBuf]) -> Viewer {
        let mut child = tally()
            .arg("view")
            .args(dirs)
            .args(["--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Viewer { child, url }
    }
}

impl Drop for Viewer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// The problem ids of the grid's rows, in order.
fn rows(dom: &str) -> Vec<String> {
    dom.split("<tr class=\"problem\" data-problem=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

#[test]
fn viewer_in_a_browser_shows_grid_filters_samples_and_the_comparison() {
    let Some(browser) = chromium() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    let v = Viewer::start(&[fixture("run-a"), fixture("run-b")]);

    // The grid of run A: 6 problems × (greedy + 4 seeds), every outcome of the fixture.
    let grid = dump_dom(&browser, &profile, &format!("{}/r/0/mini", v.url));
    assert_eq!(rows(&grid), ["p0", "p1", "p2", "p3", "p4", "p5"]);
    for (outcome, n) in [
        ("correct", 12),
        ("wrong", 12),
        ("no_answer", 1),
        ("truncated", 1),
        ("request_error", 1),
        ("grader_error", 1),
        ("undecided", 1),
        ("judge_disagrees", 1),
    ] {
        assert_eq!(
            count(&grid, &format!("class=\"cell o-{outcome}\"")),
            n,
            "{outcome}"
        );
    }
    screenshot(
        &browser,
        &profile,
        &format!("{}/r/0/mini", v.url),
        &tmp.path().join("grid.png"),
    );
    let png = std::fs::read(tmp.path().join("grid.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{} bytes",
        png.len()
    );

    // Filters and sorting from the URL.
    let dom = |q: &str| dump_dom(&browser, &profile, &format!("{}/r/0/mini?{q}", v.url));
    assert_eq!(rows(&dom("status=request_error")), ["p3"]);
    assert_eq!(rows(&dom("subset=hard")), ["p3", "p4", "p5"]);
    assert_eq!(rows(&dom("q=TRIANGLE")), ["p4"]);
    assert_eq!(rows(&dom("status=wrong&subset=easy")), ["p1", "p2"]);
    // Fraction correct over judged seed samples: p4 0, p5 0, p2 1/4, p1 2/4, p0 4/4, p3 2/2.
    assert_eq!(
        rows(&dom("sort=hard")),
        ["p4", "p5", "p2", "p1", "p0", "p3"]
    );

    // One TIR sample (p1, rs0): code and its output as such, LaTeX rendered by KaTeX.
    let s = dump_dom(&browser, &profile, &format!("{}/r/0/mini/s/1/1", v.url));
    assert!(
        s.contains("<figure class=\"code\"><figcaption>python</figcaption>"),
        "{s}"
    );
    assert!(s.contains(
        "<figure class=\"code-output\"><figcaption>output</figcaption><pre><code>1/2</code>"
    ));
    assert!(s.contains("class=\"katex\""), "KaTeX did not render: {s}");
    assert!(s.contains("o-correct outcome"));
    // The judge that disagrees (p4, rs1) and the undecided one (p4, rs0), with the reason.
    let s = dump_dom(&browser, &profile, &format!("{}/r/0/mini/s/4/2", v.url));
    assert!(
        s.contains("o-judge_disagrees outcome")
            && s.contains("<dd class=\"fact-judge_verdict\"><code>Yes</code>"),
        "{s}"
    );
    let s = dump_dom(&browser, &profile, &format!("{}/r/0/mini/s/4/1", v.url));
    assert!(
        s.contains("o-undecided outcome") && s.contains("prose: the answer is written in words")
    );
    // A failed request says so and has no generation.
    let s = dump_dom(&browser, &profile, &format!("{}/r/0/mini/s/3/1", v.url));
    assert!(s.contains("o-request_error outcome") && s.contains("HTTP 503 after 3 attempts"));

    // p4 across seeds: "4" has the majority (2 of the 4 answered votes).
    let p = dump_dom(&browser, &profile, &format!("{}/r/0/mini/p/4", v.url));
    assert!(
        p.contains("<tr class=\"majority\"><td><code>4</code></td><td>2</td><td>no</td></tr>"),
        "{p}"
    );
    assert_eq!(count(&p, "<section class=\"seed"), 5);

    // Summary from tally-metrics: pass@1 of run A is (1 + 1/2 + 1/4 + 1 + 0 + 0) / 6 = 45.83%.
    let home = dump_dom(&browser, &profile, &format!("{}/", v.url));
    assert!(home.contains("45.83%"), "{home}");
    assert!(home.contains("<svg"), "no curves");
    assert!(home.contains("NeMo-Skills' numbers"));

    // Two runs: run B fixes p2, p4 and p5 under greedy.
    let c = dump_dom(&browser, &profile, &format!("{}/compare", v.url));
    let flips: Vec<String> = c
        .split("<li class=\"flip\" data-problem=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect();
    assert_eq!(flips, ["p2", "p4", "p5"]);
    assert!(
        c.contains("href=\"/r/0/mini/s/2/0\"") && c.contains("href=\"/r/1/mini/s/2/0\""),
        "{c}"
    );
}

#[test]
fn report_is_one_self_contained_file_with_grid_and_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.html");
    let o = run(tally()
        .arg("report")
        .arg(fixture("run-a"))
        .arg("-o")
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    for external in [
        "src=\"http",
        "href=\"http",
        "url(http",
        "src=\"/",
        "href=\"/static",
        "@import",
    ] {
        assert!(!html.contains(external), "external reference {external}");
    }
    assert_eq!(count(&html, "<details class=\"sample\""), 30);
    assert!(!html.contains("id=\"cut-note\""));
    // With no room for text, samples are listed, not embedded, and the report says where it cut.
    let small = tmp.path().join("small.html");
    let o = run(tally()
        .arg("report")
        .arg(fixture("run-a"))
        .arg("-o")
        .arg(&small)
        .args(["--max-text-mb", "0"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let s = std::fs::read_to_string(&small).unwrap();
    assert_eq!(count(&s, "<details class=\"sample\""), 0);
    assert_eq!(count(&s, "class=\"not-embedded"), 30);
    assert!(s.contains("id=\"cut-note\""));

    let Some(browser) = chromium() else { return };
    let profile = tmp.path().join("profile");
    // No network: an unreachable proxy for every request.
    let o = headless(&browser, &profile)
        .args(["--proxy-server=127.0.0.1:9", "--dump-dom"])
        .arg(format!("file://{}#s-mini-1-1", out.display()))
        .output()
        .unwrap();
    let dom = stdout(&o);
    assert_eq!(count(&dom, "class=\"cell o-correct\""), 12);
    assert!(dom.contains("45.83%"));
    // The sample the URL points at is opened, and its LaTeX rendered.
    let at = dom.find("id=\"s-mini-1-1\"").expect("sample embedded");
    let tag = &dom[dom[..at].rfind('<').unwrap()..at + dom[at..].find('>').unwrap()];
    assert!(tag.contains("open"), "{tag}");
    assert!(dom[at..].contains("class=\"katex\""));
    screenshot(
        &browser,
        &profile,
        &format!("file://{}", out.display()),
        &tmp.path().join("r.png"),
    );
    assert!(std::fs::metadata(tmp.path().join("r.png")).unwrap().len() > 5_000);
}

fn compare_json(extra: &[&str]) -> Value {
    let o = run(tally()
        .arg("compare")
        .arg(fixture("run-a"))
        .arg(fixture("run-b"))
        .args(["--format", "json"])
        .args(extra));
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn compare_gives_hand_computed_differences_mcnemar_and_flips() {
    let c = compare_json(&[]);
    let group = |subset: &str| {
        c["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["subset"] == subset)
            .unwrap()
            .clone()
    };
    let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-12;
    // pass@1 per problem (valid seed samples): A 1, 1/2, 1/4, 1, 0, 0; B 1, 1/2, 1, 1, 0, 1/2.
    let all = group("all");
    assert_eq!(all["problems"], 6);
    assert!(close(&all["pass_at_1"]["a"], 2.75 / 6.0));
    assert!(close(&all["pass_at_1"]["b"], 4.0 / 6.0));
    assert!(close(&all["pass_at_1"]["diff"], -1.25 / 6.0));
    assert!(close(&group("easy")["pass_at_1"]["diff"], -0.75 / 3.0));
    assert!(close(&group("hard")["pass_at_1"]["diff"], -0.5 / 3.0));
    let (lo, hi) = (
        all["pass_at_1"]["low"].as_f64().unwrap(),
        all["pass_at_1"]["high"].as_f64().unwrap(),
    );
    assert!(lo < -1.25 / 6.0 && -1.25 / 6.0 < hi, "[{lo}, {hi}]");
    // majority@4: A wins p0, p1, p3; B also p2 and p5. pass@4: B adds p5.
    assert_eq!(all["k"], 4);
    assert!(close(&all["majority_at_k"]["diff"], -2.0 / 6.0));
    assert!(close(&all["pass_at_k"]["diff"], -1.0 / 6.0));
    // Greedy: both right p0, p1, p3; only B p2, p4, p5: p = 2 · (1/2)^3 = 0.25.
    let m = &all["mcnemar"];
    assert_eq!(
        (
            m["both_correct"].as_u64(),
            m["a_only"].as_u64(),
            m["b_only"].as_u64(),
            m["neither"].as_u64()
        ),
        (Some(3), Some(0), Some(3), Some(0))
    );
    assert!(close(&m["p_value"], 0.25));
    let flips: Vec<&str> = c["flipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["problem"].as_str().unwrap())
        .collect();
    assert_eq!(flips, ["p2", "p4", "p5"]);
    assert!(c["explanation"].as_str().unwrap().contains("middle 95%"));
    // Seeded: the same interval every time; another seed draws another one.
    assert_eq!(compare_json(&[]), c);
    assert_ne!(
        compare_json(&["--seed", "7"])["groups"][0]["pass_at_1"]["low"],
        all["pass_at_1"]["low"]
    );
    // The text form says what the interval means.
    let o = run(tally()
        .arg("compare")
        .arg(fixture("run-a"))
        .arg(fixture("run-b")));
    assert!(
        stdout(&o).contains("Δ -20.83") && stdout(&o).contains("middle 95%"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn export_writes_one_parquet_row_per_sample() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("samples.parquet");
    let o = run(tally()
        .arg("export")
        .arg(fixture("run-a"))
        .arg("-o")
        .arg(&out));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("30 samples"), "{}", stderr(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
}
