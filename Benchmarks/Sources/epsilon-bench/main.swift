// epsilon-bench: Epsilon's machines against named peers, interleaved, in one run.
// Usage: epsilon-bench [--quick] [--only ID[,ID...]]
//        epsilon-bench --run ID --side NAME --ops N   (one side only; for callgrind.sh)
import CBenchMalloc
import CBenchPeers
import CNghttp2
import Foundation
@_spi(EpsilonInternal) import EpsilonWebSocket

var settings = Settings()
var runID: String?
var runSide = "epsilon"
var runOps = 1000
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--quick": settings.quick = true
    case "--only": settings.only = arguments.next()
    case "--run": runID = arguments.next()
    case "--side": runSide = arguments.next() ?? runSide
    case "--ops": runOps = Int(arguments.next() ?? "") ?? runOps
    case "--list":
        print("pico-703 browser-10 browser-30 pipelined-32 response-cl response-chunked hpack-decode hpack-encode "
              + "h2-server h2-frames ws-small ws-64k ws-utf8 ws-unmask ws-unmask-utf8")
        exit(0)
    default:
        print("usage: epsilon-bench [--quick] [--only ID,...] [--list] | --run ID --side NAME --ops N")
        exit(argument == "--help" || argument == "-h" ? 0 : 2)
    }
}

func workloads(matching ids: [String]?) -> [Workload] {
    var all: [Workload] = []
    let families = ["hpack", "h2-", "ws-"]
    if ids == nil || ids!.contains(where: { id in !families.contains(where: { id.hasPrefix($0) }) }) { all += http1Workloads() }
    if ids == nil || ids!.contains(where: { $0.hasPrefix("hpack") }) { all += hpackWorkloads() }
    if ids == nil || ids!.contains(where: { $0.hasPrefix("h2-") }) { all += http2Workloads() }
    if ids == nil || ids!.contains(where: { $0.hasPrefix("ws-") }) { all += webSocketWorkloads() }
    return ids.map { ids in all.filter { ids.contains($0.id) } } ?? all
}

// One side of one workload, N operations, nothing else: instruction counts come from the
// difference of two such runs (callgrind.sh), so set-up cancels out.
if let runID {
    guard let workload = workloads(matching: [runID]).first else { print("no workload \(runID)"); exit(2) }
    let sides = [workload.ours] + workload.peers + workload.extras
    guard let side = sides.first(where: { $0.name == runSide }) else {
        print("no side \(runSide) in \(runID): " + sides.map(\.name).joined(separator: ", "))
        exit(2)
    }
    let check = side.run(runOps)
    print("\(runID) \(runSide) ops=\(runOps) items/op=\(workload.itemsPerOp) check=\(check)")
    exit(0)
}

guard bench_malloc_counter_is_active() != 0 else { fatalError("the malloc interposer is not active") }
let started = Date()
let loadBefore = loadAverage()
let llhttpVersion = bench_llhttp_version()
let httpParserVersion = bench_http_parser_version()
print("epsilon-bench\(settings.quick ? " --quick" : ""): \(ProcessInfo.processInfo.activeProcessorCount) CPUs, load average \(loadBefore) at start")
print("peers: picohttpparser (pycohttpparser 1.1.0), llhttp \(llhttpVersion / 10000).\(llhttpVersion / 100 % 100).\(llhttpVersion % 100), "
      + "http-parser \(httpParserVersion / 10000).\(httpParserVersion / 100 % 100).\(httpParserVersion % 100) (Debian), "
      + "swift-nio 2.101.3 (NIOHTTP1, NIOWebSocket), swift-nio-http2 1.46.0 (NIOHPACK, NIOHTTP2), nghttp2 \(String(cString: nghttp2_version(0)!.pointee.version_str)) (Debian libnghttp2), glibc memcpy")
print("build: Swift -O (release), C peers clang -O2 -march=x86-64 (plain x86-64, no -march=native); "
      + "\(settings.rounds) interleaved rounds of ~\(String(format: "%.0f", settings.sampleSeconds * 1000)) ms of thread CPU time per side; times are the best round, "
      + "(med) is the ratio of medians; ratio = peer time / ours, > 1 means Epsilon is faster; allocs per item")
print("")

let ids = settings.only.map { $0.split(separator: ",").map(String.init) }
var rows: [Row] = []
var notes: [String: String] = [:]
for workload in workloads(matching: ids) {
    let measured = measure(workload, settings: settings)
    rows += measured
    printTable(measured)
    fflush(nil)
    for peer in workload.peers { if let note = peer.note { notes[peer.name] = note } }
}

print("")
print("Full table:")
printTable(rows)
for (peer, note) in notes.sorted(by: { $0.key < $1.key }) { print("note: \(peer): \(note)") }
print("load average \(loadBefore) at start, \(loadAverage()) at end; \(String(format: "%.0f", Date().timeIntervalSince(started))) s")
var order: [String] = []
var minimum: [String: Double] = [:]
// The rows of the instruction-set paths the validator does not use (ws-unmask-utf8-sse2, ...)
// are there to compare; the line takes the rows of what the library runs.
let pathSuffixes = WebSocketUTF8Validator.InstructionSet.allCases.map { "-\($0)" }
for row in rows where !pathSuffixes.contains(where: { row.workload.id.hasSuffix($0) }) {
    if minimum[row.peer] == nil { order.append(row.peer) }
    minimum[row.peer] = min(minimum[row.peer] ?? .infinity, row.ratio)
}
print("min ratio: " + order.map { "\($0) " + String(format: "%.2f", minimum[$0]!) }.joined(separator: ", "))
