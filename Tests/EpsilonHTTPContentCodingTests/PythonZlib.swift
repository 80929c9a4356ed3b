import Foundation

/// Runs one Python expression over bytes (`d` is stdin's bytes; the expression's value goes to
/// stdout), for checking our codings against Python's gzip and zlib modules. Files, not pipes,
/// carry the data so a large body cannot deadlock; the run is bounded by a timeout.
enum PythonZlib {
    struct Failed: Error, CustomStringConvertible {
        let description: String
    }

    static func run(_ expression: String, on input: [UInt8], timeout: Duration = .seconds(30)) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let inURL = folder.appendingPathComponent("cc-in-\(id)")
        let outURL = folder.appendingPathComponent("cc-out-\(id)")
        let errURL = folder.appendingPathComponent("cc-err-\(id)")
        defer {
            for url in [inURL, outURL, errURL] { try? FileManager.default.removeItem(at: url) }
        }
        try Data(input).write(to: inURL)
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sys, gzip, zlib\nd = sys.stdin.buffer.read()\nsys.stdout.buffer.write(\(expression))"]
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw Failed(description: "python3 timed out on \(expression)")
            }
            usleep(2_000)
        }
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            throw Failed(description: "python3 failed on \(expression): \(errors)")
        }
        return [UInt8](try Data(contentsOf: outURL))
    }
}

/// Deterministic test bodies: runs of text, repeats and noise, so they compress a little.
func sampleBody(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var state = seed
    var bytes = [UInt8]()
    bytes.reserveCapacity(count)
    let words = Array("the quick brown fox jumps over the lazy dog; HTTP content coding ".utf8)
    while bytes.count < count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let kind = state >> 61
        let length = Int(state >> 40 & 0xFF) + 1
        for i in 0..<length where bytes.count < count {
            if kind < 4 {
                bytes.append(words[(Int(state >> 20 & 0xFF) + i) % words.count])
            } else {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
        }
    }
    return bytes
}

/// Splits `count` into piece sizes: 1 byte at a time, or a cycle of odd sizes.
func pieceSizes(total count: Int, oneByte: Bool) -> [Int] {
    if oneByte { return Array(repeating: 1, count: count) }
    let cycle = [1, 7, 300, 4093, 16_384, 65_537]
    var sizes = [Int]()
    var left = count
    var i = 0
    while left > 0 {
        let size = min(left, cycle[i % cycle.count])
        sizes.append(size)
        left -= size
        i += 1
    }
    return sizes
}
