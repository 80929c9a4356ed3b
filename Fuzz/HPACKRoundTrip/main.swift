// Property: HPACKHeaderBlockEncoder's blocks decode, in HPACKHeaderBlockDecoder, to the fields that
// were encoded, in order, with never-indexed fields still marked so (RFC 7541 §6.2.3), and
// the two dynamic tables stay identical, table size changes (RFC 7541 §4.2) included.
//
// Input: a flags byte (bits 0-1 Huffman when shorter/always/never, bits 2-3 indexing policy
// default/always/never, bits 4-5 the encoder's own table size 4096/0/256/65536), then
// operations, one byte each, the low three bits choosing:
//   0-3  a field with indexing from the policy, incremental, without, never indexed: name and
//        value length-prefixed, or (high bit of the operation set) a static table entry
//        picked by the next byte, its value kept or replaced by a length-prefixed one;
//   4    a field that repeats the n-th field of this block (next byte), to hit the table;
//   5    end of block: encode, decode, compare;
//   6    the decoder announces a new SETTINGS_HEADER_TABLE_SIZE (next byte picks it), which
//        the encoder applies as the peer's limit;
//   7    the encoder changes the table size it wants (next byte picks it).
import EpsilonHPACK
import FuzzSupport

/// The static table (RFC 7541 Appendix A), read through the decoder itself.
private let staticTable: [(name: [UInt8], value: [UInt8])] = {
    var decoder = HPACKHeaderBlockDecoder()
    return (1...61).map { index in
        var entry: ([UInt8], [UInt8]) = ([], [])
        try? decoder.receive([0x80 | UInt8(index)]) { entry = (Array($0.name), Array($0.value)) }
        return entry
    }
}()

private let tableSizes = [0, 32, 64, 100, 256, 1000, 4096, 65_536]

private struct Field {
    var name: [UInt8]
    var value: [UInt8]
    var indexing: HPACKFieldIndexing?
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let huffman: [HPACKHeaderBlockEncoder.HuffmanUse] = [.whenShorter, .always, .never, .whenShorter]
    let policies: [HPACKIndexingPolicy] = [.default, .always, .never, .default]
    var encoder = HPACKHeaderBlockEncoder(configuration: .init(
        maxTableSize: [4096, 0, 256, 65_536][Int(flags >> 4 & 3)],
        huffman: huffman[Int(flags & 3)],
        policy: policies[Int(flags >> 2 & 3)]
    ))
    var decoder = HPACKHeaderBlockDecoder(configuration: .init(
        maxTableSize: 4096, maxHeaderListSize: 1 << 30, maxStringLength: 1 << 20, forbiddenCharacters: .flag
    ))
    var fields: [Field] = []
    var block: [UInt8] = []
    var blocks = 0

    func roundTrip() {
        block.removeAll(keepingCapacity: true)
        encoder.beginBlock(into: &block)
        for field in fields {
            field.name.withUnsafeBytes { name in
                field.value.withUnsafeBytes { value in
                    encoder.append(name: name, value: value, indexing: field.indexing, into: &block)
                }
            }
        }
        var decoded: [Field] = []
        do {
            try decoder.receive(block) { view in
                let indexing: HPACKFieldIndexing? = switch view.representation {
                case .indexed: nil
                case .incrementalIndexing: .incremental
                case .withoutIndexing: .withoutIndexing
                case .neverIndexed: .neverIndexed
                }
                decoded.append(Field(name: Array(view.name), value: Array(view.value), indexing: indexing))
            }
        } catch {
            fuzzCheck(false, "block \(blocks) did not decode: \(error)\n  block: \(escaped(block))")
        }
        fuzzCheck(decoded.count == fields.count, "block \(blocks): \(fields.count) fields encoded, \(decoded.count) decoded")
        for (k, (sent, got)) in zip(fields, decoded).enumerated() {
            fuzzCheck(sent.name == got.name && sent.value == got.value,
                      "block \(blocks) field \(k): encoded \(escaped(sent.name)): \(escaped(sent.value)), decoded \(escaped(got.name)): \(escaped(got.value))")
            if sent.indexing == .neverIndexed {
                fuzzCheck(got.indexing == .neverIndexed, "block \(blocks) field \(k): never-indexed field decoded as \(String(describing: got.indexing))")
            }
        }
        fuzzCheck(encoder.dynamicTableCount == decoder.dynamicTableCount && encoder.dynamicTableSize == decoder.dynamicTableSize
                  && encoder.dynamicTableMaxSize == decoder.dynamicTableMaxSize,
                  "after block \(blocks) the tables differ: encoder \(encoder.dynamicTableMaxSize) \(encoder.dynamicTableEntries), decoder \(decoder.dynamicTableMaxSize) \(decoder.dynamicTableEntries)")
        fields.removeAll(keepingCapacity: true)
        blocks += 1
    }

    while !input.isAtEnd {
        let operation = input.byte()
        switch operation & 7 {
        case 0...3:
            let indexing: HPACKFieldIndexing? = [nil, .incremental, .withoutIndexing, .neverIndexed][Int(operation & 3)]
            if operation & 0x80 != 0 {
                let entry = staticTable[Int(input.byte()) % staticTable.count]
                let value = operation & 0x40 != 0 ? Array(input.lengthPrefixed()) : entry.value
                fields.append(Field(name: entry.name, value: value, indexing: indexing))
            } else {
                fields.append(Field(name: Array(input.lengthPrefixed()), value: Array(input.lengthPrefixed()), indexing: indexing))
            }
        case 4:
            let pick = Int(input.byte())
            if !fields.isEmpty { fields.append(fields[pick % fields.count]) }
        case 5:
            roundTrip()
        case 6:
            let limit = tableSizes[Int(input.byte() & 7)]
            decoder.setMaxTableSize(limit)
            encoder.setPeerMaxTableSize(limit)
        default:
            encoder.setMaxTableSize(tableSizes[Int(input.byte() & 7)])
        }
    }
    // A last block, even empty: a table size change made after the last block shrinks the
    // encoder's table at once, but the decoder's only when the next block's size update
    // arrives (RFC 7541 §4.2), so the tables can be compared only after one more block.
    roundTrip()
    // Entry by entry once at the end (copying every entry after every block is what made
    // this harness slow); sizes and counts were compared after each block.
    fuzzCheck(encoder.dynamicTableEntries == decoder.dynamicTableEntries,
              "the tables differ: encoder \(encoder.dynamicTableEntries), decoder \(decoder.dynamicTableEntries)")
    return 0
}
