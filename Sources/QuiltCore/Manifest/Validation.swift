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
    /// Not empty; every `/`-separated segment non-empty and neither `.` nor `..`.
    public static func validate(_ key: String) throws(ManifestError) {
        guard !key.isEmpty else { throw .invalidLogicalKey(key, reason: "empty") }
        if key.hasSuffix("/") { throw .invalidLogicalKey(key, reason: "ends with '/'") }
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            if segment.isEmpty { throw .invalidLogicalKey(key, reason: "empty path segment") }
            if segment == "." || segment == ".." { throw .invalidLogicalKey(key, reason: "'.' or '..' segment") }
        }
        if key.utf8.contains(0) { throw .invalidLogicalKey(key, reason: "contains NUL") }
    }

    /// Tree order: the depth-first walk with each directory's children sorted by code point, which is the
    /// byte order of the keys with `/` ranked below every other byte (so `a/x` < `a-b` < `a.txt`).
    @inline(__always)
    public static func precedes(_ lhs: String, _ rhs: String) -> Bool {
        var l = lhs.utf8.makeIterator()
        var r = rhs.utf8.makeIterator()
        while true {
            guard let a = l.next() else { return r.next() != nil }
            guard let b = r.next() else { return false }
            if a != b {
                if a == UInt8(ascii: "/") { return true }
                if b == UInt8(ascii: "/") { return false }
                return a < b
            }
        }
    }
}
