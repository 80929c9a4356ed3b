/// The static Huffman code of RFC 7541 §5.2 and Appendix B.
///
/// Decoding walks a 256-state machine a whole octet at a time (nghttp2 takes four bits per
/// step; eight halve the lookups for a 256 KiB table): each state is an internal node of the
/// code tree, and one lookup per input octet gives the next state, the symbols completed on
/// the way (at most two: no code is shorter than 5 bits) and whether the bits read since the
/// last symbol are a valid padding (a prefix of EOS, at most 7 bits).
enum Huffman {
    // Layout of one decode table entry (UInt32): next state in bits 0-7, flags in bits 9-11,
    // the number of symbols emitted in bits 12-13, the symbols in bits 16-23 and 24-31.
    static let accepting: UInt32 = 1 << 9
    static let failsOnEOS: UInt32 = 1 << 10
    static let onEOSPath: UInt32 = 1 << 11

    /// `decodeTable[state << 8 | octet]`, laid out as above.
    static let decodeTable: [UInt32] = buildDecodeTable()

    /// `encodeTable[symbol]`: the code in bits 8-39, its length in bits 0-7.
    static let encodeTable: [UInt64] = (0..<256).map { symbol in
        UInt64(huffmanCodes[symbol]) << 8 | UInt64(huffmanCodeLengths[symbol])
    }

    private static func buildDecodeTable() -> [UInt32] {
        let unset = Int32.min
        // children[node * 2 + bit]: an internal node id (>= 0) or -(symbol + 1) for a leaf.
        var children = [Int32](repeating: unset, count: 512)
        var nodeCount = 1
        for symbol in 0...256 {
            let code = huffmanCodes[symbol]
            let length = Int(huffmanCodeLengths[symbol])
            var node = 0
            for shift in stride(from: length - 1, through: 0, by: -1) {
                let slot = node * 2 + Int((code >> UInt32(shift)) & 1)
                if shift == 0 {
                    children[slot] = -Int32(symbol) - 1
                } else {
                    if children[slot] == unset {
                        children[slot] = Int32(nodeCount)
                        nodeCount += 1
                    }
                    node = Int(children[slot])
                }
            }
        }
        // Parents get smaller ids than their children, so one pass in id order suffices.
        var depth = [Int](repeating: 0, count: nodeCount)
        var allOnes = [Bool](repeating: false, count: nodeCount)
        allOnes[0] = true
        for node in 0..<nodeCount {
            for bit in 0...1 where children[node * 2 + bit] >= 0 {
                let child = Int(children[node * 2 + bit])
                depth[child] = depth[node] + 1
                allOnes[child] = allOnes[node] && bit == 1
            }
        }
        var table = [UInt32](repeating: 0, count: nodeCount * 256)
        for state in 0..<nodeCount {
            for octet in 0..<256 {
                var node = state
                var flags: UInt32 = 0
                var symbols: UInt32 = 0
                var emitted: UInt32 = 0
                for shift in stride(from: 7, through: 0, by: -1) {
                    let child = children[node * 2 + ((octet >> shift) & 1)]
                    if child >= 0 {
                        node = Int(child)
                        continue
                    }
                    let leaf = Int(-(child + 1))
                    if leaf == 256 {
                        flags |= failsOnEOS
                        break
                    }
                    symbols |= UInt32(leaf) << (16 + 8 * emitted)
                    emitted += 1
                    node = 0
                }
                if allOnes[node] {
                    flags |= onEOSPath
                    if depth[node] <= 7 { flags |= accepting }
                }
                table[state * 256 + octet] = UInt32(node) | flags | emitted << 12 | symbols
            }
        }
        return table
    }

    /// Decodes `input` into `output`, writing at most `capacity` octets.
    ///
    /// Returns the decoded length. Throws at `errorOffset` for EOS or bad padding, and
    /// `stringTooLong` when the output would pass `capacity`.
    static func decode(
        _ input: UnsafeRawBufferPointer,
        into output: UnsafeMutableRawPointer,
        capacity: Int,
        errorOffset: Int
    ) throws(HPACKError) -> Int {
        guard !input.isEmpty else { return 0 }
        var count = 0
        var state = 0
        var last: UInt32 = accepting
        let outcome: HPACKError.Rule? = decodeTable.withUnsafeBufferPointer { table in
            for byte in input {
                let entry = table[state &<< 8 | Int(byte)]
                if entry & failsOnEOS != 0 { return .huffmanEOS }
                let emitted = Int((entry &>> 12) & 3)
                if emitted != 0 {
                    guard count &+ emitted <= capacity else { return .stringTooLong }
                    output.storeBytes(of: UInt8(truncatingIfNeeded: entry &>> 16), toByteOffset: count, as: UInt8.self)
                    if emitted == 2 {
                        output.storeBytes(of: UInt8(truncatingIfNeeded: entry &>> 24), toByteOffset: count &+ 1, as: UInt8.self)
                    }
                    count &+= emitted
                }
                state = Int(entry & 0xFF)
                last = entry
            }
            return nil
        }
        if let outcome { throw HPACKError(outcome, offset: errorOffset) }
        if last & accepting == 0 {
            throw HPACKError(last & onEOSPath != 0 ? .huffmanPaddingTooLong : .huffmanPaddingNotOnes, offset: errorOffset)
        }
        return count
    }

    /// The number of octets `input` takes once Huffman-encoded.
    @inline(__always)
    static func encodedLength(_ input: UnsafeRawBufferPointer) -> Int {
        encodeTable.withUnsafeBufferPointer { table in
            var bits = 0
            for byte in input { bits &+= Int(table[Int(byte)] & 0xFF) }
            return (bits &+ 7) &>> 3
        }
    }

    /// Appends the Huffman encoding of `input` (`encodedLength` octets, as computed by
    /// ``encodedLength(_:)``), padded with the most significant bits of EOS.
    static func encode(_ input: UnsafeRawBufferPointer, encodedLength: Int, into output: inout [UInt8]) {
        output.reserveCapacity(output.count &+ encodedLength)
        encodeTable.withUnsafeBufferPointer { table in
            var accumulator: UInt64 = 0
            var pending: UInt64 = 0
            for byte in input {
                let entry = table[Int(byte)]
                let length = entry & 0xFF
                accumulator = accumulator &<< length | entry &>> 8
                pending &+= length
                while pending >= 8 {
                    pending &-= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator &>> pending))
                }
            }
            if pending > 0 {
                output.append(UInt8(truncatingIfNeeded: accumulator &<< (8 &- pending)) | UInt8(0xFF &>> pending))
            }
        }
    }
}
