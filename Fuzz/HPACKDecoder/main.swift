// Fuzzes HPACKHeaderBlockDecoder with a sequence of arbitrary header blocks on one connection.
// Input: a configuration byte (bits 0-1 table size 4096/0/256/65536, bits 2-3 header list
// limit, bits 4-5 string limit, bit 6 flag rather than reject CR/LF/NUL), then operations:
// a two-byte big-endian word with the top bit clear is a block of that many bytes (15 bits);
// with the top bit set, its low 15 bits become the new SETTINGS_HEADER_TABLE_SIZE.
// Checks, besides "no crash": every field respects the string and list limits and the
// forbidden-character policy, the dynamic table's size is the sum of its entries and within
// its maximum, and after an error the decoder stays unusable.
import EpsilonHPACK
import FuzzSupport

private struct Checker {
    var configuration: HPACKHeaderBlockDecoder.Configuration
    var listSize = 0

    mutating func handle(_ field: HPACKHeaderFieldView) {
        // The string limit applies to literals; table entries were literals when inserted,
        // except the static table's (names up to 27 octets, values up to 28).
        if field.representation != .indexed {
            fuzzCheck(field.name.count <= max(configuration.maxStringLength, 27) && field.value.count <= configuration.maxStringLength,
                      "literal of \(field.name.count)+\(field.value.count) octets over the string limit \(configuration.maxStringLength)")
        }
        listSize += field.size
        fuzzCheck(listSize <= configuration.maxHeaderListSize,
                  "header list of \(listSize) over the limit \(configuration.maxHeaderListSize)")
        let forbidden = field.value.contains { $0 == 0x0D || $0 == 0x0A || $0 == 0x00 }
        fuzzCheck(field.hasForbiddenCharacter == forbidden,
                  "hasForbiddenCharacter \(field.hasForbiddenCharacter) for \(escaped(field.value))")
        if configuration.forbiddenCharacters == .reject {
            fuzzCheck(!forbidden, "a value with CR, LF or NUL was delivered: \(escaped(field.value))")
        }
    }
}

/// The dynamic table's size counted from its entries' raw octets (RFC 7541 §4.1), read by
/// indexing every entry on a copy of the decoder; `nil` when the copy cannot decode (a size
/// update is owed first). `dynamicTableEntries` will not do: it decodes octets as UTF-8.
private func tableBytes(_ decoder: HPACKHeaderBlockDecoder) -> Int? {
    var probe = decoder
    probe.setMaxHeaderListSize(.max)
    var block: [UInt8] = []
    for index in 0..<decoder.dynamicTableCount {
        HPACKPrimitive.appendInteger(62 + index, prefixBits: 7, flags: 0x80, to: &block)
    }
    var total = 0, count = 0
    do {
        try probe.receive(block) { field in
            total += field.size
            count += 1
        }
    } catch {
        return nil
    }
    fuzzCheck(count == decoder.dynamicTableCount, "indexed \(count) of \(decoder.dynamicTableCount) entries")
    return total
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.byte()
    let sizes = [4096, 0, 256, 65_536]
    let configuration = HPACKHeaderBlockDecoder.Configuration(
        maxTableSize: sizes[Int(flags & 3)],
        maxHeaderListSize: [65_536, 256, 4096, 1 << 20][Int(flags >> 2 & 3)],
        maxStringLength: [16_384, 16, 256, 4096][Int(flags >> 4 & 3)],
        forbiddenCharacters: flags & 64 != 0 ? .flag : .reject
    )
    var decoder = HPACKHeaderBlockDecoder(configuration: configuration)
    var largestLimit = configuration.maxTableSize
    var failed: HPACKError?
    while !input.isAtEnd {
        let word = Int(input.byte()) << 8 | Int(input.byte())
        if word & 0x8000 != 0 {
            decoder.setMaxTableSize(word & 0x7FFF)
            largestLimit = max(largestLimit, word & 0x7FFF)
            continue
        }
        let block = input.take(word)
        var checker = Checker(configuration: decoder.configuration)
        do {
            try decoder.receive(block) { checker.handle($0) }
            fuzzCheck(failed == nil, "a decoder that failed with \(failed!) decoded again")
        } catch {
            if let failed {
                fuzzCheck(error.rule == .decoderUnusable, "a failed decoder threw \(error), not decoderUnusable (first \(failed))")
            } else {
                failed = error
                fuzzCheck(error.offset >= 0 && error.offset <= block.count, "error offset \(error.offset) outside a block of \(block.count)")
            }
            fuzzCheck(!decoder.isUsable && decoder.failure == failed, "failure \(String(describing: decoder.failure)), thrown \(failed!)")
        }
        fuzzCheck(decoder.dynamicTableSize <= decoder.dynamicTableMaxSize, "table size \(decoder.dynamicTableSize) over its maximum \(decoder.dynamicTableMaxSize)")
        fuzzCheck(decoder.dynamicTableMaxSize <= largestLimit, "table maximum \(decoder.dynamicTableMaxSize) over every limit announced (\(largestLimit))")
    }
    // Entry by entry once at the end: reading every entry after every block is slow.
    fuzzCheck(failed != nil || tableBytes(decoder).map { $0 == decoder.dynamicTableSize } ?? true,
              "entries take \(String(describing: tableBytes(decoder))) octets, size says \(decoder.dynamicTableSize)")
    return 0
}
