// Swift compares and hashes Strings by Unicode canonical equivalence ("é" == "e\u{301}"); Python, and therefore
// quilt3, compares code points. Logical keys and JSON keys must be compared the Python way.
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension String {
    /// Python's `==`: the same code points (the same UTF-8 bytes).
    @inline(__always)
    public func isIdentical(to other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        // One memcmp on the contiguous bytes; the generic byte loop is the fallback for non-contiguous strings.
        let same = utf8.withContiguousStorageIfAvailable { a in
            other.utf8.withContiguousStorageIfAvailable { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
        return (same ?? nil) ?? utf8.elementsEqual(other.utf8)
    }

    /// Python's `str.startswith`.
    public func hasBytePrefix(_ prefix: String) -> Bool {
        utf8.count >= prefix.utf8.count && utf8.starts(with: prefix.utf8)
    }
}

/// A String wrapper that is equal and hashes by exact code points, for Sets and Dictionaries of logical keys.
public struct ExactString: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let string: String

    public init(_ string: String) { self.string = string }

    public static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.string.isIdentical(to: rhs.string) }

    public func hash(into hasher: inout Hasher) {
        // All bytes in one call where the string is contiguous (one call per byte cost more than the lookup).
        let hashed: Void? = string.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil {
            for b in string.utf8 { hasher.combine(b) }
        }
        hasher.combine(0xFF as UInt8)
    }

    /// Code-point order.
    public static func < (lhs: ExactString, rhs: ExactString) -> Bool {
        lhs.string.utf8.lexicographicallyPrecedes(rhs.string.utf8)
    }

    public var description: String { string }
}
