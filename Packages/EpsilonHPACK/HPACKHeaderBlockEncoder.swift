/// Decides, per field, how the encoder writes a literal.
///
/// The encoder asks the policy only for fields that carry no ``HPACKHeaderField/indexing`` of their
/// own. The closure gets a view of the field (valid during the call) and the encoder's current
/// dynamic table maximum size.
public struct HPACKIndexingPolicy: Sendable {
    private let decide: @Sendable (HPACKHeaderFieldView, Int) -> HPACKFieldIndexing

    /// Makes a policy from a closure.
    public init(_ decide: @escaping @Sendable (_ field: HPACKHeaderFieldView, _ maxTableSize: Int) -> HPACKFieldIndexing) {
        self.decide = decide
    }

    /// Asks the policy about `field`.
    public func indexing(for field: HPACKHeaderFieldView, maxTableSize: Int) -> HPACKFieldIndexing {
        decide(field, maxTableSize)
    }

    /// The default: never index credentials (`authorization`, `proxy-authorization`),
    /// `set-cookie` and short `cookie` values (under 20 octets, guessable by probing the
    /// table, RFC 7541 §7.1.3); do not index a field larger than 3/4 of the table (it would
    /// flush everything else), nor fields whose values rarely repeat (`:path`, `age`,
    /// `content-length`, `etag`, `if-modified-since`, `if-none-match`, `location`: indexing
    /// them evicts entries that would have been reused); index everything else.
    ///
    /// On the hpack-test-case raw-data stories this compresses slightly better than the
    /// nghttp2 encoder's output in that corpus (see the round-trip test).
    public static let `default` = HPACKIndexingPolicy { field, maxTableSize in
        // One comparison per name length that can match, instead of trying every name.
        switch field.name.count {
        case 6 where field.nameEquals("cookie"):
            if field.value.count < 20 { return .neverIndexed }
        case 10 where field.nameEquals("set-cookie"),
             13 where field.nameEquals("authorization"),
             19 where field.nameEquals("proxy-authorization"):
            return .neverIndexed
        default:
            break
        }
        if field.size > maxTableSize * 3 / 4 { return .withoutIndexing }
        switch field.name.count {
        case 3 where field.nameEquals("age"),
             4 where field.nameEquals("etag"),
             5 where field.nameEquals(":path"),
             8 where field.nameEquals("location"),
             13 where field.nameEquals("if-none-match"),
             14 where field.nameEquals("content-length"),
             17 where field.nameEquals("if-modified-since"):
            return .withoutIndexing
        default:
            return .incremental
        }
    }

    /// Index every field (what RFC 7541 Appendix C's examples do).
    public static let always = HPACKIndexingPolicy { _, _ in .incremental }

    /// Never touch the dynamic table.
    public static let never = HPACKIndexingPolicy { _, _ in .withoutIndexing }
}

/// Encodes header lists into HPACK header blocks (RFC 7541).
///
/// One encoder per connection direction: it owns the dynamic table the peer's decoder mirrors.
/// A field that is in a table is sent as an index; otherwise as a literal whose kind the field
/// or the ``HPACKIndexingPolicy`` chooses, referring to a table name where one matches. Strings are
/// Huffman-encoded only when that is shorter (configurable for tests). Output is appended to a
/// caller-owned array; with its capacity kept between blocks, encoding allocates nothing.
///
/// ```swift
/// var encoder = HPACKHeaderBlockEncoder()
/// var block: [UInt8] = []
/// encoder.encode([HPACKHeaderField(":method", "GET"), HPACKHeaderField(":path", "/")], into: &block)
/// ```
///
/// Table size: ``setPeerMaxTableSize(_:)`` applies the peer's SETTINGS_HEADER_TABLE_SIZE; the
/// encoder then signals the new size with updates at the start of its next block, both the
/// smallest and the final one if the size went down and up again (RFC 7541 §4.2).
public struct HPACKHeaderBlockEncoder: Sendable {
    /// When string literals are Huffman-encoded.
    public enum HuffmanUse: Hashable, Sendable {
        /// Only when the Huffman form is strictly shorter (the default).
        case whenShorter
        /// Always (for tests that must match a Huffman example byte for byte).
        case always
        /// Never.
        case never
    }

    /// The encoder's choices.
    public struct Configuration: Sendable {
        /// The dynamic table size the encoder wants, used up to the peer's limit.
        public var maxTableSize: Int
        /// When to Huffman-encode.
        public var huffman: HuffmanUse
        /// How fields without an explicit ``HPACKHeaderField/indexing`` are written.
        public var policy: HPACKIndexingPolicy

