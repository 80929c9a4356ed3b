@_spi(EpsilonInternal) import EpsilonBytes

/// Decodes HPACK header blocks (RFC 7541) into header field views.
///
/// One decoder per connection direction: it owns the dynamic table the peer's encoder fills.
/// Fields are handed to a handler as ``HPACKHeaderFieldView``s: plain literals are views into the
/// block, indexed fields views into the static or dynamic table, Huffman strings views into a
/// scratch buffer the decoder reuses. Decoding allocates nothing per block once the scratch
/// buffer has grown to fit the largest block seen.
///
/// Why a callback rather than a list of offsets: Huffman-decoded and table-held bytes do not
/// live in the caller's buffer, and the scratch space is reused per field, so a handler call
/// per field is the shape that needs no storage per field.
///
/// Limits are enforced while decoding: the header list size (RFC 9113 §6.5.2, each field
/// counting name + value + 32) is checked before a string is decoded and before each field is
/// handed out, so an HPACK bomb fails after at most `maxHeaderListSize / 32` fields.
///
/// Any error leaves the dynamic table out of step with the peer's, so it ends the decoder:
/// HTTP/2 treats it as a connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).
///
/// ```swift
/// var decoder = HPACKHeaderBlockDecoder()
/// try decoder.receive(block) { field in
///     print(field.nameString, field.valueString)
/// }
/// ```
///
/// The block must be complete (HTTP/2 joins HEADERS and CONTINUATION payloads first).
public struct HPACKHeaderBlockDecoder: Sendable {
    /// What to do with a value that carries CR, LF or NUL (RFC 9113 §8.2.1).
    public enum ForbiddenCharacterPolicy: Hashable, Sendable {
        /// Fail with ``HPACKError/Rule/forbiddenCharacterInValue`` (the default).
        case reject
        /// Deliver the field with ``HPACKHeaderFieldView/hasForbiddenCharacter`` set; the caller
        /// must treat the message as malformed before it reaches HTTP/1.1.
        case flag
    }

    /// The decoder's limits.
    public struct Configuration: Hashable, Sendable {
        /// The dynamic table size limit this endpoint announces in SETTINGS_HEADER_TABLE_SIZE.
        public var maxTableSize: Int
        /// The largest header list accepted, counted as RFC 9113 §6.5.2 does.
        public var maxHeaderListSize: Int
        /// The largest name or value accepted, in decoded octets.
        public var maxStringLength: Int
        /// What to do with CR, LF or NUL in a value.
        public var forbiddenCharacters: ForbiddenCharacterPolicy

        /// Makes a configuration; the defaults are the RFC's 4096-octet table, a 64 KiB header
        /// list, 16 KiB strings and rejection of CR/LF/NUL in values.
        public init(
            maxTableSize: Int = 4096,
            maxHeaderListSize: Int = 65_536,
            maxStringLength: Int = 16_384,
            forbiddenCharacters: ForbiddenCharacterPolicy = .reject
        ) {
            self.maxTableSize = maxTableSize
            self.maxHeaderListSize = maxHeaderListSize
            self.maxStringLength = maxStringLength
            self.forbiddenCharacters = forbiddenCharacters
        }
    }

    private enum State: Sendable {
        case ready
        /// A size limit lower than the table's size was announced; the next block must start
        /// with a size update no larger than `ceiling` (RFC 7541 §4.2).
        case awaitingSizeUpdate(ceiling: Int)
        case failed(HPACKError)
    }

    private var state: State = .ready
    private var table: DynamicTable
    private var scratch: [UInt8] = []
    /// The limits in force.
    public private(set) var configuration: Configuration

    /// Makes a decoder with an empty dynamic table.
    public init(configuration: Configuration = Configuration()) {
        precondition(configuration.maxTableSize >= 0 && configuration.maxHeaderListSize >= 0
            && configuration.maxStringLength >= 0, "limits must not be negative")
        self.configuration = configuration
        table = DynamicTable(limit: configuration.maxTableSize)
    }

    /// The error that ended this decoder, if any.
    public var failure: HPACKError? {
        if case .failed(let error) = state { return error }
        return nil
    }

    /// Whether the decoder can still decode (no error so far).
    public var isUsable: Bool { failure == nil }

    /// The dynamic table's size in RFC 7541 §4.1 terms.
    public var dynamicTableSize: Int { table.size }

    /// The dynamic table's current maximum size, as last set by the peer's size updates.
    public var dynamicTableMaxSize: Int { table.maxSize }

    /// The number of entries in the dynamic table.
    public var dynamicTableCount: Int { table.count }

