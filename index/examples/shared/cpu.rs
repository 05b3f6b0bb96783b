//! Shared by the index crate's examples.

/// CPU time of this thread (ns), from `/proc/thread-self/schedstat`: unlike wall-clock time, it
/// does not grow when other processes compete for the cores (read over many searches: it is
/// updated at scheduler ticks).
pub fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}
