// Python `re.search` for `pattern` and `patternProperties`, on Foundation's NSRegularExpression (ICU).
//
// jsonschema calls `re.search(pattern, instance)`: a match anywhere in the string, no flags. NSRegularExpression's
// firstMatch over the whole string is the same search. The two dialects differ; what matters for schemas is
// rewritten before ICU compiles the pattern:
//
// - line ends: Python's `.` excludes only "\n" and `$` matches at the end or before a final "\n"; ICU also treats
//   "\r", U+0085, U+2028 and U+2029 as line ends unless UREGEX_UNIX_LINES (`.useUnixLineSeparators`), which is set.
// - `\Z` is Python's end of string, ICU's `\z` (ICU's `\Z` also matches before a final line end).
// - `{`: Python reads a `{` that does not start a valid repeat (`a{`, `{foo}`, `{}`) as a literal, and `}` is always
//   literal outside a repeat; ICU rejects both, so they are escaped. Python's `{,n}` becomes `{0,n}`.
// - classes: `[` inside a class is a literal in Python but a nested set in ICU, and ICU gives `&&`, `--`, `{...}`,
//   `$` and a leading `:` set meanings Python does not have; these are escaped. A `]` first in a class is a literal
//   in both (it is escaped anyway), and `[\b]` is Python's backspace.
// - `(?P<name>...)` and `(?P=name)` become ICU's `(?<name>...)` and `\k<name>`.
// - `\w` `\W` `\s` `\S` are spelled out as Python defines them for str patterns (ICU's `\w` takes combining marks,
//   Python's does not; Python's `\s` has \v, \x1c-\x1f and \x85, ICU's does not).
//
// Left as they are, and so possibly different: the Unicode tables behind `\d`, `\b` (whose idea of a word is ICU's)
// and case folding (ICU's version, not Python's `unicodedata`); Python-only flags (`(?a)`, `(?L)`, `(?u)`), which ICU
// rejects; ICU-only syntax that Python rejects (`\p{L}`, `\z`, `\Q...\E`), which ICU accepts. `additionalProperties`
// tests the `patternProperties` patterns one by one where jsonschema joins them with "|" (the same unless a pattern
// has global flags or group references). Python counts positions in code points, ICU in UTF-16 units; only match
// positions differ, never whether a search matches.
import Foundation

