/// The static table of RFC 7541 Appendix A.
///
/// Names and values are `StaticString`s: their bytes live in the binary, so a decoded field
/// that refers to the static table is a view with no copy.
enum StaticTable {
    /// Number of entries; dynamic table indices start at `count + 1` (RFC 7541 §2.3.3).
    static let count = 61

    /// Entry `i` of the RFC is `entries[i - 1]`.
    static let entries: [(name: StaticString, value: StaticString)] = [
        (":authority", ""), // 1
        (":method", "GET"), // 2
        (":method", "POST"), // 3
        (":path", "/"), // 4
        (":path", "/index.html"), // 5
        (":scheme", "http"), // 6
        (":scheme", "https"), // 7
        (":status", "200"), // 8
        (":status", "204"), // 9
        (":status", "206"), // 10
        (":status", "304"), // 11
        (":status", "400"), // 12
        (":status", "404"), // 13
        (":status", "500"), // 14
        ("accept-charset", ""), // 15
        ("accept-encoding", "gzip, deflate"), // 16
        ("accept-language", ""), // 17
        ("accept-ranges", ""), // 18
        ("accept", ""), // 19
        ("access-control-allow-origin", ""), // 20
        ("age", ""), // 21
        ("allow", ""), // 22
        ("authorization", ""), // 23
        ("cache-control", ""), // 24
        ("content-disposition", ""), // 25
        ("content-encoding", ""), // 26
        ("content-language", ""), // 27
        ("content-length", ""), // 28
        ("content-location", ""), // 29
        ("content-range", ""), // 30
        ("content-type", ""), // 31
        ("cookie", ""), // 32
        ("date", ""), // 33
        ("etag", ""), // 34
        ("expect", ""), // 35
        ("expires", ""), // 36
        ("from", ""), // 37
        ("host", ""), // 38
        ("if-match", ""), // 39
        ("if-modified-since", ""), // 40
        ("if-none-match", ""), // 41
        ("if-range", ""), // 42
        ("if-unmodified-since", ""), // 43
        ("last-modified", ""), // 44
        ("link", ""), // 45
        ("location", ""), // 46
        ("max-forwards", ""), // 47
        ("proxy-authenticate", ""), // 48
        ("proxy-authorization", ""), // 49
        ("range", ""), // 50
        ("referer", ""), // 51
        ("refresh", ""), // 52
        ("retry-after", ""), // 53
        ("server", ""), // 54
        ("set-cookie", ""), // 55
        ("strict-transport-security", ""), // 56
        ("transfer-encoding", ""), // 57
        ("user-agent", ""), // 58
        ("vary", ""), // 59
        ("via", ""), // 60
        ("www-authenticate", ""), // 61
    ]

    /// Hashes used by the encoder to find entries: `(nameHash, fieldHash)` per entry.
    static let hashes: [(name: UInt32, field: UInt32)] = entries.map { entry in
        let name = FieldHash.of(UnsafeRawBufferPointer(start: entry.name.utf8Start, count: entry.name.utf8CodeUnitCount))
        let value = FieldHash.of(UnsafeRawBufferPointer(start: entry.value.utf8Start, count: entry.value.utf8CodeUnitCount))
        return (name, FieldHash.combine(name, value))
    }

    /// Open-addressed table from a name's hash to the static entries with that name (they
    /// are adjacent in the RFC's table): each slot packs hash (bits 0-31), first index
    /// (bits 32-39) and last index (bits 40-47); 0 marks an empty slot.
    static let nameSlots: [UInt64] = {
        var slots = [UInt64](repeating: 0, count: 128)
        var index = 1
        while index <= count {
            var last = index
            while last < count && hashes[last].name == hashes[index - 1].name { last += 1 }
            let hash = hashes[index - 1].name
            var slot = Int(hash & 127)
            while slots[slot] != 0 { slot = (slot + 1) & 127 }
            slots[slot] = UInt64(hash) | UInt64(index) << 32 | UInt64(last) << 40
            index = last + 1
        }
        return slots
    }()

    /// The static entries whose name hash is `hash`, as `first...last` (empty if none).
    @inline(__always)
    static func entries(withNameHash hash: UInt32) -> ClosedRange<Int>? {
        nameSlots.withUnsafeBufferPointer { slots in
            var slot = Int(hash & 127)
            while true {
                let packed = slots[slot]
                if packed == 0 { return nil }
                if UInt32(truncatingIfNeeded: packed) == hash {
                    return Int((packed &>> 32) & 0xFF)...Int((packed &>> 40) & 0xFF)
                }
                slot = (slot &+ 1) & 127
            }
        }
    }

    /// The name of entry `index` (1...61) as a view into the binary.
    @inline(__always)
    static func name(_ index: Int) -> UnsafeRawBufferPointer {
        let name = entries[index &- 1].name
        return UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
    }

    /// The value of entry `index` (1...61) as a view into the binary.
    @inline(__always)
    static func value(_ index: Int) -> UnsafeRawBufferPointer {
        let value = entries[index &- 1].value
        return UnsafeRawBufferPointer(start: value.utf8Start, count: value.utf8CodeUnitCount)
    }
}

/// Hashes of names and fields, used to skip most byte comparisons in lookups. Eight bytes per
/// step; quality only needs to be good enough that unequal names rarely collide.
enum FieldHash {
    @inline(__always)
    static func of(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let count = bytes.count
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: count)
        guard let base = bytes.baseAddress else { return finish(hash) }
        var index = 0
        while index &+ 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash &>> 32
            index &+= 8
        }
        if index < count {
            var word: UInt64 = 0
            var shift: UInt64 = 0
            while index < count {
                word |= UInt64(base.load(fromByteOffset: index, as: UInt8.self)) &<< shift
                shift &+= 8
                index &+= 1
            }
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
        }
        return finish(hash)
    }

    @inline(__always)
    private static func finish(_ value: UInt64) -> UInt32 {
        var hash = value
        hash ^= hash &>> 29
        hash &*= 0xBF58_476D_1CE4_E5B9
        hash ^= hash &>> 32
        return UInt32(truncatingIfNeeded: hash)
    }

    @inline(__always)
    static func combine(_ name: UInt32, _ value: UInt32) -> UInt32 {
        (name &* 31) ^ (value &+ 0x9E37_79B9)
    }
}
