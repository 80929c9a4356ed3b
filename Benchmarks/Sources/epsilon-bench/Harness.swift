// Timing and allocation counting: ours and each peer interleaved on the same inputs.
import CBenchMalloc
import Foundation

struct Settings {
    var quick = false
    var only: String? = nil
    /// Target duration of one timed sample.
    var sampleSeconds: Double { quick ? 0.001 : 0.002 }
    /// Interleaved rounds (each: ours, peer 1, ..., peer n).
    var rounds: Int { quick ? 41 : 151 }
}

/// This thread's CPU time in nanoseconds: time spent descheduled on the shared machine does
/// not count, so a sample is disturbed only by cache and core sharing, not by preemption.
func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Operations per sample so that one sample takes about `seconds`.
func calibrate(_ contender: Contender, seconds: Double) -> Int {
    var ops = 1
    while true {
        let start = now()
        _ = contender.run(ops)
        let elapsed = Double(now() - start) / 1e9
        if elapsed >= seconds / 4 || ops >= 1 << 24 {
            return max(1, Int(Double(ops) * seconds / max(elapsed, 1e-9)))
        }
        ops *= 4
    }
}

/// Allocations per item (request, block), counted by the malloc interposer on this thread.
func allocationsPerItem(_ contender: Contender, items: Int, ops: Int) -> Double {
    _ = contender.run(ops)  // warm: first calls may grow reused storage
    bench_malloc_counter_start()
    _ = contender.run(ops)
    return Double(bench_malloc_counter_stop()) / Double(ops * items)
}

struct Timing {
    var samples: [Double] = []  // seconds per op
    var best: Double { samples.min() ?? .nan }
    var median: Double {
        let s = samples.sorted()
        return s.isEmpty ? .nan : s[s.count / 2]
    }
}

struct Row {
    let workload: Workload
    let peer: String
    let ours: Timing
    let theirs: Timing
    let oursAllocs: Double
    let theirAllocs: Double
    /// Peer time ÷ our time, best samples.
    var ratio: Double { theirs.best / ours.best }
    var medianRatio: Double { theirs.median / ours.median }
}

/// Runs ours and the peers interleaved (ours, p1, p2, ..., ours, p1, p2, ...).
func measure(_ workload: Workload, settings: Settings) -> [Row] {
    let contenders = [workload.ours] + workload.peers
    let checks = contenders.map { $0.run(1) }
    for (index, contender) in contenders.enumerated() where checks[index] != checks[0] {
        fatalError("\(workload.id): \(contender.name) saw checksum \(checks[index]), ours \(checks[0])")
    }
    let ops = contenders.map { calibrate($0, seconds: settings.sampleSeconds) }
    var timings = Array(repeating: Timing(), count: contenders.count)
    for _ in 0..<settings.rounds {
        for (index, contender) in contenders.enumerated() {
            let start = now()
            _ = contender.run(ops[index])
            timings[index].samples.append(Double(now() - start) / 1e9 / Double(ops[index]))
        }
    }
    // As many operations as one timed sample (at least 2, at most 200): enough to average over,
    // cheap for the slow workloads.
    let allocs = contenders.indices.map { allocationsPerItem(contenders[$0], items: workload.itemsPerOp, ops: max(2, min(200, ops[$0]))) }
    return workload.peers.indices.map { i in
        Row(workload: workload, peer: workload.peers[i].name, ours: timings[0], theirs: timings[i + 1],
            oursAllocs: allocs[0], theirAllocs: allocs[i + 1])
    }
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

func formatTime(_ seconds: Double) -> String {
    if seconds < 1e-6 { return String(format: "%.0f ns", seconds * 1e9) }
    if seconds < 1e-3 { return String(format: "%.2f µs", seconds * 1e6) }
    return String(format: "%.2f ms", seconds * 1e3)
}

func formatRate(_ workload: Workload, _ seconds: Double) -> String {
    let items = Double(workload.itemsPerOp) / seconds
    let gbps = Double(workload.bytesPerOp) / seconds / 1e9
    let itemText = items >= 1e6 ? String(format: "%.2f M", items / 1e6) : String(format: "%.0f k", items / 1e3)
    return String(format: "%@ %@/s, %.2f GB/s", itemText, workload.unit, gbps)
}

func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let count = text.count
    if count >= width { return text }
    let fill = String(repeating: " ", count: width - count)
    return right ? fill + text : text + fill
}

func formatAllocs(_ value: Double) -> String {
    value == value.rounded() ? String(format: "%.0f", value) : String(format: "%.2f", value)
}

func printTable(_ rows: [Row]) {
    let header = [pad("workload", 30), pad("ours/op", 10, right: true), pad("peer", 15), pad("peer/op", 10, right: true),
                  pad("ratio", 6, right: true), pad("(med)", 6, right: true), pad("allocs ours", 11, right: true),
                  pad("peer", 6, right: true), "  ours rate | peer rate"]
    print(header.joined(separator: " "))
    var last = ""
    for row in rows {
        let name = row.workload.title == last ? "" : row.workload.title
        last = row.workload.title
        let flag = row.ratio < 1 ? "  << behind" : ""
        print([pad(name, 30), pad(formatTime(row.ours.best), 10, right: true), pad(row.peer, 15),
               pad(formatTime(row.theirs.best), 10, right: true), pad(String(format: "%.2f", row.ratio), 6, right: true),
               pad(String(format: "%.2f", row.medianRatio), 6, right: true), pad(formatAllocs(row.oursAllocs), 11, right: true),
               pad(formatAllocs(row.theirAllocs), 6, right: true),
               "  \(formatRate(row.workload, row.ours.best)) | \(formatRate(row.workload, row.theirs.best))\(flag)"].joined(separator: " "))
    }
}
