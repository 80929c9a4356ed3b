// HPACK decode and encode: EpsilonHPACK against nghttp2 (libnghttp2) and SwiftNIO's NIOHPACK,
// over the hpack-test-case corpus in ../shared/vectors/hpack. Folded in from the former
// Benchmarks/HPACK package.
import CNghttp2
import EpsilonHPACK
import Foundation
import NIOCore
import NIOHPACK

typealias Story = [(wire: [UInt8], headers: [(String, String)])]

func hpackStories(_ vectors: URL, _ folder: String) throws -> [Story] {
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

/// The vectors folder, found from the repository root or from Benchmarks/.
func hpackVectors() -> URL {
    for candidate in ["../shared/vectors/hpack", "../../shared/vectors/hpack"] where FileManager.default.fileExists(atPath: candidate) {
        return URL(fileURLWithPath: candidate)
    }
    fatalError("../shared/vectors/hpack not found: run from the repository root or from Benchmarks/")
}

func hpackWorkloads() -> [Workload] {
    let vectors = hpackVectors()
    let decodeCorpus = try! hpackStories(vectors, "nghttp2")
    let encodeCorpus = try! hpackStories(vectors, "raw-data")
    let blocks = decodeCorpus.map(\.count).reduce(0, +)
    let wireBytes = decodeCorpus.flatMap { $0.map(\.wire.count) }.reduce(0, +)
    let encodeLists = encodeCorpus.map(\.count).reduce(0, +)
    let rawBytes = encodeCorpus.flatMap { $0.flatMap { $0.headers.map { $0.0.utf8.count + $0.1.utf8.count } } }.reduce(0, +)

    // MARK: decode (one fresh decoder per story, every block of the nghttp2 folder)
    let oursDecode = Contender(name: "epsilon") { ops in
        var total = 0
        for _ in 0..<ops {
            for story in decodeCorpus {
                var decoder = HPACKHeaderBlockDecoder()
                for block in story {
                    try! decoder.receive(block.wire) { field in total &+= field.name.count &+ field.value.count }
                }
            }
        }
        return total / ops
    }
    let allocator = ByteBufferAllocator()
    let buffers = decodeCorpus.map { $0.map { allocator.buffer(bytes: $0.wire) } }
    let nioDecode = Contender(name: "nio-hpack", note: "NIOHPACK's decodeHeaders builds HPACKHeaders (Strings)") { ops in
        var total = 0
        for _ in 0..<ops {
            for story in buffers {
                var decoder = HPACKDecoder(allocator: allocator)
                for var buffer in story {
                    let headers = try! decoder.decodeHeaders(from: &buffer)
                    for header in headers { total &+= header.name.utf8.count &+ header.value.utf8.count }
                }
            }
        }
        return total / ops
    }
    let nghttp2Decode = Contender(name: "nghttp2-hpack") { ops in
        var total = 0
        for _ in 0..<ops {
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
        }
        return total / ops
    }

    // MARK: encode (one fresh encoder per story, 4096-octet table, every list of raw-data)
    let epsilonLists = encodeCorpus.map { $0.map { $0.headers.map { HPACKHeaderField($0.0, $0.1) } } }
    var output: [UInt8] = []
    output.reserveCapacity(1 << 16)
    let oursEncode = Contender(name: "epsilon") { ops in
        var lists = 0
        for _ in 0..<ops {
            for story in epsilonLists {
                var encoder = HPACKHeaderBlockEncoder()
                for list in story {
                    output.removeAll(keepingCapacity: true)
                    encoder.encode(list, into: &output)
                    lists += output.isEmpty ? 0 : 1
                }
            }
        }
        return lists / ops
    }
    let nioLists = encodeCorpus.map { $0.map { HPACKHeaders($0.headers) } }
    var nioBuffer = allocator.buffer(capacity: 1 << 16)
    let nioEncode = Contender(name: "nio-hpack") { ops in
        var lists = 0
        for _ in 0..<ops {
            for story in nioLists {
                var encoder = HPACKEncoder(allocator: allocator)
                for headers in story {
                    nioBuffer.clear()
                    try! encoder.encode(headers: headers, to: &nioBuffer)
                    lists += nioBuffer.readableBytes == 0 ? 0 : 1
                }
            }
        }
        return lists / ops
    }
    // nghttp2 takes name/value pointers: keep every string's bytes alive in one arena.
    let arena: [[[(name: [UInt8], value: [UInt8])]]] = encodeCorpus.map { $0.map { $0.headers.map { (Array($0.0.utf8), Array($0.1.utf8)) } } }
    var deflateOutput = [UInt8](repeating: 0, count: 1 << 17)
    var fields: [nghttp2_nv] = []
    let nghttp2Encode = Contender(name: "nghttp2-hpack", note: "nghttp2's nghttp2_nv array is rebuilt per block, as its users do") { ops in
        var lists = 0
        for _ in 0..<ops {
            for story in arena {
                var deflater: OpaquePointer?
                precondition(nghttp2_hd_deflate_new(&deflater, 4096) == 0)
                for list in story {
                    fields.removeAll(keepingCapacity: true)
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
                    let written = deflateOutput.withUnsafeMutableBufferPointer { buffer in
                        nghttp2_hd_deflate_hd(deflater, buffer.baseAddress, buffer.count, &fields, fields.count)
                    }
                    precondition(written >= 0, "nghttp2 deflate failed")
                    lists += written == 0 ? 0 : 1
                }
                nghttp2_hd_deflate_del(deflater)
            }
        }
        return lists / ops
    }
    return [
        Workload(id: "hpack-decode", title: "HPACK decode, nghttp2 stories", unit: "block", itemsPerOp: blocks, bytesPerOp: wireBytes,
                 ours: oursDecode, peers: [nghttp2Decode, nioDecode]),
        Workload(id: "hpack-encode", title: "HPACK encode, raw-data lists", unit: "block", itemsPerOp: encodeLists, bytesPerOp: rawBytes,
                 ours: oursEncode, peers: [nghttp2Encode, nioEncode]),
    ]
}
