// Numbers compared the way Python compares them: `int`s of any size exactly, `int` against `float` exactly (Python
// never rounds the int to a float to compare), and jsonschema's `multipleOf` arithmetic, float rounding included.
import QuiltSupport
import QuiltFormat

/// Python's three-way comparison of two JSON numbers (`.integer` or `.float`): -1, 0 or 1.
/// Anything that is not a number compares as equal; callers check the types first.
func pythonCompareNumbers(_ a: JSONValue, _ b: JSONValue) -> Int {
    switch (a, b) {
    case (.integer(let x), .integer(let y)): return compareDecimalIntegers(x, y)
    case (.float(let x), .float(let y)): return x < y ? -1 : (x > y ? 1 : 0)
    case (.integer(let x), .float(let y)): return compareIntegerToFloat(x, y)
    case (.float(let x), .integer(let y)): return -compareIntegerToFloat(y, x)
    default: return 0
    }
}

/// Compares two normalised decimal integers (optional `-`, no leading zeros) without converting them.
func compareDecimalIntegers(_ a: String, _ b: String) -> Int {
    let aNegative = a.utf8.first == UInt8(ascii: "-")
    let bNegative = b.utf8.first == UInt8(ascii: "-")
    if aNegative != bNegative { return aNegative ? -1 : 1 }
    let aDigits = a.utf8.dropFirst(aNegative ? 1 : 0)
    let bDigits = b.utf8.dropFirst(bNegative ? 1 : 0)
    var magnitude: Int
    if aDigits.count != bDigits.count {
        magnitude = aDigits.count < bDigits.count ? -1 : 1
    } else if aDigits.elementsEqual(bDigits) {
        magnitude = 0
    } else {
        magnitude = aDigits.lexicographicallyPrecedes(bDigits) ? -1 : 1
    }
    if aNegative { magnitude = -magnitude }
    return magnitude
}

/// Compares an integer with a float exactly, as Python does.
///
/// Rounding to the nearest double is monotonic and leaves `y` unchanged, so whenever `Double(x) != y` the rounded
/// comparison is already the exact one; only when they are equal must the integer be compared with `y`'s exact value.
func compareIntegerToFloat(_ x: String, _ y: Double) -> Int {
    let rounded = Double(x) ?? 0
    if rounded < y { return -1 }
    if rounded > y { return 1 }
    // Here y is a whole number (every double an integer rounds to is), and x and y have the same sign.
    if y.magnitude < 9.2e18 {
        let whole = Int64(y)
        guard let exact = Int64(x) else { return x.utf8.first == UInt8(ascii: "-") ? -1 : 1 }
        return exact < whole ? -1 : (exact > whole ? 1 : 0)
    }
    let negative = y < 0
    let magnitude = BigUnsigned(decimalDigits: x.utf8.dropFirst(negative ? 1 : 0))
        .compare(to: BigUnsigned(wholeDouble: y.magnitude))
    return negative ? -magnitude : magnitude
}

