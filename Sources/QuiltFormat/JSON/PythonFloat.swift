// Python's float repr: the shortest digits that round-trip, laid out by Python's rules (exponent form when the
// decimal exponent is below -4 or at least 16, `.0` on whole numbers, `e+XX`/`e-XX` with two or more digits).

/// Appends `value` formatted exactly as Python's `repr(float)`. `value` must be finite.
func appendPythonFloat(_ value: Double, to out: inout [UInt8]) {
    if value == 0 {
        out.append(contentsOf: (value.sign == .minus ? "-0.0" : "0.0").utf8)
        return
    }
    // Swift's description is also the shortest round-tripping digit string (and the closest when several are);
    // only its layout differs from Python's. Take the digits and the exponent from it and lay them out again.
    let text = value.magnitude.description.utf8
    var digits: [UInt8] = []
    digits.reserveCapacity(20)
    var pointPosition: Int? = nil
    var exponent = 0
    var index = text.startIndex
    while index != text.endIndex {
        let b = text[index]
        if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            var sign = 1
            var e = 0
            text.formIndex(after: &index)
            while index != text.endIndex {
                let c = text[index]
                if c == UInt8(ascii: "-") { sign = -1 } else if c >= 0x30 && c <= 0x39 { e = e * 10 + Int(c - 0x30) }
                text.formIndex(after: &index)
            }
            exponent = sign * e
            break
        }
        if b == UInt8(ascii: ".") {
            pointPosition = digits.count
        } else {
            digits.append(b)
        }
        text.formIndex(after: &index)
    }
    // value = 0.d1d2d3… × 10^decimalPoint
    var decimalPoint = (pointPosition ?? digits.count) + exponent
    var leading = 0
    while leading < digits.count - 1 && digits[leading] == UInt8(ascii: "0") { leading += 1 }
    digits.removeFirst(leading)
    decimalPoint -= leading
    while digits.count > 1 && digits.last == UInt8(ascii: "0") { digits.removeLast() }

    if value.sign == .minus { out.append(UInt8(ascii: "-")) }
    if decimalPoint > -4 && decimalPoint <= 16 {
        if decimalPoint <= 0 {
            out.append(UInt8(ascii: "0")); out.append(UInt8(ascii: "."))
            for _ in 0 ..< -decimalPoint { out.append(UInt8(ascii: "0")) }
            out.append(contentsOf: digits)
        } else if decimalPoint < digits.count {
            out.append(contentsOf: digits[0..<decimalPoint])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[decimalPoint...])
        } else {
            out.append(contentsOf: digits)
            for _ in 0 ..< (decimalPoint - digits.count) { out.append(UInt8(ascii: "0")) }
            out.append(UInt8(ascii: ".")); out.append(UInt8(ascii: "0"))
        }
    } else {
        out.append(digits[0])
        if digits.count > 1 {
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[1...])
        }
        let e = decimalPoint - 1
        out.append(UInt8(ascii: "e"))
        out.append(UInt8(ascii: e < 0 ? "-" : "+"))
        let magnitude = e < 0 ? -e : e
        if magnitude < 10 { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: String(magnitude).utf8)
    }
}

/// `repr(float)` as a String.
public func pythonFloatRepr(_ value: Double) -> String {
    var out: [UInt8] = []
    appendPythonFloat(value, to: &out)
    return String(decoding: out, as: UTF8.self)
}
