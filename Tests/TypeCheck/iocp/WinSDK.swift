// A facsimile of the parts of Swift's `WinSDK` module (windows.h, winsock2.h, mswsock.h and
// the Swift overlay) that the IOCP backend uses, so that IOCPProactor.swift and the Windows
// branches of Proactor.swift can be type-checked on Linux by `bash Tests/TypeCheck/run`.
// Declarations only: nothing here is ever linked or run.
//
// - The structures, function types and functions are C (winsdk_facsimile.h), with Windows
//   x86-64 widths (LLP64: `DWORD`/`ULONG` are 32-bit, `SOCKET` is pointer-sized), so Swift
//   imports them as it does on Windows: zero-initializing `init()`, `BOOL` results as `Bool`,
//   implicitly discardable results, optional pointers.
// - Macros Swift cannot import are missing here as they are on Windows (`WSAID_ACCEPTEX`,
//   `WSAID_CONNECTEX`, `SIO_GET_EXTENSION_FUNCTION_POINTER`); what the overlay adds is below.
// - The BSD-socket names Winsock shares with POSIX (`sockaddr`, `sockaddr_storage`,
//   `socklen_t`) and the C runtime's errno constants come from Glibc, re-exported: the shared
//   transport code IOCPProactor plugs into names them too and must see the same types (on
//   Windows `socklen_t` is `int`). Names whose Windows type differs shadow Glibc's, declared
//   here: `SOCK_STREAM` and `SOL_SOCKET` are plain `Int32` macros, `bind` and `getsockopt`
//   take a `SOCKET`, and `getsockopt` a `char *` option value.
@_exported import Glibc
@_exported import CWinSDKFacsimile

/// From the Swift overlay (the C macros are casts, which Swift does not import).
public var INVALID_HANDLE_VALUE: HANDLE { HANDLE(bitPattern: -1)! }
public var INVALID_SOCKET: SOCKET { SOCKET(bitPattern: -1) }

public var SOL_SOCKET: Int32 { 0xffff }
public var SOCK_STREAM: Int32 { 1 }

/// `int bind(SOCKET s, const struct sockaddr *name, int namelen)`.
@discardableResult
public func bind(_ s: SOCKET, _ name: UnsafePointer<sockaddr>!, _ namelen: socklen_t) -> Int32 {
    fatalError("facsimile: never linked")
}

/// `int getsockopt(SOCKET s, int level, int optname, char *optval, int *optlen)`.
@discardableResult
public func getsockopt(_ s: SOCKET, _ level: Int32, _ optname: Int32, _ optval: UnsafeMutablePointer<CChar>!,
                       _ optlen: UnsafeMutablePointer<Int32>!) -> Int32 {
    fatalError("facsimile: never linked")
}