/// Whether `instance` is a multiple of `divisor` by jsonschema's arithmetic (its `multipleOf` keyword):
///
/// - a float divisor: `quotient = instance / divisor` in floats (an int instance rounded to a float first), and the
///   instance is a multiple when the quotient is whole, so rounding decides: 0.075 / 0.01 = 7.499999999999999 is not
///   whole, 0.3 / 0.1 = 2.9999999999999996 is not either. When the quotient overflows to infinity jsonschema falls back
///   to exact fractions; so does this, and also where Python would raise OverflowError instead (an int instance
///   too large for a float).
/// - an int divisor and a float instance: `instance % divisor` in floats, which is exact (fmod).
/// - both ints: `instance % divisor`, exactly, at any size.
func isPythonMultiple(_ instance: JSONValue, of divisor: JSONValue) -> Bool {
    switch (instance, divisor) {
    case (_, .float(let d)):
        let x: Double
        switch instance {
        case .integer(let digits): x = Double(digits) ?? .infinity
        case .float(let f): x = f
        default: return true
        }
        if x.isFinite {
            let quotient = x / d
            if quotient.isFinite { return quotient.rounded(.towardZero) == quotient }
        }
        return isExactMultiple(instance, ofFloat: d)
    case (.float(let x), .integer(let digits)):
        let d = Double(digits) ?? .infinity
        // Python raises OverflowError converting a divisor beyond the float range; mathematically, every finite
        // float is then its own remainder.
        guard d.isFinite else { return x == 0 }
        return x.truncatingRemainder(dividingBy: d) == 0
    case (.integer(let x), .integer(let d)):
        let xDigits = x.utf8.dropFirst(x.utf8.first == UInt8(ascii: "-") ? 1 : 0)
        let dDigits = d.utf8.dropFirst(d.utf8.first == UInt8(ascii: "-") ? 1 : 0)
        if xDigits.count <= 18 && dDigits.count <= 18, let a = Int64(x), let b = Int64(d), b != 0 {
            return a % b == 0
        }
        let divisorMagnitude = BigUnsigned(decimalDigits: dDigits)
        if divisorMagnitude.isZero { return false }
        return BigUnsigned(decimalDigits: xDigits).remainder(dividingBy: divisorMagnitude).isZero
    default:
        return true
    }
}

/// Python's `Fraction(instance) / Fraction(d)` has denominator 1: the exact test, for quotients beyond the float range.
///
/// With `d = m·2^e` (m odd): a float `n·2^f` (n odd) is a multiple when m divides n and f ≥ e; an integer N when
/// m divides N and, for e > 0, 2^e divides N.
private func isExactMultiple(_ instance: JSONValue, ofFloat d: Double) -> Bool {
    guard d != 0, d.isFinite else { return false }
    let (m, e) = oddSignificandAndExponent(d.magnitude)
    switch instance {
    case .float(let x):
        if x == 0 { return true }
        let (n, f) = oddSignificandAndExponent(x.magnitude)
        return n % m == 0 && f >= e
    case .integer(let digits):
        let magnitude = BigUnsigned(decimalDigits: digits.utf8.dropFirst(digits.utf8.first == UInt8(ascii: "-") ? 1 : 0))
        if magnitude.isZero { return true }
        if magnitude.remainder(dividingBy: m) != 0 { return false }
        return e <= 0 || magnitude.trailingZeroBitCount >= e
    default:
        return true
    }
}

/// `value = m · 2^e` with m odd, for a finite positive double.
private func oddSignificandAndExponent(_ value: Double) -> (UInt64, Int) {
    // significand in [1, 2) with at most 52 fraction bits: scaled by 2^52 it is a whole number.
    var m = UInt64(value.significand * 4_503_599_627_370_496)
    var e = Int(value.exponent) - 52
    let zeros = m.trailingZeroBitCount
    m >>= UInt64(zeros)
    e += zeros
    return (m, e)
}

/// A minimal arbitrary-size unsigned integer: what exact comparison and remainders of big JSON integers need.
struct BigUnsigned {
    /// Base 2^32 digits, least significant first, no leading (high) zero limbs.
    private(set) var limbs: [UInt32]

    init(decimalDigits digits: Substring.UTF8View) {
        limbs = []
        limbs.reserveCapacity(digits.count / 9 + 1)
        var chunk: UInt32 = 0
        var chunkScale: UInt32 = 1
        for byte in digits {
            chunk = chunk * 10 + UInt32(byte &- 0x30)
            chunkScale *= 10
            if chunkScale == 1_000_000_000 {
                multiplyAdd(chunkScale, chunk)
                chunk = 0
                chunkScale = 1
            }
        }
        if chunkScale > 1 { multiplyAdd(chunkScale, chunk) }
    }

    /// The exact value of a non-negative whole double.
    init(wholeDouble value: Double) {
        limbs = []
        guard value >= 1 else { return }
        let (m, e) = oddSignificandAndExponent(value)
        limbs = [UInt32(truncatingIfNeeded: m), UInt32(truncatingIfNeeded: m >> 32)]
        normalize()
        shiftLeft(by: e)
    }

