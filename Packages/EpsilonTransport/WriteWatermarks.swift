/// Write-queue thresholds for back-pressure: ``Connection/isWritable`` turns false above
/// `high` pending bytes and true again at or below `low`.
public struct WriteWatermarks: Sendable, Hashable {
    /// Pending bytes at or below which the connection is writable again.
    public var low: Int
    /// Pending bytes above which the connection stops being writable.
    public var high: Int
    /// Creates watermarks; `low` is clamped to at most `high`.
    public init(low: Int = 32 * 1024, high: Int = 64 * 1024) {
        self.high = max(high, 1)
        self.low = min(max(low, 0), self.high)
    }
}
