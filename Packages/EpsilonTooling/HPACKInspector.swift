import EpsilonHPACK
import Foundation

/// Turns HPACK header blocks into printable lines, for `epsilon inspect hpack HEX|FILE`.
public enum HPACKInspector {
    /// A block that could not be decoded to the end; carries the lines printed before.
    public struct InspectionError: Error, CustomStringConvertible {
        /// The lines decoded before the error, then the error line.
        public let output: String
        /// The decoder's error.
        public let underlying: HPACKError
        /// The partial output, error included.
        public var description: String { output }
    }

    /// Why an argument could not be read.
    public struct InputError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    /// Reads the blocks an argument names: the path of an existing file, or hex text.
    ///
    /// A file whose content is hex text gives one block per non-empty line (decoded in order,
    /// sharing one dynamic table); any other file is one raw block. Throws ``InputError`` for
    /// text that is neither a file nor hex.
    public static func blocks(fromArgument argument: String) throws -> [[UInt8]] {
        if FileManager.default.fileExists(atPath: argument) {
            let data = try Data(contentsOf: URL(fileURLWithPath: argument))
            if let text = String(data: data, encoding: .utf8) {
                let lines = text.split(whereSeparator: \.isNewline).map(String.init)
                    .filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                let parsed = lines.compactMap(hpackHexBytes)
                if !lines.isEmpty && parsed.count == lines.count { return parsed }
            }
            return [Array(data)]
        }
        guard let bytes = hpackHexBytes(argument) else {
            throw InputError(description: "neither a file nor hex: \(argument)")
        }
        return [bytes]
    }

    /// Describes the blocks an argument names (see ``blocks(fromArgument:)``).
    public static func describe(argument: String, maxTableSize: Int = 4096) throws -> String {
        try describe(blocks: blocks(fromArgument: argument), maxTableSize: maxTableSize)
    }

    /// Describes one header block: one line per field, `name: value` with its representation,
    /// then the dynamic table's size.
    ///
    /// Throws ``InspectionError`` (with the lines decoded so far) if the block breaks a rule.
    public static func describe(_ bytes: [UInt8], maxTableSize: Int = 4096) throws(InspectionError) -> String {
        try describe(blocks: [bytes], maxTableSize: maxTableSize)
    }

    /// Describes blocks decoded in order by one decoder (one compression context).
    public static func describe(blocks: [[UInt8]], maxTableSize: Int = 4096) throws(InspectionError) -> String {
        var decoder = HPACKHeaderBlockDecoder(configuration: .init(
            maxTableSize: maxTableSize, maxHeaderListSize: 1 << 24, maxStringLength: 1 << 20,
            forbiddenCharacters: .flag))
        var lines: [String] = []
        for (number, block) in blocks.enumerated() {
            if blocks.count > 1 { lines.append("# block \(number) (\(block.count) bytes)") }
            var fieldNumber = 0
            do {
                try decoder.receive(block) { field in
                    var line = "\(fieldNumber): \(printable(field.name)): \(printable(field.value))"
                    line += "  [\(label(field.representation))"
                    if field.hasForbiddenCharacter { line += ", CR/LF/NUL in value" }
                    line += "]"
                    lines.append(line)
                    fieldNumber += 1
                }
            } catch {
                lines.append("error: \(error)")
                throw InspectionError(output: lines.joined(separator: "\n"), underlying: error)
            }
            lines.append("dynamic table: \(decoder.dynamicTableCount) entries, "
                + "\(decoder.dynamicTableSize)/\(decoder.dynamicTableMaxSize) octets")
        }
        return lines.joined(separator: "\n")
    }

    fileprivate static func label(_ representation: HPACKFieldRepresentation) -> String {
        switch representation {
        case .indexed: "indexed"
        case .incrementalIndexing: "literal, incremental indexing"
        case .withoutIndexing: "literal, without indexing"
        case .neverIndexed: "literal, never indexed"
        }
    }

    /// Printable ASCII as is, backslash and everything else as `\xNN`.
    fileprivate static func printable(_ bytes: UnsafeRawBufferPointer) -> String {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return text
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
