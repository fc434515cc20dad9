// POSIX tar (ustar, with pax headers for what ustar cannot hold), written and read as a stream: members go out
// as their bytes arrive and come in as they are read, never staged in a temporary file.

/// One member of a tar stream.
public struct TarEntry: Sendable, Equatable {
    public var name: String
    public var size: Int
    /// The ustar type flag: `0` a regular file, `5` a directory, …
    public var type: UInt8

    public var isRegularFile: Bool { type == UInt8(ascii: "0") || type == 0 }
}

/// Writes tar members to `sink`. Member bytes are written by the caller between `beginMember` and `endMember`.
/// Every header has mode 0644, owner 0, time 0: the same members give the same bytes.
public struct TarWriter {
    static let block = 512
    /// The largest size ustar's 11 octal digits hold.
    static let ustarMaxSize = 0o77777777777
    private let sink: (UnsafeRawBufferPointer) throws -> Void

    public init(sink: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.sink = sink
    }

    /// The header of a regular file `name` of `size` bytes; a pax header first when the name or size does not fit.
    public func beginMember(name: String, size: Int) throws {
        let nameBytes = Array(name.utf8)
        if nameBytes.count > 100 || size > Self.ustarMaxSize {
            var records: [UInt8] = []
            if nameBytes.count > 100 { records += Self.paxRecord("path", nameBytes) }
            if size > Self.ustarMaxSize { records += Self.paxRecord("size", Array(String(size).utf8)) }
            try emit(Self.header(name: Array("PaxHeader/".utf8) + nameBytes.suffix(80), size: records.count, type: UInt8(ascii: "x")))
            try records.withUnsafeBytes { try sink($0) }
            try endMember(size: records.count)
        }
        try emit(Self.header(name: Array(nameBytes.prefix(100)), size: min(size, Self.ustarMaxSize), type: UInt8(ascii: "0")))
    }

    /// Pads the member's `size` bytes to a whole block.
    public func endMember(size: Int) throws {
        let pad = (Self.block - size % Self.block) % Self.block
        if pad > 0 { try emit([UInt8](repeating: 0, count: pad)) }
    }

    /// A whole member from memory.
    public func member(name: String, bytes: [UInt8]) throws {
        try beginMember(name: name, size: bytes.count)
        try bytes.withUnsafeBytes { try sink($0) }
        try endMember(size: bytes.count)
    }

    /// The end-of-archive marker: two zero blocks.
    public func finish() throws {
        try emit([UInt8](repeating: 0, count: 2 * Self.block))
    }

    private func emit(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try sink($0) }
    }

    /// `"<len> key=value\n"`, where len counts the whole record, its own digits included.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let body = key.utf8.count + value.count + 3
        var length = body + String(body).count
        if String(length).count != String(body).count { length = body + String(length).count }
        return Array("\(length) \(key)=".utf8) + value + [0x0A]
    }

    static func header(name: [UInt8], size: Int, type: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: block)
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { h[offset + i] = b } }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(name, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(size, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        h[156] = type
        put(Array("ustar\u{0}00".utf8), at: 257)
        put([UInt8](repeating: 0x20, count: 8), at: 148)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(octal(sum, width: 7) + [0x20], at: 148)
        return h
    }
}

/// Reads tar members from `source` (which returns 0 at its end): headers checked, pax headers applied, content
/// handed out as it is read.
public final class TarReader {
    private let source: (UnsafeMutableRawBufferPointer) throws -> Int
    /// The member being read, and how much of its content is left.
    public private(set) var current: TarEntry?
    private var remaining = 0
    private var padding = 0
    private var ended = false
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    public init(source: @escaping (UnsafeMutableRawBufferPointer) throws -> Int) {
        self.source = source
    }

    deinit { scratch.deallocate() }

