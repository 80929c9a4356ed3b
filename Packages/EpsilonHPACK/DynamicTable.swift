/// The dynamic table of RFC 7541 §2.3.2 and §4, kept as one ring of bytes.
///
/// Names and values are stored back to back in `storage`; a ring of fixed-size records
/// (`offset`, name length, value length and two hashes for the encoder) says where each
/// entry lies.
///
/// Memory grows as the table fills, not up front: an empty table holds no storage, and the
/// byte ring, the record ring and (for the encoder) the hash indexes grow eightfold when an entry
/// does not fit, up to what the size limit needs (`2 * capacityLimit` bytes, one record per
/// 32 octets of limit). Once grown to the working set nothing is allocated per entry; a
/// connection that only ever sees a few short fields keeps a table of a few hundred bytes
/// instead of ~20 KB laid out for the 4096-octet limit.
///
/// For the encoder (`searchable`), two hash-chained indexes find an entry by field or by name
/// without scanning: a bucket holds the sequence number of the newest entry with that hash,
/// and each entry links to the next older one. Evicted entries need no unlinking: sequence
/// numbers only grow, so a walk stops at the first number older than the oldest live entry.
///
/// An entry is never split across the end of `storage`: if it does not fit before the end it
/// goes to offset 0, and if it fits nowhere the ring is compacted into a larger one. With
/// `storage.count >= 2 * maxSize` it always fits (the live bytes plus the wasted tail are
/// below `2 * maxSize`), so growth stops there and every name and value is one contiguous view.
struct DynamicTable: Sendable {
    /// RFC 7541 §4.1: each entry counts its name, its value and 32 octets.
    static let entryOverhead = 32
    private static let recordWidth = 5
    /// The smallest byte ring and record ring allocated once the first entry comes.
    /// The first byte ring and record ring, allocated with the first entry: room for a
    /// request's worth of short fields. Growth is eightfold, so a 4096-octet table reaches its
    /// limit in three allocations of each array.
    private static let minimumStorage = 128
    private static let minimumSlots = 8
    private static let growth = 8

    private var storage: [UInt8] = []
    private var records: [UInt32] = []
    /// Ring slot of the oldest entry.
    private var oldest = 0
    /// Byte offset just past the newest entry.
    private var head = 0
    /// Number of entries.
    private(set) var count = 0
    /// RFC 7541 size: name and value octets plus 32 per entry.
    private(set) var size = 0
    /// The current maximum size, set by table size updates.
    private(set) var maxSize: Int
    /// The largest `maxSize` the storage may grow for.
    private(set) var capacityLimit: Int
    /// An upper bound of the longest name among the live entries (reset when the table
    /// empties); the decoder sizes its scratch with it.
    private(set) var longestName = 0
    /// Sequence number the next entry gets; live entries are `insertions - count ..< insertions`.
    private var insertions = 0
    /// Newest sequence number per field-hash bucket, then per name-hash bucket (encoder only):
    /// one array of `2 * bucketCount`, the name buckets in its second half.
    private var buckets: [Int] = []
    private var bucketCount = 0
    /// Per ring slot: the next older sequence number with the same field, then same name bucket.
    private var chains: [Int] = []
    private let searchable: Bool

    init(limit: Int, searchable: Bool = false) {
        maxSize = limit
        capacityLimit = limit
        self.searchable = searchable
    }

    /// Bytes of heap the table holds (its arrays' capacities), for tests and tools.
    var heapBytes: Int {
        storage.capacity &+ records.capacity &* 4 &+ (buckets.capacity &+ chains.capacity) &* 8
    }

    /// The index (0 = newest) of the newest entry equal to the field, if any.
    @inline(__always)
    func index(ofField name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, fieldHash: UInt32) -> Int? {
        guard searchable, count > 0 else { return nil }
        let oldestLive = insertions &- count
        var sequence = buckets[Int(fieldHash) & (bucketCount &- 1)]
        while sequence >= oldestLive {
            let index = insertions &- 1 &- sequence
            let entrySlot = slot(index)
            if records[entrySlot &* Self.recordWidth &+ 4] == fieldHash
                && match(index, name: name, value: value, compareValue: true) == 2 {
                return index
            }
            sequence = chains[entrySlot &* 2]
        }
        return nil
    }

    /// The index (0 = newest) of the newest entry with this name, if any.
    @inline(__always)
    func index(ofName name: UnsafeRawBufferPointer, nameHash: UInt32) -> Int? {
        guard searchable, count > 0 else { return nil }
        let oldestLive = insertions &- count
        var sequence = buckets[bucketCount &+ Int(nameHash) & (bucketCount &- 1)]
        while sequence >= oldestLive {
            let index = insertions &- 1 &- sequence
            let entrySlot = slot(index)
            if records[entrySlot &* Self.recordWidth &+ 3] == nameHash
                && match(index, name: name, value: name, compareValue: false) >= 1 {
                return index
            }
            sequence = chains[entrySlot &* 2 &+ 1]
        }
        return nil
    }

