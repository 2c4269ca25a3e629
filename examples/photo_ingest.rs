//! Ingest one photo file `runs` times through the upload pipeline (sniff, header check, decode,
//! orientation, the three renditions, JPEG encoding, hashing) and print the times. Driven by
//! `bench/photos.sh`, which compares it with libvips.
//!
//! Usage: `photo_ingest FILE [RUNS]`

use std::time::Instant;

use youde::media::processing::{process, IngestLimits};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: photo_ingest FILE [RUNS]");
    let runs: usize = args
        .next()
        .map(|r| r.parse().expect("RUNS is a number"))
        .unwrap_or(1);
    let bytes = std::fs::read(&path).expect("readable file");
    let limits = IngestLimits::default();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let photo = process(&bytes, &limits).expect("the file ingests");
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        if times.len() == 1 {
            for r in &photo.renditions {
                println!(
                    "{:>9} {}x{} {} bytes",
                    r.variant.code(),
                    r.width,
                    r.height,
                    r.bytes.len()
                );
            }
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "runs={runs} median_ms={:.1} min_ms={:.1}",
        times[runs / 2],
        times[0]
    );
}