    /// Copies of the dynamic table's entries, newest first (allocates; for tests and tools).
    public var dynamicTableEntries: [HPACKHeaderField] { table.fields }

    /// Applies a new SETTINGS_HEADER_TABLE_SIZE once the peer has acknowledged it.
    ///
    /// If the new limit is below the table's current maximum, the peer's next block must start
    /// with a table size update no larger than the smallest limit announced since its last
    /// block (RFC 7541 §4.2); otherwise ``receive(_:handler:)`` fails with
    /// ``HPACKError/Rule/missingTableSizeUpdate``.
    public mutating func setMaxTableSize(_ limit: Int) {
        precondition(limit >= 0, "limit must not be negative")
        configuration.maxTableSize = limit
        table.setCapacityLimit(limit)
        switch state {
        case .failed:
            return
        case .ready:
            if limit < table.maxSize { state = .awaitingSizeUpdate(ceiling: limit) }
        case .awaitingSizeUpdate(let ceiling):
            state = .awaitingSizeUpdate(ceiling: min(ceiling, limit))
        }
    }

    /// Bytes of heap the decoder holds (table and scratch), for tests and tools.
    package var heapBytes: Int { table.heapBytes &+ scratch.capacity }

    /// Frees the Huffman scratch buffer if it holds more than `limit` octets (it grows back
    /// on the next block that needs it); a connection calls it when it goes idle.
    package mutating func releaseScratch(above limit: Int) {
        if scratch.capacity > limit { scratch = [] }
    }

    /// Sets the largest header list accepted (SETTINGS_MAX_HEADER_LIST_SIZE).
    public mutating func setMaxHeaderListSize(_ limit: Int) {
        configuration.maxHeaderListSize = limit
    }

    /// Decodes a complete header block (the **receive** verb), handing each field to
    /// `handler` in block order; returns the octets consumed, always `block.count` (a header
    /// block is decoded whole).
    ///
    /// Throws an ``HPACKError`` at the first broken rule or exceeded limit (its
    /// ``HPACKError/offset`` is in the block); fields before it have been handed out. After an
    /// error the decoder is unusable.
    @discardableResult
    public mutating func receive<Handler: HPACKHeaderFieldHandler>(
        _ block: UnsafeRawBufferPointer, handler: inout Handler
    ) throws(HPACKError) -> Int {
        try receive(block) { field in handler.handle(field) }
    }