    var isZero: Bool { limbs.isEmpty }

    var trailingZeroBitCount: Int {
        for (i, limb) in limbs.enumerated() where limb != 0 { return i * 32 + limb.trailingZeroBitCount }
        return 0
    }

    /// self = self × factor + addend.
    private mutating func multiplyAdd(_ factor: UInt32, _ addend: UInt32) {
        var carry = UInt64(addend)
        for i in limbs.indices {
            let product = UInt64(limbs[i]) * UInt64(factor) + carry
            limbs[i] = UInt32(truncatingIfNeeded: product)
            carry = product >> 32
        }
        if carry != 0 { limbs.append(UInt32(carry)) }
    }

    private mutating func normalize() {
        while limbs.last == 0 { limbs.removeLast() }
    }

    private mutating func shiftLeft(by bits: Int) {
        guard bits > 0, !limbs.isEmpty else { return }
        let whole = bits / 32
        let part = UInt32(bits % 32)
        if part != 0 {
            var carry: UInt32 = 0
            for i in limbs.indices {
                let limb = limbs[i]
                limbs[i] = (limb << part) | carry
                carry = limb >> (32 - part)
            }
            if carry != 0 { limbs.append(carry) }
        }
        if whole > 0 { limbs.insert(contentsOf: repeatElement(0, count: whole), at: 0) }
    }

    func compare(to other: BigUnsigned) -> Int {
        if limbs.count != other.limbs.count { return limbs.count < other.limbs.count ? -1 : 1 }
        for i in limbs.indices.reversed() where limbs[i] != other.limbs[i] {
            return limbs[i] < other.limbs[i] ? -1 : 1
        }
        return 0
    }

    /// self mod divisor, for a divisor that fits 64 bits (non-zero).
    func remainder(dividingBy divisor: UInt64) -> UInt64 {
        var remainder: UInt64 = 0
        for limb in limbs.reversed() {
            // remainder < divisor, so the two-word dividend's high word is below the divisor: no overflow.
            let high = remainder >> 32
            let low = (remainder << 32) | UInt64(limb)
            remainder = divisor.dividingFullWidth((high: high, low: low)).remainder
        }
        return remainder
    }

    /// self mod divisor by binary long division (divisor non-zero). Quadratic, but only for integers that do not fit
    /// 64 bits, which schemas and metadata seldom hold.
    func remainder(dividingBy divisor: BigUnsigned) -> BigUnsigned {
        if divisor.limbs.count <= 2 {
            let small = UInt64(divisor.limbs[0]) | (divisor.limbs.count > 1 ? UInt64(divisor.limbs[1]) << 32 : 0)
            let r = remainder(dividingBy: small)
            var result = BigUnsigned(limbs: [UInt32(truncatingIfNeeded: r), UInt32(truncatingIfNeeded: r >> 32)])
            result.normalize()
            return result
        }
        if compare(to: divisor) < 0 { return self }
        var remainder = BigUnsigned(limbs: [])
        for i in limbs.indices.reversed() {
            for bit in stride(from: 31, through: 0, by: -1) {
                remainder.shiftLeft(by: 1)
                if (limbs[i] >> UInt32(bit)) & 1 == 1 {
                    if remainder.limbs.isEmpty { remainder.limbs = [1] } else { remainder.limbs[0] |= 1 }
                }
                if remainder.compare(to: divisor) >= 0 { remainder.subtract(divisor) }
            }
        }
        return remainder
    }

    private init(limbs: [UInt32]) { self.limbs = limbs }

    /// self -= other, for other ≤ self.
    private mutating func subtract(_ other: BigUnsigned) {
        var borrow: Int64 = 0
        for i in limbs.indices {
            var difference = Int64(limbs[i]) - borrow - (i < other.limbs.count ? Int64(other.limbs[i]) : 0)
            if difference < 0 {
                difference += 1 << 32
                borrow = 1
            } else {
                borrow = 0
            }
            limbs[i] = UInt32(difference)
        }
        normalize()
    }
}
