// What a workload is: ours and each peer as closures over the same input. No imports, so the
// package-benchmark target (Benchmarks/EpsilonMicro) links this same file.

/// One side of a comparison: runs `ops` operations and returns a checksum of what it saw.
struct Contender {
    let name: String
    /// A note printed under the table (what this side does beyond or short of ours).
    var note: String? = nil
    let run: (_ ops: Int) -> Int
}

/// One input, measured for ours and every peer.
struct Workload {
    /// Short id, used by `--only` and callgrind.sh.
    let id: String
    let title: String
    /// What one item is ("request", "header block", "response").
    let unit: String
    /// Items in one operation.
    let itemsPerOp: Int
    /// Input bytes in one operation (for GB/s).
    let bytesPerOp: Int
    let ours: Contender
    let peers: [Contender]
    /// Further sides of ours that only `--run` reaches (for callgrind.sh), never timed.
    var extras: [Contender] = []
}