/// A compiled Python-syntax regular expression that answers `re.search(pattern, text) is not None`.
package struct PythonRegex: Sendable {
    /// The pattern as written in the schema.
    package let pattern: String
    private let expression: NSRegularExpression

    /// Compiles `pattern`; the error's text is ICU's reason.
    package init(_ pattern: String) throws(PythonRegexError) {
        self.pattern = pattern
        do {
            expression = try NSRegularExpression(pattern: PythonRegex.icuPattern(pattern), options: [.useUnixLineSeparators])
        } catch {
            throw PythonRegexError(pattern: pattern)
        }
    }

    /// Whether the pattern matches anywhere in `text`.
    package func search(_ text: String) -> Bool {
        let range = NSRange(location: 0, length: text.utf16.count)
        return expression.rangeOfFirstMatch(in: text, options: [], range: range).location != NSNotFound
    }

    /// Rewrites Python `re` syntax into ICU syntax with the same meaning (see the notes at the top of the file).
    static func icuPattern(_ pattern: String) -> String {
        let scalars = Array(pattern.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        var inClass = false
        var classStart = 0  // index of the first member of the current class
        func emit(_ text: String) { out.append(contentsOf: text.unicodeScalars) }

        while i < scalars.count {
            let c = scalars[i]
            if inClass {
                switch c {
                case "\\":
                    if i + 1 < scalars.count, scalars[i + 1] == "b" {
                        emit("\\x08")
                        i += 2
                    } else if i + 1 < scalars.count, let members = classMembers(scalars[i + 1]) {
                        emit(members.inside)
                        i += 2
                    } else {
                        i = copyEscape(scalars, at: i, to: &out)
                    }
                    continue
                case "]" where i == classStart:
                    emit("\\]")
                case "]":
                    out.append(c)
                    inClass = false
                case "[", "&", "{", "}", "$":
                    out.append("\\"); out.append(c)
                case ":" where i == classStart:
                    emit("\\:")
                case "^" where i != classStart:
                    emit("\\^")
                case "-" where i > classStart && scalars[i - 1] == "-":
                    emit("\\-")
                default:
                    out.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "\\":
                if i + 1 < scalars.count, scalars[i + 1] == "Z" {
                    emit("\\z")
                    i += 2
                } else if i + 1 < scalars.count, let members = classMembers(scalars[i + 1]) {
                    emit(members.outside)
                    i += 2
                } else {
                    i = copyEscape(scalars, at: i, to: &out)
                }
                continue
            case "[":
                out.append(c)
                inClass = true
                i += 1
                if i < scalars.count && scalars[i] == "^" {
                    out.append("^")
                    i += 1
                }
                classStart = i
                continue
            case "(":
                if matches(scalars, at: i, "(?P<") {
                    emit("(?<")
                    i += 4
                    continue
                }
                if matches(scalars, at: i, "(?P="), let close = scalars[(i + 4)...].firstIndex(of: ")") {
                    emit("\\k<")
                    out.append(contentsOf: scalars[(i + 4)..<close])
                    emit(">")
                    i = close + 1
                    continue
                }
                out.append(c)
            case "{":
                if let (repeatText, end) = pythonRepeat(scalars, at: i) {
                    emit(repeatText)
                    i = end
                    continue
                }
                emit("\\{")
            case "}", "]":
                out.append("\\"); out.append(c)
            default:
                out.append(c)
            }
            i += 1
        }
        return String(out)
    }

    /// Python's `\w`, `\W`, `\s`, `\S` for str patterns, spelled out for ICU: as a class of their own (`outside`)
    /// and as members of an enclosing class (`inside`; the negated ones as a nested set, which ICU unites).
    ///
    /// `\w` is `str.isalnum()` or "_": letters and numbers, where ICU's `\w` also takes combining marks (so "e\u{301}"
    /// would be two word characters). `\s` is `str.isspace()`, which also counts \v, \x1c-\x1f and \x85.
    private static func classMembers(_ letter: Unicode.Scalar) -> (outside: String, inside: String)? {
        let word = #"\p{L}\p{N}_"#
        let space = #"\t\n\x{0B}\f\r\x{1C}-\x{1F}\x{85}\p{Z}"#
        switch letter {
        case "w": return ("[" + word + "]", word)
        case "W": return ("[^" + word + "]", "[^" + word + "]")
        case "s": return ("[" + space + "]", space)
        case "S": return ("[^" + space + "]", "[^" + space + "]")
        default: return nil
        }
    }

    /// Copies the escape at `index` (a backslash) as it is: the backslash and the next code point, or a whole
    /// `\N{NAME}`, which both dialects read alike. Returns the index after it.
    private static func copyEscape(
        _ scalars: [Unicode.Scalar], at index: Int, to out: inout String.UnicodeScalarView
    ) -> Int {
        out.append(scalars[index])
        guard index + 1 < scalars.count else { return index + 1 }
        out.append(scalars[index + 1])
        if scalars[index + 1] == "N", index + 2 < scalars.count, scalars[index + 2] == "{",
           let close = scalars[(index + 2)...].firstIndex(of: "}") {
            out.append(contentsOf: scalars[(index + 2)...close])
            return close + 1
        }
        return index + 2
    }

    private static func matches(_ scalars: [Unicode.Scalar], at index: Int, _ literal: String) -> Bool {
        var j = index
        for s in literal.unicodeScalars {
            guard j < scalars.count, scalars[j] == s else { return false }
            j += 1
        }
        return true
    }

    /// A repeat `{m}`, `{m,}`, `{,n}`, `{m,n}` or `{,}` at `index` as Python's parser reads one, in ICU spelling,
    /// and the index after it; nil when the `{` is a literal.
    private static func pythonRepeat(_ scalars: [Unicode.Scalar], at index: Int) -> (String, Int)? {
        var j = index + 1
        var low = ""
        var high = ""
        while j < scalars.count, ("0"..."9").contains(scalars[j]) {
            low.unicodeScalars.append(scalars[j]); j += 1
        }
        var comma = false
        if j < scalars.count, scalars[j] == "," {
            comma = true
            j += 1
            while j < scalars.count, ("0"..."9").contains(scalars[j]) {
                high.unicodeScalars.append(scalars[j]); j += 1
            }
        }
        guard j < scalars.count, scalars[j] == "}", !(low.isEmpty && !comma) else { return nil }
        let text = comma ? "{\(low.isEmpty ? "0" : low),\(high)}" : "{\(low)}"
        return (text, j + 1)
    }
}

/// A pattern that does not compile.
package struct PythonRegexError: Error {
    package let pattern: String
}
