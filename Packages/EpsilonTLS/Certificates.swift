import COpenSSL

/// An X.509 certificate, parsed once and shared by reference.
///
/// Load one from PEM or DER bytes, or a whole chain from a file with ``chain(pem:)``,
/// ``chain(der:)`` or ``chain(file:)``.
public struct TLSCertificate: Sendable, Hashable {
    let storage: X509Box

    init(taking x509: OpaquePointer) { storage = X509Box(x509) }

    /// Parses one certificate from PEM or DER bytes (the first one, if the PEM holds several).
    public init(bytes: [UInt8]) throws(TLSError) {
        let chain = try TLSCertificate.chain(bytes: bytes)
        self = chain[0]
    }

    /// Parses every certificate in PEM or DER bytes, in order (leaf first, for a server chain).
    /// PEM is recognised by its `-----BEGIN` line; DER may hold several certificates back to back.
    public static func chain(bytes: [UInt8]) throws(TLSError) -> [TLSCertificate] {
        if PEM.isPEM(bytes) { return try chain(pem: bytes) }
        return try chain(der: bytes)
    }

    /// Parses every `CERTIFICATE` block of PEM text.
    public static func chain(pem: [UInt8]) throws(TLSError) -> [TLSCertificate] {
        var result: [TLSCertificate] = []
        let bio = try MemoryBIO(reading: pem)
        while let x509 = PEM_read_bio_X509(bio.bio, nil, nil, nil) {
            result.append(TLSCertificate(taking: x509))
        }
        ERR_clear_error()  // the loop ends on a "no start line" error
        guard !result.isEmpty else { throw .invalidCertificate(reason: "no PEM CERTIFICATE block") }
        return result
    }

    /// Parses one or more DER certificates written back to back.
    public static func chain(der: [UInt8]) throws(TLSError) -> [TLSCertificate] {
        var result: [TLSCertificate] = []
        var failure: TLSError?
        der.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                var next: UnsafePointer<UInt8>? = base + offset
                guard let x509 = d2i_X509(nil, &next, buffer.count - offset), let end = next else {
                    failure = .invalidCertificate(reason: "bytes at offset \(offset) are not a DER certificate")
                    return
                }
                result.append(TLSCertificate(taking: x509))
                offset = end - base
            }
        }
        ERR_clear_error()
        if let failure { throw failure }
        guard !result.isEmpty else { throw .invalidCertificate(reason: "empty input") }
        return result
    }

    /// Reads a PEM or DER file holding one or more certificates.
    public static func chain(file path: String) throws(TLSError) -> [TLSCertificate] {
        try chain(bytes: readFile(path))
    }

    /// The certificate in DER encoding.
    public var derBytes: [UInt8] {
        let length = i2d_X509(storage.pointer, nil)
        guard length > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        bytes.withUnsafeMutableBufferPointer { buffer in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            _ = i2d_X509(storage.pointer, &cursor)
        }
        return bytes
    }

    /// The subject name in RFC 2253 form, e.g. `CN=localhost,O=Epsilon`.
    public var subject: String { Self.name(X509_get_subject_name(storage.pointer)) }
    /// The issuer name in RFC 2253 form.
    public var issuer: String { Self.name(X509_get_issuer_name(storage.pointer)) }

    static func name(_ name: OpaquePointer?) -> String {
        guard let name, let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        guard X509_NAME_print_ex(bio, name, 0, epsilon_XN_FLAG_RFC2253()) >= 0 else { return "" }
        return MemoryBIO.drainString(bio)
    }

    /// Two certificates are equal when their DER encodings are.
    public static func == (lhs: TLSCertificate, rhs: TLSCertificate) -> Bool {
        X509_cmp(lhs.storage.pointer, rhs.storage.pointer) == 0
    }

    /// Hashes the DER encoding.
    public func hash(into hasher: inout Hasher) { hasher.combine(derBytes) }
}

/// A private key (RSA, EC, Ed25519, ...), parsed once and shared by reference.
public struct TLSPrivateKey: Sendable {
    let storage: PKeyBox

    /// Parses a PEM (PKCS#8, traditional, or encrypted with `passphrase`) or DER private key.
    public init(bytes: [UInt8], passphrase: String? = nil) throws(TLSError) {
        if PEM.isPEM(bytes) {
            let bio = try MemoryBIO(reading: bytes)
            let key: OpaquePointer? =
                if let passphrase {
                    passphrase.withCString { PEM_read_bio_PrivateKey(bio.bio, nil, nil, UnsafeMutableRawPointer(mutating: $0)) }
                } else {
                    // An empty passphrase: an encrypted key fails here instead of prompting.
                    "".withCString { PEM_read_bio_PrivateKey(bio.bio, nil, nil, UnsafeMutableRawPointer(mutating: $0)) }
                }
            guard let key else {
                let reason = OpenSSLErrors.takeReason() ?? "no PEM private key"
                throw .invalidPrivateKey(reason: reason)
            }
            storage = PKeyBox(key)
        } else {
            var key: OpaquePointer?
            bytes.withUnsafeBufferPointer { buffer in
                var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
                key = d2i_AutoPrivateKey(nil, &cursor, buffer.count)
            }
            guard let key else {
                throw .invalidPrivateKey(reason: OpenSSLErrors.takeReason() ?? "not a DER private key")
            }
            storage = PKeyBox(key)
        }
        ERR_clear_error()
    }