        /// Makes a configuration; the defaults are a 4096-octet table, Huffman when shorter and
        /// ``HPACKIndexingPolicy/default``.
        public init(maxTableSize: Int = 4096, huffman: HuffmanUse = .whenShorter, policy: HPACKIndexingPolicy = .default) {
            self.maxTableSize = maxTableSize
            self.huffman = huffman
            self.policy = policy
        }
    }

    private var table: DynamicTable
    /// The peer's SETTINGS_HEADER_TABLE_SIZE; the table never grows above it.
    private var peerLimit: Int
    /// Size updates owed at the start of the next block: the smallest and the final size.
    private var pendingUpdate: (smallest: Int, final: Int)?
    /// The encoder's choices.
    public var configuration: Configuration

    /// Makes an encoder; `peerMaxTableSize` is the peer's table size limit in force at the
    /// start (4096 in HTTP/2 until its SETTINGS says otherwise).
    public init(configuration: Configuration = Configuration(), peerMaxTableSize: Int = 4096) {
        precondition(configuration.maxTableSize >= 0 && peerMaxTableSize >= 0, "sizes must not be negative")
        self.configuration = configuration
        peerLimit = peerMaxTableSize
        table = DynamicTable(limit: min(configuration.maxTableSize, peerMaxTableSize), searchable: true)
        // The peer's decoder starts at its own limit: announce a smaller size if we use one.
        if table.maxSize != peerMaxTableSize { pendingUpdate = (table.maxSize, table.maxSize) }
    }

    /// The dynamic table's size in RFC 7541 §4.1 terms.
    public var dynamicTableSize: Int { table.size }

    /// The dynamic table's maximum size.
    public var dynamicTableMaxSize: Int { table.maxSize }

    /// The number of entries in the dynamic table.
    public var dynamicTableCount: Int { table.count }

    /// Copies of the dynamic table's entries, newest first (allocates; for tests and tools).
    public var dynamicTableEntries: [HPACKHeaderField] { table.fields }

    /// Bytes of heap the encoder's table holds, for tests and tools.
    package var heapBytes: Int { table.heapBytes }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE (call when its SETTINGS arrives).
    ///
    /// The table shrinks at once if needed, and the next block starts with the size update(s)
    /// RFC 7541 §4.2 requires.
    public mutating func setPeerMaxTableSize(_ limit: Int) {
        precondition(limit >= 0, "limit must not be negative")
        peerLimit = limit
        resize(to: min(configuration.maxTableSize, limit))
    }

    /// Changes the table size the encoder wants (used up to the peer's limit), signalled at
    /// the start of the next block.
    public mutating func setMaxTableSize(_ size: Int) {
        precondition(size >= 0, "size must not be negative")
        configuration.maxTableSize = size
        resize(to: min(size, peerLimit))
    }

    private mutating func resize(to size: Int) {
        guard size != table.maxSize || pendingUpdate != nil else { return }
        table.setCapacityLimit(size)
        table.setMaxSize(size)
        let smallest = min(pendingUpdate?.smallest ?? size, size)
        pendingUpdate = (smallest, size)
    }

    /// Encodes a whole header list as one block, appended to `output`.
    public mutating func encode(_ fields: [HPACKHeaderField], into output: inout [UInt8]) {
        beginBlock(into: &output)
        // A counted loop rather than `for in`: unoptimised builds allocate for the iterator,
        // and the allocation test runs in debug too.
        // Through the buffer: each field is borrowed in place, not copied out of the array
        // (a copy retains and releases both strings).
        fields.withUnsafeBufferPointer { buffer in
            var index = 0
            let count = buffer.count
            while index < count {
                append(buffer[index], into: &output)
                index &+= 1
            }
        }
    }

    /// Starts a block: writes the table size updates owed, if any. Call once per block, before
    /// the first ``append(_:into:)``.
    public mutating func beginBlock(into output: inout [UInt8]) {
        guard let update = pendingUpdate else { return }
        pendingUpdate = nil
        if update.smallest < update.final {
            HPACKInteger.encode(update.smallest, prefixBits: 5, flags: 0x20, into: &output)
        }
        HPACKInteger.encode(update.final, prefixBits: 5, flags: 0x20, into: &output)
    }

    /// Appends one field to the block started by ``beginBlock(into:)``.
    public mutating func append(_ field: HPACKHeaderField, into output: inout [UInt8]) {
        // Native strings are contiguous UTF-8 (HPACKHeaderField.init makes sure): read them in
        // place. Bridged or lazily built strings take the copying path.
        let done: Void? = field.name.utf8.withContiguousStorageIfAvailable { nameBytes in
            field.value.utf8.withContiguousStorageIfAvailable { valueBytes in
                append(
                    name: UnsafeRawBufferPointer(nameBytes), value: UnsafeRawBufferPointer(valueBytes),
                    indexing: field.indexing, into: &output)
            }
        } ?? nil
        if done == nil {
            Array(field.name.utf8).withUnsafeBytes { nameBytes in
                Array(field.value.utf8).withUnsafeBytes { valueBytes in
                    append(name: nameBytes, value: valueBytes, indexing: field.indexing, into: &output)
                }
            }
        }
    }

