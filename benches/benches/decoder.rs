//! criterion benchmarks of the data path, on bodies from the mock's generator:
//! the streaming decoder against serde_json on the whole body (owned structs), the
//! canonical writer against serde_json's serializer, and the filters.
//!
//! `cargo bench -p segura-bench`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use segura_api::{ReaderSource, SessionFilter};
use segura_bench::{body, PlainBody};
use segura_model::{ListResponse, RemoteSession};

const SESSIONS: u64 = 20_000;

fn decoding(c: &mut Criterion) {
    let b = body(SESSIONS);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(b.len() as u64));
    g.bench_function("streaming decoder (segura)", |bench| {
        bench.iter(|| {
            let mut source = ReaderSource::new(&b[..], "body");
            let mut n = 0u64;
            while let Some(s) = source.next_ref() {
                n += black_box(s).map(|s| s.id.get() & 1).unwrap_or(0);
            }
            n
        })
    });
    g.bench_function("serde_json::from_slice, plain owned structs", |bench| {
        bench.iter(|| {
            serde_json::from_slice::<PlainBody>(black_box(&b)).map(|v| v.remote_sessions.len())
        })
    });
    g.bench_function("serde_json::from_slice, typed model", |bench| {
        bench.iter(|| {
            serde_json::from_slice::<ListResponse>(black_box(&b)).map(|v| v.remote_sessions.len())
        })
    });
    g.finish();
}

fn sessions() -> Vec<RemoteSession> {
    let b = body(SESSIONS);
    ReaderSource::new(&b[..], "body")
        .collect::<Result<_, _>>()
        .unwrap_or_default()
}

fn serializing(c: &mut Criterion) {
    let all = sessions();
    let bytes: usize = all
        .iter()
        .map(|s| serde_json::to_vec(s).map_or(0, |v| v.len() + 1))
        .sum();
    let mut g = c.benchmark_group("serialize");
    g.throughput(Throughput::Bytes(bytes as u64));
    let mut out = Vec::with_capacity(bytes);
    g.bench_function("canonical writer (segura)", |bench| {
        bench.iter(|| {
            out.clear();
            for s in &all {
                s.write_json(&mut out);
                out.push(b'\n');
            }
            out.len()
        })
    });
    g.bench_function("serde_json::to_writer", |bench| {
        bench.iter(|| {
            out.clear();
            for s in &all {
                let _ = serde_json::to_writer(&mut out, s);
                out.push(b'\n');
            }
            out.len()
        })
    });
    g.finish();
}

fn filtering(c: &mut Criterion) {
    let all = sessions();
    let mut g = c.benchmark_group("filter");
    g.throughput(Throughput::Elements(all.len() as u64));
    let mut by_user = SessionFilter::new();
    by_user.users = vec!["ADMIN".into(), "josé".into()];
    let mut search = SessionFilter::new();
    search.search = Some("10.66".into());
    let mut combined = SessionFilter::new();
    combined.protocols = vec!["ssh".into(), "rdp".into()];
    combined.active = true;
    combined.min_duration = Some(segura_model::SessionDuration::from_secs(60));
    for (name, f) in [
        ("none", SessionFilter::new()),
        ("users", by_user),
        ("search", search),
        ("combined", combined),
    ] {
        g.bench_with_input(BenchmarkId::from_parameter(name), &f, |bench, f| {
            bench.iter(|| all.iter().filter(|s| f.matches(s)).count())
        });
    }
    g.finish();
}

criterion_group!(benches, decoding, serializing, filtering);
criterion_main!(benches);
