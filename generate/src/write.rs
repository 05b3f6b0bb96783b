//! Resolving generated records through the import's validation and writing them as NDJSON.

use chrono::{DateTime, Utc};

use registry_domain::imported;
use registry_domain::record::Enterprise;
use registry_domain::reference::Reference;

use crate::records::RecordGenerator;

/// Resolves rough versions (see [`RecordGenerator`]) through the import's validation: names of
/// wards, provinces and VSIC lines, shares. A refusal is a bug of the generator, reported whole.
pub fn resolve(versions: &[Enterprise], reference: &Reference, now: DateTime<Utc>) -> Result<Vec<Enterprise>, String> {
    versions
        .iter()
        .map(|v| {
            imported::validate(v, reference, now).map_err(|errors| {
                let list: Vec<String> =
                    errors.iter().map(|e| format!("{} {}: {}", e.field, e.code, e.message)).collect();
                format!("generated record {} version {} is invalid: {}", v.code, v.version, list.join("; "))
            })
        })
        .collect()
}

/// Writes `count` enterprises of `generator` as NDJSON (one line per version, oldest first) to
/// `out`; records are resolved on every core, in order. `progress` hears of every enterprise
/// written.
pub fn write_records(
    generator: &mut RecordGenerator,
    count: u64,
    out: &mut dyn std::io::Write,
    progress: &dyn Fn(u64),
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    const CHUNK: u64 = 2048;
    let reference = generator.reference.clone();
    let now = generator.as_of_time();
    let mut written = 0;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Vec<Enterprise>>>(2);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        // Drawing is sequential (one random stream); resolving and serialising run in parallel.
        let producer = scope.spawn(move || {
            let mut left = count;
            while left > 0 {
                let n = left.min(CHUNK);
                let chunk: Vec<Vec<Enterprise>> = (0..n).map(|_| generator.next_enterprise()).collect();
                left -= n;
                if tx.send(chunk).is_err() {
                    return;
                }
            }
        });
        for chunk in rx {
            let lines: Vec<Result<String, String>> = chunk
                .par_iter()
                .map(|versions| {
                    let resolved = resolve(versions, &reference, now)?;
                    let mut text = String::with_capacity(2048 * resolved.len());
                    for v in &resolved {
                        text.push_str(&serde_json::to_string(v).map_err(|e| e.to_string())?);
                        text.push('\n');
                    }
                    Ok(text)
                })
                .collect();
            for line in lines {
                out.write_all(line.map_err(anyhow::Error::msg)?.as_bytes())?;
            }
            written += chunk.len() as u64;
            progress(chunk.len() as u64);
        }
        producer.join().map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
        anyhow::ensure!(written == count, "generated {written} of {count} enterprises");
        Ok(())
    })
}
