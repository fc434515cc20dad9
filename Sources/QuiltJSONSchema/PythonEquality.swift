// jsonschema's equality, used by `enum`, `const` and `uniqueItems`: Python's `==` except that booleans are never
// equal to numbers (`True != 1`, `False != 0`, also inside arrays and objects). Numbers compare exactly
// (`1 == 1.0`, `2**60 == 2.0**60`), strings by code point, objects regardless of key order, arrays elementwise.
import QuiltSupport
import QuiltFormat

func jsonSchemaEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.integer, .integer), (.integer, .float), (.float, .integer), (.float, .float):
        return pythonCompareNumbers(a, b) == 0
    case (.string(let x), .string(let y)): return x.isIdentical(to: y)
    case (.array(let x), .array(let y)):
        guard x.count == y.count else { return false }
        for i in x.indices where !jsonSchemaEqual(x[i], y[i]) { return false }
        return true
    case (.object(let x), .object(let y)):
        guard x.count == y.count else { return false }
        for (key, value) in x {
            guard let other = y[key], jsonSchemaEqual(value, other) else { return false }
        }
        return true
    default:
        return false
    }
}

/// Whether no two items are `jsonSchemaEqual`.
///
/// jsonschema sorts the items and compares neighbours when Python can sort them, and compares every pair otherwise.
/// Where Python's sort order and jsonschema's equality disagree (`[[1], [True], [1]]`: Python sorts `[1]` and
/// `[True]` as equal, so the two `[1]`s need not end up neighbours) that sort can miss a duplicate; this compares
/// every pair that shares a hash, so it finds all of them, as the specification asks.
func jsonSchemaItemsAreUnique(_ items: [JSONValue]) -> Bool {
    if items.count < 2 { return true }
    if items.count <= 8 {
        for i in items.indices {
            for j in (i + 1)..<items.count where jsonSchemaEqual(items[i], items[j]) { return false }
        }
        return true
    }
    var order = Array(items.indices)
    let hashes = items.map(equalityHash)
    order.sort { hashes[$0] < hashes[$1] }
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && hashes[order[end]] == hashes[order[start]] { end += 1 }
        if end - start > 1 {
            for i in start..<end {
                for j in (i + 1)..<end where jsonSchemaEqual(items[order[i]], items[order[j]]) { return false }
            }
        }
        start = end
    }
    return true
}

/// A hash consistent with `jsonSchemaEqual`: numbers hash by their nearest double (equal numbers round alike),
/// objects independently of key order.
private func equalityHash(_ value: JSONValue) -> Int {
    var hasher = Hasher()
    combineEqualityHash(value, into: &hasher)
    return hasher.finalize()
}

private func combineEqualityHash(_ value: JSONValue, into hasher: inout Hasher) {
    switch value {
    case .null:
        hasher.combine(0 as UInt8)
    case .bool(let b):
        hasher.combine(1 as UInt8)
        hasher.combine(b)
    case .integer(let digits):
        hasher.combine(2 as UInt8)
        hasher.combine((Double(digits) ?? 0) + 0.0)
    case .float(let d):
        hasher.combine(2 as UInt8)
        hasher.combine(d + 0.0)  // -0.0 + 0.0 is 0.0
    case .string(let s):
        hasher.combine(3 as UInt8)
        hasher.combine(ExactString(s))
    case .array(let items):
        hasher.combine(4 as UInt8)
        hasher.combine(items.count)
        for item in items { combineEqualityHash(item, into: &hasher) }
    case .object(let object):
        hasher.combine(5 as UInt8)
        hasher.combine(object.count)
        var sum = 0
        for (key, item) in object {
            var pairHasher = Hasher()
            pairHasher.combine(ExactString(key))
            combineEqualityHash(item, into: &pairHasher)
            sum &+= pairHasher.finalize()
        }
        hasher.combine(sum)
    }
}
