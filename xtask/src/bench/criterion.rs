//! The criterion figures of the decoder benchmarks, read from their saved estimates
//! (`cargo xtask bench` does not run criterion itself).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

/// One criterion benchmark's saved estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionFigure {
    pub id: String,
    pub median_ns: f64,
    /// (amount per iteration, "bytes" or "elements")
    pub throughput: Option<(f64, &'static str)>,
}

impl CriterionFigure {
    pub fn rate(&self) -> Option<String> {
        let (amount, unit) = self.throughput?;
        let per_s = amount / (self.median_ns / 1e9);
        Some(match unit {
            "bytes" => format!("{:.0} MiB/s", per_s / (1024.0 * 1024.0)),
            _ => format!("{:.1} M elements/s", per_s / 1e6),
        })
    }
}

/// Reads `target/criterion/<group>/<bench>/new/{estimates,benchmark}.json`.
pub fn read_criterion(dir: &Path) -> Vec<CriterionFigure> {
    let mut out = Vec::new();
    let Ok(groups) = std::fs::read_dir(dir) else {
        return out;
    };
    for group in groups.flatten() {
        let Ok(benches) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for bench in benches.flatten() {
            let new = bench.path().join("new");
            let read = |name: &str| -> Option<Value> {
                serde_json::from_str(&std::fs::read_to_string(new.join(name)).ok()?).ok()
            };
            let (Some(est), Some(meta)) = (read("estimates.json"), read("benchmark.json")) else {
                continue;
            };
            let Some(median_ns) = est["median"]["point_estimate"].as_f64() else {
                continue;
            };
            let id = meta["full_id"].as_str().unwrap_or_default().to_owned();
            let throughput = if let Some(b) = meta["throughput"]["Bytes"].as_f64() {
                Some((b, "bytes"))
            } else {
                meta["throughput"]["Elements"]
                    .as_f64()
                    .map(|e| (e, "elements"))
            };
            out.push(CriterionFigure {
                id,
                median_ns,
                throughput,
            });
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

const DECODER_ID: &str = "decode/streaming decoder (segura)";
const PLAIN_SERDE_ID: &str = "decode/serde_json::from_slice, plain owned structs";

/// The streaming decoder's speed-up over serde_json into plain owned structs.
pub fn decoder_ratio(figures: &[CriterionFigure]) -> Option<f64> {
    let find = |id: &str| figures.iter().find(|f| f.id == id).map(|f| f.median_ns);
    Some(find(PLAIN_SERDE_ID)? / find(DECODER_ID)?)
}

pub fn describe_criterion(figures: &[CriterionFigure]) -> String {
    let mut out = String::new();
    if figures.is_empty() {
        let _ = writeln!(
            out,
            "criterion: no saved estimates under target/criterion; refresh them with\n  \
             cargo bench -p segura-bench --bench decoder -- --warm-up-time 1 --measurement-time 3"
        );
        return out;
    }
    let _ = writeln!(
        out,
        "criterion (saved estimates, median per iteration; refresh with \
         `cargo bench -p segura-bench --bench decoder`):"
    );
    for f in figures {
        let _ = writeln!(
            out,
            "  {:<55} {:>10.3} ms  {}",
            f.id,
            f.median_ns / 1e6,
            f.rate().unwrap_or_default()
        );
    }
    if let Some(r) = decoder_ratio(figures) {
        let _ = writeln!(
            out,
            "  streaming decoder vs serde_json::from_slice into owned structs: {r:.2}× faster"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::util;

    #[test]
    fn criterion_estimates_are_read_and_compared() {
        let dir = util::TempDir::new("criterion");
        let save = |group: &str, dir_name: &str, id: &str, ns: f64| {
            let new = dir.path().join(group).join(dir_name).join("new");
            util::create_dir(&new).unwrap();
            let est = json!({"median": {"point_estimate": ns}});
            let meta = json!({"full_id": id, "throughput": {"Bytes": 1_048_576}});
            std::fs::write(new.join("estimates.json"), est.to_string()).unwrap();
            std::fs::write(new.join("benchmark.json"), meta.to_string()).unwrap();
        };
        save("decode", "streaming decoder (segura)", DECODER_ID, 2.5e6);
        save(
            "decode",
            "serde_json__from_slice, plain owned structs",
            PLAIN_SERDE_ID,
            1e7,
        );
        let figures = read_criterion(dir.path());
        assert_eq!(figures.len(), 2);
        assert_eq!(decoder_ratio(&figures), Some(4.0));
        assert_eq!(figures[1].rate().as_deref(), Some("400 MiB/s"));
        assert!(describe_criterion(&figures).contains("4.00× faster"));
        assert!(read_criterion(&dir.path().join("absent")).is_empty());
    }
}
