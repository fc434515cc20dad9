// A JSON value that keeps everything quilt3's hashing depends on: integers vs floats, integers of any size,
// key insertion order, and all of Unicode.
import QuiltSupport

/// A parsed JSON value.
///
/// Integers are kept as their normalised decimal text so that values beyond 64 bits hash exactly as Python's
/// arbitrary-precision `int`; floats are `Double`s, rendered back as Python's `repr`.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Decimal digits with an optional leading `-`, no leading zeros, never `-0`.
    case integer(String)
    /// A finite double.
    case float(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func int(_ value: Int) -> JSONValue { .integer(String(value)) }

    /// Python truthiness: `None`, `False`, zero, and empty strings, lists and objects are false.
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let b): return b
        case .integer(let digits): return digits != "0"
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// Python's `==` on the parsed values: strings by code point; `1 == 1.0` as in Python.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b
        case (.integer(let a), .float(let b)), (.float(let b), .integer(let a)):
            return Double(a).map { $0 == b && $0.magnitude < 9.007199254740992e15 } ?? false
        case (.string(let a), .string(let b)): return a.isIdentical(to: b)
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The value of a number (an integer or a float) as a `Double`, rounded as Python's `float()` rounds it.
    public var numberValue: Double? {
        switch self {
        case .integer(let digits): return Double(digits)
        case .float(let value): return value
        default: return nil
        }
    }

    /// The value as an `Int`, if it is an integer that fits.
    public var intValue: Int? {
        if case .integer(let digits) = self { return Int(digits) }
        return nil
    }
}

/// A JSON object that keeps its keys in insertion order, as Python's `dict` does.
///
/// Setting an existing key keeps its position (like `dict[k] = v`), which is also what parsing does with a
/// duplicated key: the first position, the last value.
public struct JSONObject: Sendable, Equatable, Sequence {
    public private(set) var pairs: [(key: String, value: JSONValue)]

    public init() { pairs = [] }

    public init(_ pairs: [(String, JSONValue)]) {
        self.pairs = []
        self.pairs.reserveCapacity(pairs.count)
        for (key, value) in pairs { self[key] = value }
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }
    public var keys: [String] { pairs.map(\.key) }

    public subscript(key: String) -> JSONValue? {
        get {
            for pair in pairs where pair.key.isIdentical(to: key) { return pair.value }
            return nil
        }
        set {
            if let index = pairs.firstIndex(where: { $0.key.isIdentical(to: key) }) {
                if let newValue { pairs[index].value = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
        }
    }

    /// Appends without looking for an existing key; for parsers that already know the key is new.
    mutating func appendNew(_ key: String, _ value: JSONValue) {
        pairs.append((key, value))
    }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let index = pairs.firstIndex(where: { $0.key.isIdentical(to: key) }) else { return nil }
        return pairs.remove(at: index).value
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        pairs.makeIterator()
    }

    /// Python `dict` equality: the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.pairs.count == rhs.pairs.count else { return false }
        for (key, value) in lhs.pairs {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

/// Why a JSON text could not be read or written.
public enum JSONError: QuiltError {
    case syntax(offset: Int, reason: String)
    case nonFinite
    case invalidUTF8(offset: Int)

    public var kind: FailureKind { .badInput }
    public var message: String {
        switch self {
        case .syntax(let offset, let reason): return "invalid JSON at byte \(offset): \(reason)"
        case .nonFinite: return "invalid JSON: NaN and Infinity are not allowed"
        case .invalidUTF8(let offset): return "invalid JSON at byte \(offset): not UTF-8"
        }
    }
}
