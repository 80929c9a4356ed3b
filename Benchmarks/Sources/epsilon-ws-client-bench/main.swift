// epsilon-ws-client-bench: small-message round trips per second against a WebSocket echo
// endpoint (issue 18's benchmark; Benchmarks/load/websocket-client.sh runs it against
// `epsilon serve`'s /ws/echo beside Python's `websockets`).
//   epsilon-ws-client-bench --client epsilon|hummingbird --url ws://127.0.0.1:P/ws/echo
//                           [--connections 1] [--size 64] [--warmup 1] [--seconds 5]
// Every connection sends one text message of SIZE bytes, waits for its echo, checks it is the
// same text, and sends the next (one in flight per connection). After the warm-up, round trips
// are counted for SECONDS; the line printed gives round trips/s, the client process's CPU time
// over the same window (round trips per client CPU second), and the latency percentiles:
//   rtt NAME: R round trips/s (C connections, S-byte text), client CPU F, P per client CPU second, p50 X us, p99 Y us
// Exit status 1 when a connection failed or an echo differed.
import Glibc
import Synchronization

/// What every connection shares: the counters, the phase and the failures.
final class RoundTripTally: Sendable {
    let counting = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    let roundTrips = Atomic<Int>(0)
    private let samples = Mutex<[Int]>([])
    private let errors = Mutex<[String]>([])

    /// Counts one round trip of `nanoseconds` if the window is open; false once the run stops.
    func record(nanoseconds: Int) -> Bool {
        if counting.load(ordering: .relaxed) {
            roundTrips.add(1, ordering: .relaxed)
            samples.withLock { if $0.count < 4_000_000 { $0.append(nanoseconds) } }
        }
        return !stopping.load(ordering: .relaxed)
    }

    func fail(_ message: String) {
        errors.withLock { $0.append(message) }
        stopping.store(true, ordering: .relaxed)
    }

    var failures: [String] { errors.withLock { $0 } }

    /// The latency at quantile `q` (0...1), in microseconds.
    func percentile(_ q: Double) -> Int {
        samples.withLock { values in
            guard !values.isEmpty else { return 0 }
            values.sort()
            return values[min(values.count - 1, Int(Double(values.count) * q))] / 1000
        }
    }
}

/// One side: runs one connection's loop until `tally` says stop.
typealias RoundTripClient = @Sendable (_ url: String, _ text: String, _ tally: RoundTripTally) async -> Void

/// Nanoseconds of CPU time this process used (user and system).
func processCPUNanoseconds() -> Int {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    let user = Int(usage.ru_utime.tv_sec) * 1_000_000_000 + Int(usage.ru_utime.tv_usec) * 1000
    let system = Int(usage.ru_stime.tv_sec) * 1_000_000_000 + Int(usage.ru_stime.tv_usec) * 1000
    return user + system
}

func usage() -> Never {
    print("usage: epsilon-ws-client-bench --client epsilon|hummingbird --url ws://HOST:PORT/PATH [--connections N] [--size BYTES] [--warmup S] [--seconds S]")
    exit(2)
}

var options: [String: String] = ["--connections": "1", "--size": "64", "--warmup": "1", "--seconds": "5"]
var arguments = CommandLine.arguments.dropFirst()
while let name = arguments.popFirst() {
    guard name.hasPrefix("--"), let value = arguments.popFirst() else { usage() }
    options[name] = value
}
guard let url = options["--url"], let clientName = options["--client"],
      let connections = Int(options["--connections"]!), connections > 0,
      let size = Int(options["--size"]!), size > 0,
      let warmup = Double(options["--warmup"]!), let seconds = Double(options["--seconds"]!), seconds > 0
else { usage() }
let clients: [String: RoundTripClient] = ["epsilon": epsilonRoundTrips, "hummingbird": hummingbirdRoundTrips]
guard let client = clients[clientName] else { usage() }

// A chat-like text: ASCII, SIZE bytes.
let text = String(repeating: "{\"user\":\"bench\",\"text\":\"hello\"}", count: size / 32 + 1).prefix(size).description
let tally = RoundTripTally()
let (rate, cpu) = await withTaskGroup(of: Void.self) { group in
    for _ in 0..<connections {
        group.addTask { await client(url, text, tally) }
    }
    try? await Task.sleep(for: .seconds(warmup))
    let clock = ContinuousClock()
    let start = clock.now
    let cpuStart = processCPUNanoseconds()
    tally.counting.store(true, ordering: .relaxed)
    try? await Task.sleep(for: .seconds(seconds))
    tally.counting.store(false, ordering: .relaxed)
    let counted = tally.roundTrips.load(ordering: .relaxed)
    let cpuUsed = Double(processCPUNanoseconds() - cpuStart) / 1e9
    let elapsed = start.duration(to: clock.now) / .seconds(1)
    tally.stopping.store(true, ordering: .relaxed)
    await group.waitForAll()
    return (Double(counted) / elapsed, cpuUsed / elapsed)
}
let perCPU = cpu > 0 ? rate / cpu : 0
print("rtt \(clientName): \(Int(rate)) round trips/s (\(connections) connections, \(size)-byte text), client CPU \((cpu * 100).rounded() / 100), \(Int(perCPU)) per client CPU second, p50 \(tally.percentile(0.5)) us, p99 \(tally.percentile(0.99)) us", terminator: "")
let failures = tally.failures
if failures.isEmpty {
    print(", all echoes checked")
} else {
    print(", \(failures.count) connections FAILED (first: \(failures[0]))")
    exit(1)
}
