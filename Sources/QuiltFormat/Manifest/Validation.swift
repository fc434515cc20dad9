// Validation rules for package names and logical keys, and the tree order entries are written and hashed in.

public enum PackageName {
    /// quilt3's `^[\w-]+/[\w-]+$` with Unicode `\w`: letters, digits and `_` of any script, and `-`.
    /// Unlike Python's `$`, a trailing newline is not accepted.
    public static func validate(_ name: String) throws(ManifestError) {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(isWordOrDash) }) else {
            throw .invalidPackageName(name)
        }
    }

    static func isWordOrDash(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "_" || scalar == "-" { return true }
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        let properties = scalar.properties
        return properties.isAlphabetic || properties.numericType != nil
    }

    /// Splits a valid `ns/name`.
    public static func components(_ name: String) throws(ManifestError) -> (namespace: String, name: String) {
        try validate(name)
        let parts = name.split(separator: "/")
        return (String(parts[0]), String(parts[1]))
    }
}

public enum LogicalKey {
    /// Not empty; every `/`-separated segment non-empty and neither `.` nor `..`. Checked on the UTF-8 bytes, as
    /// quilt3 checks code points (Swift's Character-based `split` would glue a `/` to a preceding Prepend mark).
    public static func validate(_ key: String) throws(ManifestError) {
        var copy = key
        if let reason = copy.withUTF8(problem) { throw .invalidLogicalKey(key, reason: reason) }
    }

    /// The first rule `key` breaks, in the order the rules are listed above; nil if it is valid.
    static func problem(_ key: UnsafeBufferPointer<UInt8>) -> String? {
        guard !key.isEmpty else { return "empty" }
        let slash = UInt8(ascii: "/"), dot = UInt8(ascii: ".")
        if key[key.count - 1] == slash { return "ends with '/'" }
        var segmentStart = 0
        for i in 0..<key.count where key[i] == slash {
            if let reason = segmentProblem(key, segmentStart, i) { return reason }
            segmentStart = i + 1
        }
        if let reason = segmentProblem(key, segmentStart, key.count) { return reason }
        return key.contains(0) ? "contains NUL" : nil

        func segmentProblem(_ key: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String? {
            switch end - start {
            case 0: return "empty path segment"
            case 1 where key[start] == dot: return "'.' or '..' segment"
            case 2 where key[start] == dot && key[start + 1] == dot: return "'.' or '..' segment"
            default: return nil
            }
        }
    }

    /// Tree order: the depth-first walk with each directory's children sorted by code point, which is the
    /// byte order of the keys with `/` ranked below every other byte (so `a/x` < `a-b` < `a.txt`).
    // Inlinable: a walk sorts every directory's names with it, and a call across modules per comparison (its
    // strings retained and released) was two thirds of the sort.
    @inlinable @inline(__always)
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        // withUTF8 is mutating only to make a bridged string contiguous; native strings are not copied.
        var lhs = lhs, rhs = rhs
        return lhs.withUTF8 { l in rhs.withUTF8 { r in precedes(l, r) } }
    }

    /// The names of one directory (none holds a `/`) sorted in tree order, which for them is plain byte order:
    /// compared by their first eight bytes as one integer (no name holds a NUL, so a short name padded with zeros
    /// still sorts first), byte by byte only on a tie. Sorting the Strings themselves was a quarter of a walk's
    /// time in user space.
    public static func sortNames(_ names: inout [String]) {
        guard names.count > 1 else { return }
        var keyed: [(prefix: UInt64, index: Int)] = []
        keyed.reserveCapacity(names.count)
        for i in names.indices {
            var prefix: UInt64 = 0
            var name = names[i]
            name.withUTF8 { bytes in
                for j in 0..<8 { prefix = prefix << 8 | UInt64(j < bytes.count ? bytes[j] : 0) }
            }
            keyed.append((prefix, i))
        }
        keyed.sort { $0.prefix != $1.prefix ? $0.prefix < $1.prefix : precedes(names[$0.index], names[$1.index]) }
        names = keyed.map { names[$0.index] }
    }

    /// `precedes` on UTF-8 bytes: only the first differing byte matters, so the common prefix is skipped eight
    /// bytes at a time and `/` is ranked lowest only there.
    @inlinable @inline(__always)
    public static func precedes(_ l: UnsafeBufferPointer<UInt8>, _ r: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(l.count, r.count)
        var i = 0
        if let lb = l.baseAddress, let rb = r.baseAddress {
            while i + 8 <= n {
                let a = UnsafeRawPointer(lb + i).loadUnaligned(as: UInt64.self)
                let b = UnsafeRawPointer(rb + i).loadUnaligned(as: UInt64.self)
                if a != b {
                    // Little- or big-endian, the first differing byte in memory order.
                    let x = UInt64(littleEndian: a ^ b)
                    i += x.trailingZeroBitCount / 8
                    return rank(l[i]) < rank(r[i])
                }
                i += 8
            }
        }
        while i < n {
            if l[i] != r[i] { return rank(l[i]) < rank(r[i]) }
            i += 1
        }
        return l.count < r.count
    }

    /// A byte's place in tree order: `/` first, then every other byte in its own order.
    @inlinable @inline(__always)
    @usableFromInline static func rank(_ byte: UInt8) -> UInt16 {
        byte == UInt8(ascii: "/") ? 0 : UInt16(byte) + 1
    }
}