    /// Decodes a complete header block held in an array; see ``receive(_:_:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    public mutating func receive(
        _ block: [UInt8], _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) -> Int {
        try block.withBytes { bytes throws(HPACKError) in try receive(bytes, body) }
    }

    /// Decodes a complete header block held in a span; see ``receive(_:_:)-(UnsafeRawBufferPointer,_)``.
    @discardableResult
    public mutating func receive(
        _ block: Span<UInt8>, _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) -> Int {
        try block.withUnsafeBytes { bytes throws(HPACKError) in try receive(bytes, body) }
    }

    /// Decodes a block into owned fields (allocates per field: for tests and tools).
    public mutating func decodeFields(_ block: [UInt8]) throws(HPACKError) -> [HPACKHeaderField] {
        var fields: [HPACKHeaderField] = []
        try receive(block) { fields.append($0.field) }
        return fields
    }

    /// Decodes a complete header block, calling `body` once per field in order; returns the
    /// octets consumed (`block.count`).
    ///
    /// The views passed to `body` are valid only during that call. Throws an ``HPACKError`` at
    /// the first broken rule or exceeded limit; fields before it have been handed out. After an
    /// error the decoder is unusable and says so with ``HPACKError/Rule/decoderUnusable``.
    @discardableResult
    public mutating func receive(
        _ block: UnsafeRawBufferPointer, _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) -> Int {
        if case .failed = state { throw HPACKError(.decoderUnusable, offset: 0) }
        // Huffman output is at most 8/5 of its input, and a name copied from the dynamic table
        // (for a literal that is indexed again, whose insertion may evict the entry the name
        // comes from) is at most the longest name in the table or one added by this block:
        // size the scratch once so no pointer moves mid-block. It grows to the largest block
        // seen, not to the table limit.
        let huffmanBound = min(block.count &* 8 / 5 &+ 8, 2 &* configuration.maxStringLength &+ 8)
        let needed = huffmanBound &+ max(huffmanBound, table.longestName)
        if scratch.count < needed {
            // At least doubled, so a run of growing blocks costs a few allocations.
            let size = max(needed, 2 &* scratch.count)
            scratch.append(contentsOf: repeatElement(0, count: size &- scratch.count))
        }
        var scratch = self.scratch
        self.scratch = []
        defer { self.scratch = scratch }
        do {
            try scratch.withMutableBytes { scratchBytes throws(HPACKError) in
                try decodeRepresentations(block, scratch: scratchBytes, body)
            }
        } catch {
            state = .failed(error)
            throw error
        }
        return block.count
    }

    private mutating func decodeRepresentations(
        _ input: UnsafeRawBufferPointer,
        scratch: UnsafeMutableRawBufferPointer,
        _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) {
        var position = 0
        var listSize = 0
        var sizeUpdates = 0
        var sawField = false
        let end = input.count
        let limit = configuration.maxHeaderListSize
        while position < end {
            let start = position
            let first = input[position]
            if first & 0x80 != 0 {
                // RFC 7541 §6.1 indexed header field.
                let index = try HPACKInteger.decode(input, at: &position, prefixBits: 7)
                if !sawField {
                    try checkSizeUpdateDone(at: start)
                    sawField = true
                }
                try emitIndexed(index, at: start, listSize: &listSize, limit: limit, body)
            } else if first & 0x40 != 0 {
                if !sawField {
                    try checkSizeUpdateDone(at: start)
                    sawField = true
                }
                try decodeLiteral(
                    input, at: &position, prefixBits: 6, representation: .incrementalIndexing,
                    scratch: scratch, listSize: &listSize, limit: limit, body)
            } else if first & 0x20 != 0 {
                // RFC 7541 §6.3 dynamic table size update: only at the start, at most two (§4.2).
                guard !sawField else { throw HPACKError(.tableSizeUpdateNotAtStart, offset: start) }
                sizeUpdates &+= 1
                guard sizeUpdates <= 2 else { throw HPACKError(.tooManyTableSizeUpdates, offset: start) }
                let newSize = try HPACKInteger.decode(input, at: &position, prefixBits: 5)
                guard newSize <= configuration.maxTableSize else {
                    throw HPACKError(.tableSizeUpdateAboveLimit, offset: start)
                }
                if case .awaitingSizeUpdate(let ceiling) = state, newSize <= ceiling {
                    state = .ready
                }
                table.setMaxSize(newSize)
            } else {
                if !sawField {
                    try checkSizeUpdateDone(at: start)
                    sawField = true
                }
                try decodeLiteral(
                    input, at: &position, prefixBits: 4,
                    representation: first & 0x10 != 0 ? .neverIndexed : .withoutIndexing,
                    scratch: scratch, listSize: &listSize, limit: limit, body)
            }
        }
        if !sawField { try checkSizeUpdateDone(at: end) }
    }

    @inline(__always)
    private func checkSizeUpdateDone(at offset: Int) throws(HPACKError) {
        if case .awaitingSizeUpdate = state { throw HPACKError(.missingTableSizeUpdate, offset: offset) }
    }

    @inline(__always)
    private func emitIndexed(
        _ index: Int, at start: Int, listSize: inout Int, limit: Int, _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) {
        if index == 0 { throw HPACKError(.indexZero, offset: start) }
        if index <= StaticTable.count {
            let name = StaticTable.name(index)
            let value = StaticTable.value(index)
            listSize &+= name.count &+ value.count &+ DynamicTable.entryOverhead
            guard listSize <= limit else { throw HPACKError(.headerListTooLarge, offset: start) }
            body(HPACKHeaderFieldView(name: name, value: value, representation: .indexed))
            return
        }
        let dynamicIndex = index &- StaticTable.count &- 1
        guard dynamicIndex < table.count else { throw HPACKError(.indexOutOfRange, offset: start) }
        listSize &+= table.nameLength(dynamicIndex) &+ table.valueLength(dynamicIndex) &+ DynamicTable.entryOverhead
        guard listSize <= limit else { throw HPACKError(.headerListTooLarge, offset: start) }
        let flagging = configuration.forbiddenCharacters == .flag
        table.withEntry(dynamicIndex) { name, value in
            body(HPACKHeaderFieldView(
                name: name, value: value, representation: .indexed,
                hasForbiddenCharacter: flagging && containsForbiddenCharacter(value)))
        }
    }

    /// Reads a string literal (RFC 7541 §5.2); plain strings stay views into `input`,
    /// Huffman strings are decoded into `scratch` at `scratchOffset`.
    @inline(__always)
    private func readString(
        _ input: UnsafeRawBufferPointer, at position: inout Int,
        scratch: UnsafeMutableRawBufferPointer, scratchOffset: Int,
        listBudget: Int
    ) throws(HPACKError) -> UnsafeRawBufferPointer {
        let start = position
        guard position < input.count else { throw HPACKError(.truncatedString, offset: start) }
        let huffman = input[position] & 0x80 != 0
        let length = try HPACKInteger.decode(input, at: &position, prefixBits: 7)
        guard length <= input.count &- position else { throw HPACKError(.truncatedString, offset: start) }
        let encoded = UnsafeRawBufferPointer(rebasing: input[position..<position &+ length])
        position &+= length
        if !huffman {
            guard length <= configuration.maxStringLength else { throw HPACKError(.stringTooLong, offset: start) }
            guard length <= listBudget else { throw HPACKError(.headerListTooLarge, offset: start) }
            return encoded
        }
        // A Huffman code is at most 30 bits: the decoded string is at least this long.
        let shortest = length &* 8 / 30
        guard shortest <= configuration.maxStringLength else { throw HPACKError(.stringTooLong, offset: start) }
        guard shortest <= listBudget else { throw HPACKError(.headerListTooLarge, offset: start) }
        let destination = scratch.baseAddress! + scratchOffset
        let room = min(scratch.count &- scratchOffset, configuration.maxStringLength)
        let decoded = try Huffman.decode(encoded, into: destination, capacity: room, errorOffset: start)
        guard decoded <= listBudget else { throw HPACKError(.headerListTooLarge, offset: start) }
        return UnsafeRawBufferPointer(start: destination, count: decoded)
    }

    private mutating func decodeLiteral(
        _ input: UnsafeRawBufferPointer, at position: inout Int, prefixBits: Int,
        representation: HPACKFieldRepresentation, scratch: UnsafeMutableRawBufferPointer,
        listSize: inout Int, limit: Int, _ body: (HPACKHeaderFieldView) -> Void
    ) throws(HPACKError) {
        let start = position
        let nameIndex = try HPACKInteger.decode(input, at: &position, prefixBits: prefixBits)
        let budget = limit &- listSize &- DynamicTable.entryOverhead
        guard budget >= 0 else { throw HPACKError(.headerListTooLarge, offset: start) }
        let name: UnsafeRawBufferPointer
        if nameIndex == 0 {
            name = try readString(input, at: &position, scratch: scratch, scratchOffset: 0, listBudget: budget)
        } else if nameIndex <= StaticTable.count {
            name = StaticTable.name(nameIndex)
        } else {
            let dynamicIndex = nameIndex &- StaticTable.count &- 1
            guard dynamicIndex < table.count else { throw HPACKError(.indexOutOfRange, offset: start) }
            if representation == .incrementalIndexing {
                // Copied: inserting this field may evict the entry the name comes from (§4.4).
                name = table.withEntry(dynamicIndex) { entryName, _ in
                    let destination = scratch.baseAddress!
                    if entryName.count > 0 {
                        destination.copyMemory(from: entryName.baseAddress!, byteCount: entryName.count)
                    }
                    return UnsafeRawBufferPointer(start: destination, count: entryName.count)
                }
            } else {
                // Nothing is inserted: the table's bytes stay put while the field is handed out.
                name = table.withEntry(dynamicIndex) { entryName, _ in entryName }
            }
            guard name.count <= budget else { throw HPACKError(.headerListTooLarge, offset: start) }
        }
        let value = try readString(
            input, at: &position, scratch: scratch, scratchOffset: name.count,
            listBudget: budget &- name.count)
        // readString kept name + value within the budget, so the list stays within the limit.
        listSize &+= name.count &+ value.count &+ DynamicTable.entryOverhead
        var flagged = false
        if containsForbiddenCharacter(value) {
            guard configuration.forbiddenCharacters == .flag else {
                throw HPACKError(.forbiddenCharacterInValue, offset: start)
            }
            flagged = true
        }
        if representation == .incrementalIndexing {
            table.insert(name: name, value: value)
        }
        body(HPACKHeaderFieldView(name: name, value: value, representation: representation, hasForbiddenCharacter: flagged))
    }
}

/// Whether `bytes` holds CR (0x0D), LF (0x0A) or NUL, eight bytes per step.
@inline(__always)
func containsForbiddenCharacter(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress else { return false }
    let count = bytes.count
    var index = 0
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    @inline(__always) func hasZeroByte(_ word: UInt64) -> Bool { (word &- ones) & ~word & highs != 0 }
    while index &+ 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
        if hasZeroByte(word) || hasZeroByte(word ^ 0x0A0A_0A0A_0A0A_0A0A) || hasZeroByte(word ^ 0x0D0D_0D0D_0D0D_0D0D) {
            return true
        }
        index &+= 8
    }
    while index < count {
        let byte = bytes[index]
        if byte == 0 || byte == 0x0A || byte == 0x0D { return true }
        index &+= 1
    }
    return false
}
