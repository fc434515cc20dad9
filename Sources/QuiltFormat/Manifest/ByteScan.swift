// Byte-level checks of JSON string bodies: well-formed UTF-8, and scanning eight bytes at a time for the end of a
// string. What the fast paths of the line codec and the shape scanner use instead of making Strings.
/// Well-formed UTF-8 as the Unicode standard defines it (table 3-7): no overlong forms, no surrogates, nothing
/// past U+10FFFF. What `String(validating:)` accepts, without making a String.
enum UTF8Check {
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        @inline(__always) func continuation(_ j: Int) -> Bool { j < n && bytes[j] & 0xC0 == 0x80 }
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 {
                i += 1
            } else if b0 < 0xC2 {
                return false
            } else if b0 < 0xE0 {
                guard continuation(i + 1) else { return false }
                i += 2
            } else if b0 < 0xF0 {
                guard i + 2 < n, continuation(i + 2) else { return false }
                let b1 = bytes[i + 1]
                switch b0 {
                case 0xE0: guard b1 >= 0xA0 && b1 <= 0xBF else { return false }
                case 0xED: guard b1 >= 0x80 && b1 <= 0x9F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                i += 3
            } else if b0 < 0xF5 {
                guard i + 3 < n, continuation(i + 2), continuation(i + 3) else { return false }
                let b1 = bytes[i + 1]
                switch b0 {
                case 0xF0: guard b1 >= 0x90 && b1 <= 0xBF else { return false }
                case 0xF4: guard b1 >= 0x80 && b1 <= 0x8F else { return false }
                default: guard b1 & 0xC0 == 0x80 else { return false }
                }
                i += 4
            } else {
                return false
            }
        }
        return true
    }
}

/// Scanning JSON string bodies eight bytes at a time.
enum ByteScan {
    /// What the bytes passed over held.
    struct Seen {
        var ored: UInt64 = 0
        var bumped: UInt64 = 0
        /// A byte of 0x80 or more.
        var nonASCII: Bool { ored & 0x8080_8080_8080_8080 != 0 }
        /// A byte of 0x7F or more (what the canonical form escapes).
        var beyondPrintable: Bool { (ored | bumped) & 0x8080_8080_8080_8080 != 0 }
    }

    /// The index of the first byte from `start` that is `"`, `\\` or a control character (or the end).
    @inline(__always)
    static func stringEnd(_ bytes: UnsafeRawBufferPointer, from start: Int, seen: inout Seen) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let n = bytes.count
        guard let base = bytes.baseAddress else { return start }
        var i = start
        while i + 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
            let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)
            if special & highs != 0 { break }
            seen.ored |= w
            seen.bumped |= w &+ ones
            i += 8
        }
        while i < n {
            let b = base.load(fromByteOffset: i, as: UInt8.self)
            if b == 0x22 || b == 0x5C || b < 0x20 { break }
            seen.ored |= UInt64(b)
            seen.bumped |= UInt64(b) &+ 1
            i += 1
        }
        return i
    }
}