    /// Reads a PEM or DER private key file.
    public init(file path: String, passphrase: String? = nil) throws(TLSError) {
        try self.init(bytes: readFile(path), passphrase: passphrase)
    }
}

/// A certificate chain (leaf first, then intermediates) and the leaf's private key: what a
/// server presents, or a client presents for mutual TLS.
public struct TLSIdentity: Sendable {
    /// Leaf first, then the intermediates to send; the root is normally left out.
    public var chain: [TLSCertificate]
    /// The leaf's private key.
    public var privateKey: TLSPrivateKey
    /// A DER OCSP response to staple for the leaf (RFC 6066 §8), or `nil`. Refresh it by
    /// making a new context before it expires; the engine does not fetch responses.
    public var ocspResponse: [UInt8]?

    /// Pairs a chain with its key; the key's match with the leaf is checked when a context
    /// is made (``TLSError/privateKeyMismatch``).
    public init(chain: [TLSCertificate], privateKey: TLSPrivateKey, ocspResponse: [UInt8]? = nil) {
        self.chain = chain
        self.privateKey = privateKey
        self.ocspResponse = ocspResponse
    }

    /// Loads a chain file and a key file (each PEM or DER), and optionally a DER OCSP response
    /// file to staple.
    public init(
        certificateFile: String, privateKeyFile: String, passphrase: String? = nil, ocspResponseFile: String? = nil
    ) throws(TLSError) {
        chain = try TLSCertificate.chain(file: certificateFile)
        privateKey = try TLSPrivateKey(file: privateKeyFile, passphrase: passphrase)
        ocspResponse = try ocspResponseFile.map { path throws(TLSError) in try readFile(path) }
    }
}

/// Which certificate authorities a side trusts when it verifies its peer.
public struct TLSTrustRoots: Sendable {
    /// Whether the system store (Debian: /etc/ssl/certs, via OpenSSL's default paths) is used.
    public var includesSystemStore: Bool
    /// Extra trusted certificates (roots or intermediates acting as anchors).
    public var certificates: [TLSCertificate]

    /// Trusts the system store and, optionally, extra certificates.
    public init(includesSystemStore: Bool, certificates: [TLSCertificate] = []) {
        self.includesSystemStore = includesSystemStore
        self.certificates = certificates
    }

    /// The system store only.
    public static let system = TLSTrustRoots(includesSystemStore: true)

    /// Only the given certificates (a private CA), not the system store.
    public static func only(_ certificates: [TLSCertificate]) -> TLSTrustRoots {
        TLSTrustRoots(includesSystemStore: false, certificates: certificates)
    }

    /// Only the certificates of a PEM or DER CA bundle file.
    public static func bundle(file path: String) throws(TLSError) -> TLSTrustRoots {
        .only(try TLSCertificate.chain(file: path))
    }

    func install(in context: OpaquePointer) throws(TLSError) {
        if includesSystemStore {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw .invalidConfiguration(reason: "cannot load the system trust store")
            }
        }
        let store = SSL_CTX_get_cert_store(context)
        for certificate in certificates {
            // Adding the same certificate twice is harmless; OpenSSL 3 no longer reports it.
            guard X509_STORE_add_cert(store, certificate.storage.pointer) == 1 else {
                throw .invalidConfiguration(reason: "cannot add \(certificate.subject) to the trust store")
            }
        }
        ERR_clear_error()
    }
}

// MARK: - Owned OpenSSL objects

/// Owns one `X509` reference. Safe to share across threads: OpenSSL's X509 objects are
/// immutable once parsed and reference-counted atomically.
final class X509Box: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }
}

/// Owns one `EVP_PKEY` reference. Safe to share for the same reason as ``X509Box``: a parsed
/// key is only read (signing uses per-operation contexts).
final class PKeyBox: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }
}

/// A read-only memory BIO over a copy of some bytes, freed with the value.
final class MemoryBIO {
    let bio: OpaquePointer
    init(reading bytes: [UInt8]) throws(TLSError) {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .invalidConfiguration(reason: "out of memory") }
        let written = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
        guard written == bytes.count || bytes.isEmpty else {
            BIO_free(bio)
            throw .invalidConfiguration(reason: "out of memory")
        }
        self.bio = bio
    }
    deinit { BIO_free(bio) }

    static func drainString(_ bio: OpaquePointer) -> String {
        let count = Int(epsilon_BIO_pending(bio))
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(count)) }
        return String(decoding: bytes.prefix(max(0, Int(read))), as: UTF8.self)
    }
}

enum PEM {
    static func isPEM(_ bytes: [UInt8]) -> Bool {
        let marker = Array("-----BEGIN".utf8)
        guard bytes.count >= marker.count else { return false }
        for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
            if bytes[start..<start + marker.count].elementsEqual(marker) { return true }
        }
        return false
    }
}

enum OpenSSLErrors {
    /// The reason text of the earliest queued error, and clears the queue.
    static func takeReason() -> String? {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0, let text = ERR_reason_error_string(code) else { return nil }
        return String(cString: text)
    }
}

/// Reads a whole file through OpenSSL's file BIO (this module imports no Foundation).
func readFile(_ path: String) throws(TLSError) -> [UInt8] {
    guard let bio = BIO_new_file(path, "rb") else {
        ERR_clear_error()
        throw .fileUnreadable(path: path)
    }
    defer { BIO_free(bio) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let read = chunk.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32($0.count)) }
        if read <= 0 { break }
        result.append(contentsOf: chunk[0..<Int(read)])
    }
    ERR_clear_error()
    return result
}