    private var slots: Int { records.count / Self.recordWidth }

    /// Ring slot of the entry at `index`, 0 being the newest.
    @inline(__always)
    private func slot(_ index: Int) -> Int {
        var slot = oldest &+ count &- 1 &- index
        if slot >= slots { slot &-= slots }
        return slot
    }

    @inline(__always)
    func nameLength(_ index: Int) -> Int { Int(records[slot(index) &* Self.recordWidth &+ 1]) }

    @inline(__always)
    func nameHash(_ index: Int) -> UInt32 { records[slot(index) &* Self.recordWidth &+ 3] }

    @inline(__always)
    func fieldHash(_ index: Int) -> UInt32 { records[slot(index) &* Self.recordWidth &+ 4] }

    @inline(__always)
    func valueLength(_ index: Int) -> Int { Int(records[slot(index) &* Self.recordWidth &+ 2]) }

    /// Calls `body` with views of the name and value of entry `index` (0 = newest).
    ///
    /// Not throwing and with no `Result` inside: that keeps it free of allocations even in
    /// unoptimised builds, where generic error plumbing boxes values.
    @inline(__always)
    func withEntry<R>(
        _ index: Int, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> R
    ) -> R {
        let base = slot(index) &* Self.recordWidth
        let offset = Int(records[base])
        let nameLength = Int(records[base &+ 1])
        let valueLength = Int(records[base &+ 2])
        return storage.withUnsafeBytes { bytes in
            let start = bytes.baseAddress.map { $0 + offset }
            return body(
                UnsafeRawBufferPointer(start: start, count: nameLength),
                UnsafeRawBufferPointer(start: start.map { $0 + nameLength }, count: valueLength))
        }
    }

    /// Copies of the entries, newest first (allocates; for tests and tools).
    var fields: [HPACKHeaderField] {
        (0..<count).map { index in
            withEntry(index) { name, value in
                HPACKHeaderField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
            }
        }
    }

    /// How entry `index` compares with a field: 0 = other name, 1 = same name, 2 = same field
    /// (the value is compared only when `compareValue` is set). Not generic, so it allocates
    /// nothing even unoptimised.
    func match(_ index: Int, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, compareValue: Bool) -> Int {
        let base = slot(index) &* Self.recordWidth
        let offset = Int(records[base])
        let nameLength = Int(records[base &+ 1])
        let valueLength = Int(records[base &+ 2])
        return storage.withUnsafeBytes { bytes in
            let start = bytes.baseAddress.map { $0 + offset }
            guard bytesEqual(UnsafeRawBufferPointer(start: start, count: nameLength), name) else { return 0 }
            guard compareValue,
                  bytesEqual(UnsafeRawBufferPointer(start: start.map { $0 + nameLength }, count: valueLength), value)
            else { return 1 }
            return 2
        }
    }

    /// Sets the maximum size (a table size update), evicting entries to fit (RFC 7541 §4.3).
    ///
    /// `newMax` must not exceed `capacityLimit`.
    mutating func setMaxSize(_ newMax: Int) {
        maxSize = newMax
        while size > maxSize { evictOldest() }
    }

    /// Lets the storage grow for a larger limit (a SETTINGS change raised it); entries stay.
    mutating func setCapacityLimit(_ limit: Int) {
        guard limit > capacityLimit else { return }
        capacityLimit = limit
    }

    private mutating func evictOldest() {
        let base = oldest &* Self.recordWidth
        size &-= Int(records[base &+ 1]) &+ Int(records[base &+ 2]) &+ Self.entryOverhead
        oldest &+= 1
        if oldest == slots { oldest = 0 }
        count &-= 1
        if count == 0 {
            head = 0
            size = 0
            longestName = 0
        }
    }