    /// The next member, skipping what is left of the current one; nil at the end-of-archive marker.
    public func next() throws -> TarEntry? {
        if ended { return nil }
        // (Two skips: a hostile pax size near 2^63 plus its padding would overflow.)
        try skip(remaining)
        try skip(padding)
        remaining = 0
        padding = 0
        var pax: [String: String] = [:]
        while true {
            var block = [UInt8](repeating: 0, count: TarWriter.block)
            let got = try block.withUnsafeMutableBytes { try readUpTo($0) }
            if got == 0 {
                // The end of the stream where a header should be: no end-of-archive marker.
                current = nil
                throw ArchiveError.truncated
            }
            guard got == TarWriter.block else { throw ArchiveError.truncated }
            if block.allSatisfy({ $0 == 0 }) {
                ended = true
                current = nil
                return nil
            }
            var entry = try Self.parse(block)
            if let path = pax["path"] { entry.name = path }
            if let size = pax["size"] {
                guard let n = Int(size), n >= 0 else { throw ArchiveError.badHeader("pax size \(size)") }
                entry.size = n
            }
            if entry.type == UInt8(ascii: "x") || entry.type == UInt8(ascii: "g") {
                let records = try readWhole(entry.size)
                try skip((TarWriter.block - entry.size % TarWriter.block) % TarWriter.block)
                if entry.type == UInt8(ascii: "x") { pax = try Self.parsePax(records) }
                continue
            }
            current = entry
            remaining = entry.size
            padding = (TarWriter.block - entry.size % TarWriter.block) % TarWriter.block
            return entry
        }
    }

    /// Bytes of the current member still unread.
    public var unread: Int { remaining }

    /// Up to `buffer.count` bytes of the current member; 0 when it is all read.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let want = min(buffer.count, remaining)
        guard want > 0 else { return 0 }
        let n = try source(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want]))
        guard n > 0 else { throw ArchiveError.truncated }
        remaining -= n
        return n
    }

    /// After the end-of-archive marker: only zero bytes may follow (some writers pad to a record size).
    public func checkOnlyZerosFollow() throws {
        while true {
            let n = try source(scratch)
            if n == 0 { return }
            if !UnsafeRawBufferPointer(rebasing: scratch[0..<n]).allSatisfy({ $0 == 0 }) { throw ArchiveError.trailingData }
        }
    }

    private func readUpTo(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try source(UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    private func readWhole(_ count: Int) throws -> [UInt8] {
        guard count <= 1 << 20 else { throw ArchiveError.badHeader("pax header of \(count) bytes") }
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try readUpTo($0) }
        guard got == count else { throw ArchiveError.truncated }
        return bytes
    }

    private func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            let n = try source(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(scratch.count, left)]))
            guard n > 0 else { throw ArchiveError.truncated }
            left -= n
        }
    }

    static func parse(_ h: [UInt8]) throws -> TarEntry {
        func field(_ offset: Int, _ length: Int) -> ArraySlice<UInt8> {
            let slice = h[offset..<offset + length]
            return slice.prefix { $0 != 0 }
        }
        func octal(_ offset: Int, _ length: Int) throws -> Int {
            let text = String(decoding: field(offset, length), as: UTF8.self).trimmingCharacters(in: " ")
            guard let value = Int(text.isEmpty ? "0" : text, radix: 8), value >= 0 else {
                throw ArchiveError.badHeader("bad number \(text.debugDescription)")
            }
            return value
        }
        let stored = try octal(148, 8)
        var copy = h
        for i in 148..<156 { copy[i] = 0x20 }
        guard copy.reduce(0, { $0 + Int($1) }) == stored else { throw ArchiveError.badHeader("header checksum mismatch") }
        var name = String(decoding: field(0, 100), as: UTF8.self)
        // ustar splits long names into a prefix and a name.
        if h[257..<262].elementsEqual("ustar".utf8) {
            let prefix = String(decoding: field(345, 155), as: UTF8.self)
            if !prefix.isEmpty { name = prefix + "/" + name }
        }
        return TarEntry(name: name, size: try octal(124, 12), type: h[156])
    }

    static func parsePax(_ bytes: [UInt8]) throws -> [String: String] {
        var values: [String: String] = [:]
        var i = 0
        while i < bytes.count {
            guard let space = bytes[i...].firstIndex(of: 0x20),
                  let length = Int(String(decoding: bytes[i..<space], as: UTF8.self)), length > 0, i + length <= bytes.count,
                  let equals = bytes[space..<(i + length)].firstIndex(of: UInt8(ascii: "=")) else {
                throw ArchiveError.badHeader("malformed pax record")
            }
            let key = String(decoding: bytes[(space + 1)..<equals], as: UTF8.self)
            values[key] = String(decoding: bytes[(equals + 1)..<(i + length - 1)], as: UTF8.self)
            i += length
        }
        return values
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
