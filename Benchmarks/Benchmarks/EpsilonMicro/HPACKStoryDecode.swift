// HPACK decode of one story's blocks, steady state: each side's decoder is created outside the
// measured region (a fresh one per iteration, as a story needs) and first decodes, also outside,
// a warm-up block as long as the story's longest (`0x82`, the static `:method: GET`, repeated:
// it leaves the dynamic table empty), as a connection's decoder has after its first large block;
// so the malloc count is what decoding the story's blocks costs. The decode loops mirror the `hpack-decode` sides of
// HPACKWorkloads.swift (which create the decoder inside each operation); this is the only
// driver code duplicated here.
import Benchmark
import CNghttp2
import EpsilonHPACK
import NIOCore
import NIOHPACK

/// One story of `../shared/vectors/hpack/nghttp2`, decoded by ours, nghttp2 and NIOHPACK.
struct HPACKStoryDecode {
    /// `story_30`, the longest (646 blocks).
    let name = "story_30"
    let story: Story
    let wires: [[UInt8]]
    let buffers: [ByteBuffer]
    let allocator = ByteBufferAllocator()
    /// Indexed `:method: GET` fields, as many as the story's longest block has bytes.
    let warmUp: [UInt8]
    let warmUpBuffer: ByteBuffer

    init() {
        let stories = try! hpackStories(hpackVectors(), "nghttp2")
        story = stories[30]
        let allocator = self.allocator
        wires = story.map(\.wire)
        buffers = wires.map { allocator.buffer(bytes: $0) }
        warmUp = Array(repeating: 0x82, count: story.map(\.wire.count).max()!)
        warmUpBuffer = allocator.buffer(bytes: warmUp)
    }

    /// Decodes the warm-up block with each side's fresh decoder.
    func warm(_ decoder: inout HPACKHeaderBlockDecoder) {
        var fields = 0
        try! decoder.receive(warmUp) { _ in fields += 1 }
        precondition(fields == warmUp.count)
    }
    func warm(_ inflater: OpaquePointer?) {
        precondition(decodeNghttp2(inflater, [warmUp]) == warmUp.count)
    }
    func warm(_ decoder: inout HPACKDecoder) {
        // The warm-up list is longer than NIOHPACK's default limit: raise it for this block only.
        let limit = decoder.maxHeaderListSize
        decoder.maxHeaderListSize = Int.max
        var buffer = warmUpBuffer
        precondition(try! decoder.decodeHeaders(from: &buffer).count == warmUp.count)
        decoder.maxHeaderListSize = limit
    }

    /// Fields decoded by ours; `decoder` is fresh for the story.
    func epsilon(_ decoder: inout HPACKHeaderBlockDecoder) -> Int {
        var fields = 0
        for wire in wires {
            try! decoder.receive(wire) { field in
                fields += 1
                blackHole(field.name.count &+ field.value.count)
            }
        }
        return fields
    }

    /// Fields decoded by nghttp2's `nghttp2_hd_inflate_hd2`; `inflater` is fresh for the story.
    func nghttp2(_ inflater: OpaquePointer?) -> Int { decodeNghttp2(inflater, wires) }

    func decodeNghttp2(_ inflater: OpaquePointer?, _ blocks: [[UInt8]]) -> Int {
        var fields = 0
        for block in blocks {
            block.withUnsafeBufferPointer { input in
                var position = 0
                while true {
                    var field = nghttp2_nv()
                    var flags: Int32 = 0
                    let consumed = nghttp2_hd_inflate_hd2(inflater, &field, &flags, input.baseAddress! + position, input.count - position, 1)
                    precondition(consumed >= 0, "nghttp2 inflate failed")
                    position += consumed
                    if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) != 0 {
                        fields += 1
                        blackHole(field.namelen &+ field.valuelen)
                    }
                    if flags & Int32(NGHTTP2_HD_INFLATE_FINAL.rawValue) != 0 {
                        nghttp2_hd_inflate_end_headers(inflater)
                        break
                    }
                    if flags & Int32(NGHTTP2_HD_INFLATE_EMIT.rawValue) == 0 && position == input.count { break }
                }
            }
        }
        return fields
    }

    /// Fields decoded by NIOHPACK's `decodeHeaders` (HPACKHeaders, Strings); `decoder` is fresh.
    func nio(_ decoder: inout HPACKDecoder) -> Int {
        var fields = 0
        for var buffer in buffers {
            let headers = try! decoder.decodeHeaders(from: &buffer)
            for header in headers {
                fields += 1
                blackHole(header.name.utf8.count &+ header.value.utf8.count)
            }
        }
        return fields
    }

    /// Registers the three sides after checking they decode the same number of fields.
    func register(configuration: Benchmark.Configuration) {
        let id = "hpack-decode-\(name)"
        var ours = HPACKHeaderBlockDecoder()
        let expected = epsilon(&ours)
        precondition(expected == story.map(\.headers.count).reduce(0, +), "\(id): epsilon decoded \(expected) fields")
        var inflater: OpaquePointer?
        precondition(nghttp2_hd_inflate_new(&inflater) == 0)
        let nghttp2Fields = nghttp2(inflater)
        nghttp2_hd_inflate_del(inflater)
        precondition(nghttp2Fields == expected, "\(id): nghttp2-hpack decoded \(nghttp2Fields) fields, epsilon \(expected)")
        var nioDecoder = HPACKDecoder(allocator: allocator)
        let nioFields = nio(&nioDecoder)
        precondition(nioFields == expected, "\(id): nio-hpack decoded \(nioFields) fields, epsilon \(expected)")

        Benchmark("\(id) epsilon", configuration: configuration) { benchmark in
            var decoder = HPACKHeaderBlockDecoder()
            warm(&decoder)
            benchmark.startMeasurement()
            blackHole(epsilon(&decoder))
            benchmark.stopMeasurement()
        }
        Benchmark("\(id) nghttp2-hpack", configuration: configuration) { benchmark in
            var inflater: OpaquePointer?
            precondition(nghttp2_hd_inflate_new(&inflater) == 0)
            warm(inflater)
            benchmark.startMeasurement()
            blackHole(nghttp2(inflater))
            benchmark.stopMeasurement()
            nghttp2_hd_inflate_del(inflater)
        }
        Benchmark("\(id) nio-hpack", configuration: configuration) { benchmark in
            var decoder = HPACKDecoder(allocator: allocator)
            warm(&decoder)
            benchmark.startMeasurement()
            blackHole(nio(&decoder))
            benchmark.stopMeasurement()
        }
    }
}
