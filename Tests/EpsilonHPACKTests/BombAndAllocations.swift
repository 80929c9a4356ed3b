import EpsilonHPACK
import EpsilonMallocCounter
import Foundation
import Testing

/// An HPACK bomb: one large entry, then thousands of one-octet references to it.
@Suite struct HPACKBomb {
    static func bomb(valueLength: Int, references: Int) -> [UInt8] {
        var block: [UInt8] = [0x40, 0x01, 0x78] // literal, incremental indexing, name "x"
        HPACKPrimitive.appendInteger(valueLength, prefixBits: 7, to: &block)
        block += [UInt8](repeating: 0x61, count: valueLength)
        block += [UInt8](repeating: 0xBE, count: references) // index 62: the entry just added
        return block
    }

    struct Outcome {
        var error: HPACKError?
        var fields: Int
        var seconds: Double
    }

    static func decode(_ block: [UInt8], limit: Int) -> Outcome {
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(maxHeaderListSize: limit))
        var fields = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var failure: HPACKError?
        do { try decoder.receive(block) { _ in fields += 1 } } catch { failure = error }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Outcome(error: failure, fields: fields, seconds: seconds)
    }

    @Test func bombIsRejectedOnceTheLimitIsCrossed() {
        // 4000-octet value: each reference adds 4033 octets to the list.
        let limit = 16_384
        let small = Self.decode(Self.bomb(valueLength: 4000, references: 1_000), limit: limit)
        let large = Self.decode(Self.bomb(valueLength: 4000, references: 4_000_000), limit: limit)
        for outcome in [small, large] {
            #expect(outcome.error?.rule == .headerListTooLarge)
            // 4 fields fit (4 * 4033 = 16132), the 5th crosses the limit.
            #expect(outcome.fields == 4)
            #expect(outcome.error?.offset == 4006 + 3) // the literal, then 3 references fit
        }
        // The work done depends on the limit, not on the 4 MB of input: the error comes at the
        // same offset, and no slower than a small multiple of the small block.
        #expect(large.seconds < max(small.seconds * 20, 0.05),
                "4 MB bomb took \(large.seconds) s, 1 KB bomb \(small.seconds) s")
    }

    @Test func workGrowsWithTheLimit() {
        // Smallest entry (name "x", empty value: 33 octets): fields before failure ≈ limit / 33.
        for limit in [1_000, 10_000, 100_000] {
            let outcome = Self.decode(Self.bomb(valueLength: 0, references: 1_000_000), limit: limit)
            #expect(outcome.error?.rule == .headerListTooLarge)
            #expect(outcome.fields == limit / 33)
        }
    }
}

/// Heap allocations per header block in steady state: a connection's encoder and decoder
/// working through the same story again and again.
@Suite(.serialized) struct SteadyStateAllocations {
    @Test func counterIsLive() {
        #expect(epsilon_malloc_counter_is_active() == 1)
    }

    @Test(arguments: ["story_00.json", "story_15.json", "story_29.json"])
    func encodeAndDecodeAllocateNothingPerBlock(_ storyName: String) throws {
        #expect(epsilon_malloc_counter_is_active() == 1)
        let story = try Vectors.story(Vectors.folder("raw-data").appendingPathComponent(storyName))
        let lists = story.map { $0.headers.map { HPACKHeaderField($0.name, $0.value) } }
        var encoder = HPACKHeaderBlockEncoder()
        var decoder = HPACKHeaderBlockDecoder()
        var block: [UInt8] = []
        block.reserveCapacity(1 << 16)
        var encodeAllocations: Int64 = 0
        var decodeAllocations: Int64 = 0
        var blocks = 0
        var decodedBytes = 0
        for round in 0..<3 {
            for list in lists {
                block.removeAll(keepingCapacity: true)
                epsilon_malloc_counter_start()
                encoder.encode(list, into: &block)
                let encoded = epsilon_malloc_counter_stop()
                var failure: HPACKError?
                epsilon_malloc_counter_start()
                do {
                    try decoder.receive(block) { field in decodedBytes &+= field.name.count &+ field.value.count }
                } catch {
                    failure = error
                }
                let decoded = epsilon_malloc_counter_stop()
                #expect(failure == nil)
                if round > 0 { // round 0 grows the scratch and table storage once
                    encodeAllocations += encoded
                    decodeAllocations += decoded
                    blocks += 1
                }
            }
        }
        print("allocations over \(blocks) steady-state blocks of raw-data/\(storyName): encode \(encodeAllocations), decode \(decodeAllocations)")
        #expect(blocks > 0 && decodedBytes > 0)
        #expect(encodeAllocations == 0)
        #expect(decodeAllocations == 0)
    }

    /// The counter does see allocations (guards against a count of 0 from a dead counter).
    @Test func counterSeesAnAllocatingDecode() throws {
        var decoder = HPACKHeaderBlockDecoder()
        epsilon_malloc_counter_start()
        let fields = try decoder.decodeFields([0x82, 0x86])
        let allocations = epsilon_malloc_counter_stop()
        #expect(fields.count == 2)
        #expect(allocations > 0)
    }
}
