//! The VSIC codes a generator draws business lines from, and how often each division is the
//! main line.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use registry_domain::reference::ROAD_TRANSPORT_VSIC;

use crate::sampling::{pick, Weighted};

/// Relative frequency of a VSIC division as the main line (spread over its codes).
fn division_weight(div: u32) -> u32 {
    match div {
        46 => 1600,
        47 => 900,
        41 => 450,
        43 => 350,
        42 => 250,
        56 => 250,
        62 => 200,
        70 => 200,
        68 => 200,
        45 => 200,
        52 => 150,
        71 | 73 => 150,
        25 | 82 | 85 => 120,
        1 | 10 | 55 => 100,
        14 => 80,
        // 49 without road transport: rail, bus, pipelines (road transport is drawn separately)
        49 => 20,
        3 | 22 | 23 | 63 | 77 | 79 | 86 => 60,
        16 | 28 | 69 | 74 | 81 | 96 => 50,
        13 | 15 | 18 | 20 | 26 | 31 | 33 | 35 | 38 | 66 | 93 | 95 => 40,
        2 | 8 | 11 | 17 | 27 | 32 | 50 | 58 | 59 | 72 | 78 => 30,
        5..=7 | 9 | 19 | 21 | 24 | 29 | 30 | 36 | 37 | 39 | 51 | 53 | 61 | 64 | 65 | 80 | 87 | 88 | 90 | 91 => 10,
        // public administration, party/associations, households, lottery, international bodies
        84 | 92 | 94 | 97..=99 => 0,
        _ => 10,
    }
}

/// Lines a road-transport enterprise typically adds.
#[rustfmt::skip]
const TRANSPORT_RELATED: &[&str] = &[
    "5210", "5224", "5225", "5229", "5231", "4663", "4730", "7710", "4520",
];

/// Level-4 VSIC codes of one edition with what the generator samples them by: the main line by
/// division weight, secondary lines often in the main line's division, road transport drawn apart.
#[derive(Debug, Clone)]
pub(crate) struct VsicSet {
    pub(crate) codes: Vec<String>,
    pub(crate) line_sampler: Weighted,
    /// codes (indices) per division, road transport excluded, zero-weight divisions excluded
    division_codes: Vec<Vec<usize>>,
    road: Vec<usize>,
    transport_related: Vec<usize>,
}

impl VsicSet {
    pub(crate) fn new(codes: &[String]) -> VsicSet {
        // VSIC codes, deduplicated, input order kept.
        let mut vsic: Vec<String> = Vec::with_capacity(codes.len());
        for c in codes {
            let c = c.trim().to_string();
            if !vsic.contains(&c) {
                vsic.push(c);
            }
        }
        let division = |c: &str| c.get(..2).and_then(|d| d.parse::<u32>().ok()).unwrap_or(0);
        let road: Vec<usize> = ROAD_TRANSPORT_VSIC.iter().filter_map(|r| vsic.iter().position(|c| c == r)).collect();
        let transport_related: Vec<usize> =
            TRANSPORT_RELATED.iter().filter_map(|r| vsic.iter().position(|c| c == r)).collect();
        let mut per_div_count = [0u64; 100];
        for (i, c) in vsic.iter().enumerate() {
            if !road.contains(&i) {
                per_div_count[division(c) as usize % 100] += 1;
            }
        }
        let mut line_weights: Vec<u64> = vsic
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if road.contains(&i) {
                    return 0;
                }
                let d = division(c);
                // Scale so that a division's weight is shared by its codes.
                u64::from(division_weight(d)) * 1000 / per_div_count[d as usize % 100].max(1)
            })
            .collect();
        if line_weights.iter().all(|&w| w == 0) {
            // Degenerate input (only road transport or only zero-weight divisions).
            line_weights = vsic
                .iter()
                .enumerate()
                .map(|(i, _)| u64::from(!road.contains(&i) || road.len() == vsic.len()))
                .collect();
            if line_weights.iter().all(|&w| w == 0) {
                line_weights = vec![1; vsic.len()];
            }
        }
        let mut division_codes: Vec<Vec<usize>> = vec![Vec::new(); 100];
        for (i, c) in vsic.iter().enumerate() {
            if line_weights[i] > 0 {
                division_codes[division(c) as usize % 100].push(i);
            }
        }
        let line_sampler = Weighted::new(line_weights);
        VsicSet { codes: vsic, line_sampler, division_codes, road, transport_related }
    }
}

impl VsicSet {
    /// Business lines drawn from this set: indices into `codes`, the first one the main line.
    pub(crate) fn draw_lines(&self, rng: &mut ChaCha8Rng, line_count_sampler: &Weighted) -> Vec<usize> {
        let n = line_count_sampler.sample(rng) + 1;
        let n = n.min(self.codes.len());
        let mut lines: Vec<usize> = Vec::with_capacity(n);
        let transport = !self.road.is_empty() && rng.random_bool(0.04);
        if transport {
            let road = *pick(rng, &self.road);
            if n == 1 || rng.random_bool(0.8) {
                lines.push(road);
            } else {
                lines.push(self.line_sampler.sample(rng));
            }
            if !lines.contains(&road) {
                lines.push(road);
            }
        } else {
            lines.push(self.line_sampler.sample(rng));
        }
        let main_div = self.codes[lines[0]].get(..2).and_then(|d| d.parse::<usize>().ok()).unwrap_or(0) % 100;
        let mut attempts = 0;
        while lines.len() < n && attempts < 60 {
            attempts += 1;
            let r: u32 = rng.random_range(0..100);
            let cand = if transport && r < 50 && !self.transport_related.is_empty() {
                *pick(rng, &self.transport_related)
            } else if !transport && r < 45 && !self.division_codes[main_div].is_empty() {
                // about half of the secondary lines stay in the main line's division
                *pick(rng, &self.division_codes[main_div])
            } else {
                self.line_sampler.sample(rng)
            };
            if !lines.contains(&cand) {
                lines.push(cand);
            }
        }
        lines
    }
}
