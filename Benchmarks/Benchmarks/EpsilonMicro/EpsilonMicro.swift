// package-benchmark micro-benchmarks: allocations (and time) per operation for ours and each peer,
// counted by package-benchmark's MallocInterposer trait. The workloads are epsilon-bench's own
// (the linked *Workloads.swift files), so both tools measure the same sides on the same inputs.
//   swift package --package-path Benchmarks --disable-sandbox benchmark --target EpsilonMicro
import Benchmark

let benchmarks: @Sendable () -> Void = {
    // What every benchmark here records.
    let metrics: [BenchmarkMetric] = [.mallocCountTotal, .wallClock, .throughput]

    // The epsilon-bench workloads measured here, with the scaling factor that keeps one iteration
    // between about 0.1 and 20 ms for every side. One operation is one `Contender.run(1)`: the
    // whole input of the workload (1 request; 3,384 HPACK blocks; 64 WebSocket messages).
    let selected: [(id: String, scaling: BenchmarkScalingFactor)] = [
        ("pico-703", .kilo),
        ("hpack-decode", .one),
        ("ws-small", .kilo),
    ]
    var all: [Workload] = []
    all += http1Workloads()
    all += hpackWorkloads()
    all += webSocketWorkloads()
    for (id, scaling) in selected {
        guard let workload = all.first(where: { $0.id == id }) else { fatalError("no epsilon-bench workload \(id)") }
        let sides = [workload.ours] + workload.peers
        // Same work: every side must see the same messages, fields and field bytes (the
        // checksum folds those counts), or nothing is measured.
        let expected = workload.ours.run(1)
        for side in sides {
            let seen = side.run(1)
            precondition(seen == expected, "\(id): \(side.name) saw checksum \(seen), epsilon \(expected)")
        }
        for side in sides {
            Benchmark(
                "\(id) \(side.name)",
                configuration: .init(
                    metrics: metrics,
                    warmupIterations: 3,
                    scalingFactor: scaling,
                    maxDuration: .seconds(2),
                    maxIterations: 200
                )
            ) { benchmark in
                // One run of `scaledIterations.count` operations: malloc counts divide into per-op.
                blackHole(side.run(benchmark.scaledIterations.count))
            }
        }
    }
    // Steady state for HPACK: one story, decoders created outside the measured region.
    HPACKStoryDecode().register(
        configuration: .init(metrics: metrics, warmupIterations: 3, scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 500))
}
