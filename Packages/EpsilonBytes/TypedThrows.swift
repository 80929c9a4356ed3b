// The standard library's `withUnsafeBytes` rethrows untyped errors, so a typed-throws body
// loses its type. These wrappers carry the error through a `Result` once, here, instead of in
// every machine. SPI (`@_spi(EpsilonInternal) public`), like the rest of EpsilonBytes.

extension Array where Element == UInt8 {
    /// Calls `body` with the array's bytes, keeping `body`'s typed error.
    @inlinable
    @_spi(EpsilonInternal) public func withBytes<Value, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        let result: Result<Value, Failure> = withUnsafeBytes { bytes in
            do throws(Failure) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Calls `body` with the array's bytes, mutable, keeping `body`'s typed error.
    @inlinable
    @_spi(EpsilonInternal) public mutating func withMutableBytes<Value, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        let result: Result<Value, Failure> = withUnsafeMutableBytes { bytes in
            do throws(Failure) { return .success(try body(bytes)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
