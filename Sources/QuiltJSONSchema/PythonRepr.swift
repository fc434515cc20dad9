// Python's `repr` of parsed JSON values, for validation messages worded as Python's jsonschema words them:
// `'abc'`, `{'a': 1, 'b': [True, None, 1.5]}`.
import QuiltSupport
import QuiltFormat

/// `repr(value)` for the Python object `json.loads` would have made of `value`.
public func pythonRepr(_ value: JSONValue) -> String {
    var out = ""
    appendPythonRepr(value, to: &out)
    return out
}

func appendPythonRepr(_ value: JSONValue, to out: inout String) {
    switch value {
    case .null: out += "None"
    case .bool(let b): out += b ? "True" : "False"
    case .integer(let digits): out += digits
    case .float(let d): out += pythonFloatRepr(d)
    case .string(let s): appendPythonStringRepr(s, to: &out)
    case .array(let items):
        out += "["
        for (i, item) in items.enumerated() {
            if i > 0 { out += ", " }
            appendPythonRepr(item, to: &out)
        }
        out += "]"
    case .object(let object):
        out += "{"
        var first = true
        for (key, item) in object {
            if !first { out += ", " }
            first = false
            appendPythonStringRepr(key, to: &out)
            out += ": "
            appendPythonRepr(item, to: &out)
        }
        out += "}"
    }
}

/// `repr(str)`: single quotes unless the text holds a `'` and no `"`; backslash, the quote, `\t` `\n` `\r`
/// escaped; other non-printable code points as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`; printable ones as they are.
public func pythonStringRepr(_ string: String) -> String {
    var out = ""
    appendPythonStringRepr(string, to: &out)
    return out
}

func appendPythonStringRepr(_ string: String, to out: inout String) {
    var hasSingle = false
    var hasDouble = false
    for b in string.utf8 {
        if b == UInt8(ascii: "'") { hasSingle = true } else if b == UInt8(ascii: "\"") { hasDouble = true }
    }
    let quote: Unicode.Scalar = hasSingle && !hasDouble ? "\"" : "'"
    out.unicodeScalars.append(quote)
    for scalar in string.unicodeScalars {
        switch scalar {
        case quote, "\\":
            out += "\\"
            out.unicodeScalars.append(scalar)
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default:
            let v = scalar.value
            if v < 0x20 || v == 0x7F {
                appendHexEscape(v, prefix: "\\x", width: 2, to: &out)
            } else if v < 0x7F || isPythonPrintable(scalar) {
                out.unicodeScalars.append(scalar)
            } else if v <= 0xFF {
                appendHexEscape(v, prefix: "\\x", width: 2, to: &out)
            } else if v <= 0xFFFF {
                appendHexEscape(v, prefix: "\\u", width: 4, to: &out)
            } else {
                appendHexEscape(v, prefix: "\\U", width: 8, to: &out)
            }
        }
    }
    out.unicodeScalars.append(quote)
}

private func appendHexEscape(_ value: UInt32, prefix: String, width: Int, to out: inout String) {
    let hex = String(value, radix: 16)
    out += prefix
    if hex.count < width { out += String(repeating: "0", count: width - hex.count) }
    out += hex
}

/// Python's `str.isprintable` for one non-ASCII code point: everything but the "Other" and "Separator"
/// categories. Swift's Unicode tables may be a version apart from Python's; only unassigned code points can differ.
private func isPythonPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}
