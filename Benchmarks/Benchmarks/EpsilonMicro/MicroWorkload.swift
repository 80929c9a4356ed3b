// The two types the linked epsilon-bench workload files (HTTP1Workloads.swift, HPACKWorkloads.swift,
// WebSocketWorkloads.swift, symbolic links into Sources/epsilon-bench) build. They mirror
// Sources/epsilon-bench/Harness.swift, which can not be linked here: it imports CBenchMalloc, a
// second malloc interposer that would clash with package-benchmark's.

/// One side of a comparison: runs `ops` operations and returns a checksum of what it saw.
struct Contender {
    let name: String
    /// A note (what this side does beyond or short of ours).
    var note: String? = nil
    let run: (_ ops: Int) -> Int
}

/// One input, measured for ours and every peer.
struct Workload {
    let id: String
    let title: String
    /// What one item is ("req", "block", "msg").
    let unit: String
    /// Items in one operation.
    let itemsPerOp: Int
    /// Input bytes in one operation.
    let bytesPerOp: Int
    let ours: Contender
    let peers: [Contender]
    /// Further sides of ours that only epsilon-bench's `--run` reaches.
    var extras: [Contender] = []
}
