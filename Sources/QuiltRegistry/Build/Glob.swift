// Python's `fnmatch` (as quilt3 applies `.quiltignore` rules): `*` matches anything including `/`, `?` one
// character, `[...]`/`[!...]` a class; case-sensitive on POSIX.

public struct GlobPattern: Sendable {
    enum Token: Sendable {
        case literal(Unicode.Scalar)
        case any
        case anySequence
        case characterClass(negated: Bool, ranges: [ClosedRange<UInt32>])
    }

    let tokens: [Token]

    public init(_ pattern: String) {
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            switch c {
            case "*":
                if case .anySequence? = tokens.last { continue }
                tokens.append(.anySequence)
            case "?":
                tokens.append(.any)
            case "[":
                // Python's translate: `]` right after `[` or `[!` is a literal member; no closing `]` makes `[`
                // a literal.
                var j = i
                if j < scalars.count && scalars[j] == "!" { j += 1 }
                if j < scalars.count && scalars[j] == "]" { j += 1 }
                while j < scalars.count && scalars[j] != "]" { j += 1 }
                if j >= scalars.count {
                    tokens.append(.literal("["))
                    continue
                }
                var members = Array(scalars[i..<j])
                i = j + 1
                var negated = false
                if members.first == "!" {
                    negated = true
                    members.removeFirst()
                }
                var ranges: [ClosedRange<UInt32>] = []
                var k = 0
                while k < members.count {
                    if k + 2 < members.count && members[k + 1] == "-" {
                        let low = members[k].value, high = members[k + 2].value
                        if low <= high { ranges.append(low...high) }
                        k += 3
                    } else {
                        ranges.append(members[k].value...members[k].value)
                        k += 1
                    }
                }
                tokens.append(.characterClass(negated: negated, ranges: ranges))
            default:
                tokens.append(.literal(c))
            }
        }
        self.tokens = tokens
    }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        // Iterative matching with backtracking to the last `*`: linear in practice, no recursion.
        var t = 0, s = 0
        var starToken = -1, starText = 0
        while s < scalars.count {
            if t < tokens.count {
                switch tokens[t] {
                case .anySequence:
                    starToken = t
                    starText = s
                    t += 1
                    continue
                case .any:
                    t += 1; s += 1
                    continue
                case .literal(let c) where c == scalars[s]:
                    t += 1; s += 1
                    continue
                case .characterClass(let negated, let ranges)
                    where ranges.contains(where: { $0.contains(scalars[s].value) }) != negated:
                    t += 1; s += 1
                    continue
                default: break
                }
            }
            guard starToken >= 0 else { return false }
            t = starToken + 1
            starText += 1
            s = starText
        }
        while t < tokens.count, case .anySequence = tokens[t] { t += 1 }
        return t == tokens.count
    }
}

/// The rules of a `.quiltignore` file, applied as quilt3 applies them: each non-empty line becomes the pattern
/// `*/<line>`, matched against absolute paths; a rule that matches a directory (with or without a trailing `/`)
/// excludes everything below it.
public struct QuiltIgnore: Sendable {
    let patterns: [GlobPattern]

    public init(text: String) {
        patterns = text.split(separator: "\n", omittingEmptySubsequences: true).map { GlobPattern("*/" + $0) }
    }

    public var isEmpty: Bool { patterns.isEmpty }

    public func ignoresFile(_ absolutePath: String) -> Bool {
        patterns.contains { $0.matches(absolutePath) }
    }

    public func ignoresDirectory(_ absolutePath: String) -> Bool {
        patterns.contains { $0.matches(absolutePath + "/") || $0.matches(absolutePath) }
    }
}