    /// Appends one field given as bytes to the block started by ``beginBlock(into:)``.
    ///
    /// `indexing` of `nil` lets the policy decide. The bytes are copied; the views need only
    /// live for the call.
    public mutating func append(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        indexing: HPACKFieldIndexing?, into output: inout [UInt8]
    ) {
        let view = HPACKHeaderFieldView(name: name, value: value, representation: .withoutIndexing)
        let indexing = indexing ?? configuration.policy.indexing(for: view, maxTableSize: table.maxSize)
        let nameHash = FieldHash.of(name)
        let fieldHash = FieldHash.combine(nameHash, FieldHash.of(value))

        // RFC 7541 §6.1: a field already in a table costs one index.
        var nameIndex = 0
        if let index = staticMatch(name: name, value: value, nameHash: nameHash, fieldHash: fieldHash, nameIndex: &nameIndex) {
            if indexing != .neverIndexed {
                HPACKInteger.encode(index, prefixBits: 7, flags: 0x80, into: &output)
                return
            }
        } else if let index = dynamicMatch(name: name, value: value, nameHash: nameHash, fieldHash: fieldHash, nameIndex: &nameIndex) {
            if indexing != .neverIndexed {
                HPACKInteger.encode(index, prefixBits: 7, flags: 0x80, into: &output)
                return
            }
        }
        switch indexing {
        case .incremental:
            HPACKInteger.encode(nameIndex, prefixBits: 6, flags: 0x40, into: &output)
        case .withoutIndexing:
            HPACKInteger.encode(nameIndex, prefixBits: 4, flags: 0x00, into: &output)
        case .neverIndexed:
            HPACKInteger.encode(nameIndex, prefixBits: 4, flags: 0x10, into: &output)
        }
        if nameIndex == 0 { appendString(name, into: &output) }
        appendString(value, into: &output)
        if indexing == .incremental {
            table.insert(name: name, value: value, nameHash: nameHash, fieldHash: fieldHash)
        }
    }

    /// The static index of the whole field, if any; sets `nameIndex` to the first static entry
    /// with this name (RFC examples prefer the static name even when the dynamic table has it).
    @inline(__always)
    private func staticMatch(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        nameHash: UInt32, fieldHash: UInt32, nameIndex: inout Int
    ) -> Int? {
        guard let range = StaticTable.entries(withNameHash: nameHash),
              bytesEqual(StaticTable.name(range.lowerBound), name) else { return nil }
        nameIndex = range.lowerBound
        return StaticTable.hashes.withUnsafeBufferPointer { hashes in
            var index = range.lowerBound
            while index <= range.upperBound {
                if hashes[index &- 1].field == fieldHash && bytesEqual(StaticTable.value(index), value) {
                    return index
                }
                index &+= 1
            }
            return nil
        }
    }

    /// The dynamic index of the whole field, if any; sets `nameIndex` to the newest dynamic
    /// entry with this name when no static name matched.
    @inline(__always)
    private func dynamicMatch(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        nameHash: UInt32, fieldHash: UInt32, nameIndex: inout Int
    ) -> Int? {
        if let position = table.index(ofField: name, value: value, fieldHash: fieldHash) {
            return StaticTable.count &+ 1 &+ position
        }
        if nameIndex == 0, let position = table.index(ofName: name, nameHash: nameHash) {
            nameIndex = StaticTable.count &+ 1 &+ position
        }
        return nil
    }

    /// Appends a string literal (RFC 7541 §5.2), Huffman-encoded when configured to.
    @inline(__always)
    private func appendString(_ bytes: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        let useHuffman: Bool
        var huffmanLength = 0
        switch configuration.huffman {
        case .never:
            useHuffman = false
        case .always:
            huffmanLength = Huffman.encodedLength(bytes)
            useHuffman = true
        case .whenShorter:
            huffmanLength = Huffman.encodedLength(bytes)
            useHuffman = huffmanLength < bytes.count
        }
        if useHuffman {
            HPACKInteger.encode(huffmanLength, prefixBits: 7, flags: 0x80, into: &output)
            Huffman.encode(bytes, encodedLength: huffmanLength, into: &output)
        } else {
            HPACKInteger.encode(bytes.count, prefixBits: 7, flags: 0x00, into: &output)
            output.append(contentsOf: bytes)
        }
    }
}