    /// Adds an entry as the newest, evicting old ones first (RFC 7541 §4.4).
    ///
    /// `name` and `value` must not point into this table. An entry larger than the maximum
    /// size empties the table and is not added.
    mutating func insert(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        nameHash: UInt32 = 0, fieldHash: UInt32 = 0
    ) {
        let length = name.count &+ value.count
        let entrySize = length &+ Self.entryOverhead
        guard entrySize <= maxSize else {
            while count > 0 { evictOldest() }
            return
        }
        while size &+ entrySize > maxSize { evictOldest() }
        if count == slots { growRecords() }
        if count > 0 && liveBytes == 0 {
            // Only empty entries are left: their offsets no longer matter, restart the ring.
            head = 0
            var index = 0
            while index < count { records[slot(index) &* Self.recordWidth] = 0; index &+= 1 }
        }
        var offset = placement(length)
        if offset < 0 {
            compact(into: Swift.max(liveBytes &+ length, Swift.min(2 &* capacityLimit, Swift.max(Self.minimumStorage, Self.growth &* storage.count))))
            offset = head
        }
        if length > 0 {
            storage.withUnsafeMutableBytes { bytes in
                let destination = bytes.baseAddress! + offset
                if let source = name.baseAddress, name.count > 0 {
                    destination.copyMemory(from: source, byteCount: name.count)
                }
                if let source = value.baseAddress, value.count > 0 {
                    (destination + name.count).copyMemory(from: source, byteCount: value.count)
                }
            }
        }
        if name.count > longestName { longestName = name.count }
        var newSlot = oldest &+ count
        if newSlot >= slots { newSlot &-= slots }
        let base = newSlot &* Self.recordWidth
        records[base] = UInt32(truncatingIfNeeded: offset)
        records[base &+ 1] = UInt32(truncatingIfNeeded: name.count)
        records[base &+ 2] = UInt32(truncatingIfNeeded: value.count)
        records[base &+ 3] = nameHash
        records[base &+ 4] = fieldHash
        if searchable {
            let fieldBucket = Int(fieldHash) & (bucketCount &- 1)
            let nameBucket = bucketCount &+ Int(nameHash) & (bucketCount &- 1)
            chains[newSlot &* 2] = buckets[fieldBucket]
            chains[newSlot &* 2 &+ 1] = buckets[nameBucket]
            buckets[fieldBucket] = insertions
            buckets[nameBucket] = insertions
        }
        insertions &+= 1
        count &+= 1
        size &+= entrySize
        head = offset &+ length
    }

    /// Name and value octets of the live entries.
    private var liveBytes: Int { size &- count &* Self.entryOverhead }

    /// Where an entry of `length` octets goes without splitting or overwriting a live one,
    /// or -1 when the ring has no such room.
    @inline(__always)
    private func placement(_ length: Int) -> Int {
        let live = liveBytes
        if live == 0 { return length <= storage.count ? 0 : -1 }
        if length == 0 { return head }
        let tail = Int(records[oldest &* Self.recordWidth])
        if head > tail {
            // Not wrapped: after the newest entry, else from the start up to the oldest.
            if head &+ length <= storage.count { return head }
            return length <= tail ? 0 : -1
        }
        // Wrapped (head <= tail with live bytes): between the newest and the oldest.
        return head &+ length <= tail ? head : -1
    }

    /// Copies the live entries, oldest first, to the start of a new ring of `capacity` octets.
    @inline(never)
    private mutating func compact(into capacity: Int) {
        var fresh = [UInt8](repeating: 0, count: capacity)
        var cursor = 0
        fresh.withUnsafeMutableBytes { destination in
            storage.withUnsafeBytes { source in
                var index = 0
                while index < count {
                    let base = ((oldest &+ index) % slots) &* Self.recordWidth
                    let length = Int(records[base &+ 1]) &+ Int(records[base &+ 2])
                    if length > 0 {
                        (destination.baseAddress! + cursor).copyMemory(
                            from: source.baseAddress! + Int(records[base]), byteCount: length)
                    }
                    records[base] = UInt32(truncatingIfNeeded: cursor)
                    cursor &+= length
                    index &+= 1
                }
            }
        }
        storage = fresh
        head = cursor
    }

    /// Doubles the record ring (and rebuilds the encoder's indexes to match), oldest entry
    /// first in the new ring.
    @inline(never)
    private mutating func growRecords() {
        // No more records than the limit can hold entries (each counts at least 32 octets).
        let needed = capacityLimit / Self.entryOverhead &+ 1
        let newSlots = Swift.max(count &+ 1, Swift.min(Swift.max(Self.minimumSlots, Self.growth &* slots), needed))
        var fresh = [UInt32](repeating: 0, count: newSlots &* Self.recordWidth)
        var index = 0
        while index < count {
            let from = ((oldest &+ index) % slots) &* Self.recordWidth
            let to = index &* Self.recordWidth
            for field in 0..<Self.recordWidth { fresh[to &+ field] = records[from &+ field] }
            index &+= 1
        }
        records = fresh
        oldest = 0
        guard searchable else { return }
        var count = 8
        while count < newSlots { count &*= 2 }
        bucketCount = count
        buckets = [Int](repeating: -1, count: 2 &* count)
        chains = [Int](repeating: -1, count: newSlots &* 2)
        index = 0
        while index < self.count {
            let sequence = insertions &- self.count &+ index
            let fieldBucket = Int(records[index &* Self.recordWidth &+ 4]) & (count &- 1)
            let nameBucket = count &+ Int(records[index &* Self.recordWidth &+ 3]) & (count &- 1)
            chains[index &* 2] = buckets[fieldBucket]
            chains[index &* 2 &+ 1] = buckets[nameBucket]
            buckets[fieldBucket] = sequence
            buckets[nameBucket] = sequence
            index &+= 1
        }
    }
}
