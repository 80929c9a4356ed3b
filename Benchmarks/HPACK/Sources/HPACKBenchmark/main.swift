// HPACK decode and encode throughput: Epsilon vs SwiftNIO's NIOHPACK vs nghttp2 (libnghttp2),
// over the hpack-test-case corpus in ../shared/vectors/hpack. Prints one line per workload
// with the time per pass and Epsilon's speed-up over each peer, and the encoded sizes.
import CNghttp2
import EpsilonHPACK
import Foundation
import NIOCore
import NIOHPACK

let vectors = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "../shared/vectors/hpack")
let passes = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2])! : 20

func stories(_ folder: String) throws -> [[(wire: [UInt8], headers: [(String, String)])]] {
    let url = vectors.appendingPathComponent(folder)
    return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasPrefix("story_") }.sorted().map { name in
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url.appendingPathComponent(name))) as! [String: Any]
        return (root["cases"] as! [[String: Any]]).map { item in
            let hex = Array((item["wire"] as? String ?? "").utf8)
            var wire: [UInt8] = []
            var index = 0
            while index + 1 < hex.count {
                wire.append(UInt8(String(decoding: hex[index...index + 1], as: UTF8.self), radix: 16)!)
                index += 2
            }
            let headers = (item["headers"] as! [[String: String]]).map { ($0.first!.key, $0.first!.value) }
            return (wire, headers)
        }
    }
}

/// Best time of `passes` runs of `body`, in seconds.
func measure(_ body: () throws -> Int) rethrows -> (seconds: Double, check: Int) {
    var best = Double.infinity
    var check = 0
    for _ in 0..<passes {
        let start = DispatchTime.now().uptimeNanoseconds
        check = try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return (best, check)
}

let decodeCorpus = try stories("nghttp2")
let encodeCorpus = try stories("raw-data")
let blockCount = decodeCorpus.map(\.count).reduce(0, +)
let wireBytes = decodeCorpus.flatMap { $0.map(\.wire.count) }.reduce(0, +)

// MARK: decode
let epsilonDecode = measure {
    var total = 0
    for story in decodeCorpus {
        var decoder = HeaderBlockDecoder()
        for block in story {
            try! decoder.decode(block.wire) { field in total &+= field.name.count &+ field.value.count }
        }
    }
    return total
}

let nioDecode = try measure {
    var total = 0
    let allocator = ByteBufferAllocator()
    let buffers = decodeCorpus.map { $0.map { allocator.buffer(bytes: $0.wire) } }
    for story in buffers {
        var decoder = HPACKDecoder(allocator: allocator)
        for var buffer in story {
            let headers = try decoder.decodeHeaders(from: &buffer)
            for header in headers { total &+= header.name.utf8.count &+ header.value.utf8.count }
        }
    }
    return total
}

let nghttp2Decode = measure {
    var total = 0
    for story in decodeCorpus {
        var inflater: OpaquePointer?
        precondition(nghttp2_hd_inflate_new(&inflater) == 0)
        for block in story {
            block.wire.withUnsafeBufferPointer { input in
                var position = 0
                while true {
                    var field = nghttp2_nv()
                    var flags: Int32 = 0
                    let consumed = nghttp2_hd_inflate_hd2(inflater, &field, &flags, input.baseAddress! + position, input.count - position, 1)
                    precondition(consumed >= 0, "nghttp2 inflate failed")
                    position += consumed
                    if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 { total &+= field.namelen &+ field.valuelen }
                    if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                        nghttp2_hd_inflate_end_headers(inflater)
                        break
                    }
                    if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) == 0 && position == input.count { break }
                }
            }
        }
        nghttp2_hd_inflate_del(inflater)
    }
    return total
}
precondition(epsilonDecode.check == nioDecode.check && epsilonDecode.check == nghttp2Decode.check, "decoders disagree")

// MARK: encode
let epsilonLists = encodeCorpus.map { $0.map { $0.headers.map { HeaderField($0.0, $0.1) } } }
var epsilonSize = 0
let epsilonEncode = measure {
    var size = 0
    var output: [UInt8] = []
    output.reserveCapacity(1 << 16)
    for story in epsilonLists {
        var encoder = HeaderBlockEncoder()
        for list in story {
            output.removeAll(keepingCapacity: true)
            encoder.encode(list, into: &output)
            size &+= output.count
        }
    }
    return size
}

let nioLists = encodeCorpus.map { $0.map { HPACKHeaders($0.headers) } }
let nioEncode = try measure {
    var size = 0
    let allocator = ByteBufferAllocator()
    var buffer = allocator.buffer(capacity: 1 << 16)
    for story in nioLists {
        var encoder = HPACKEncoder(allocator: allocator)
        for headers in story {
            buffer.clear()
            try encoder.encode(headers: headers, to: &buffer)
            size &+= buffer.readableBytes
        }
    }
    return size
}

// nghttp2 takes name/value pointers: keep every string's bytes alive in one arena.
let arena: [[[(name: [UInt8], value: [UInt8])]]] = encodeCorpus.map { $0.map { $0.headers.map { (Array($0.0.utf8), Array($0.1.utf8)) } } }
let nghttp2Encode = measure {
    var size = 0
    var output = [UInt8](repeating: 0, count: 1 << 17)
    for story in arena {
        var deflater: OpaquePointer?
        precondition(nghttp2_hd_deflate_new(&deflater, 4096) == 0)
        for list in story {
            var fields: [nghttp2_nv] = []
            fields.reserveCapacity(list.count)
            // The arrays live in `arena` for the whole run, so these pointers stay valid.
            for field in list {
                field.name.withUnsafeBufferPointer { name in
                    field.value.withUnsafeBufferPointer { value in
                        fields.append(nghttp2_nv(
                            name: UnsafeMutablePointer(mutating: name.baseAddress ?? UnsafePointer(bitPattern: 1)!),
                            value: UnsafeMutablePointer(mutating: value.baseAddress ?? UnsafePointer(bitPattern: 1)!),
                            namelen: name.count, valuelen: value.count, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                    }
                }
            }
            let written = output.withUnsafeMutableBufferPointer { buffer in
                nghttp2_hd_deflate_hd(deflater, buffer.baseAddress, buffer.count, &fields, fields.count)
            }
            precondition(written >= 0, "nghttp2 deflate failed")
            size &+= written
        }
        nghttp2_hd_deflate_del(deflater)
    }
    return size
}

func line(_ name: String, _ ours: Double, _ nio: Double, _ nghttp2: Double) -> String {
    String(format: "%@: Epsilon %.2f ms, NIOHPACK %.2f ms (Epsilon %.2fx faster), nghttp2 %.2f ms (Epsilon %.2fx faster)",
           name, ours * 1e3, nio * 1e3, nio / ours, nghttp2 * 1e3, nghttp2 / ours)
}
print("corpus: \(blockCount) blocks, \(wireBytes) wire bytes (nghttp2 folder) to decode; raw-data lists to encode; best of \(passes) passes")
print(line("decode", epsilonDecode.seconds, nioDecode.seconds, nghttp2Decode.seconds))
print(line("encode", epsilonEncode.seconds, nioEncode.seconds, nghttp2Encode.seconds))
print("encoded size: Epsilon \(epsilonEncode.check) bytes, NIOHPACK \(nioEncode.check) bytes, nghttp2 (libnghttp2 1.52) \(nghttp2Encode.check) bytes")
