// Python's `fnmatch` (as quilt3 applies `.quiltignore` rules): `*` matches anything including `/`, `?` one
// character, `[...]`/`[!...]` a class; case-sensitive on POSIX. And the same patterns over logical keys
// (`quilt install --path 'data/*.csv'`), as git's pathspecs and shells read them: `*`, `?` and classes stay within
// one path segment, `**` crosses segments, `**/` is zero or more directories.

public struct GlobPattern: Sendable {
    enum Token: Sendable {
        case literal(Unicode.Scalar)
        case any
        case anySequence
        case characterClass(negated: Bool, ranges: [ClosedRange<UInt32>])
        /// Path patterns only: `*` (no `/`), and `**/` (nothing, or whole directories).
        case anyInSegment
        case anyDirectories
    }

    /// How `*` treats `/`.
    public enum Syntax: Sendable {
        /// Python's fnmatch: `*` matches `/` too (`.quiltignore`).
        case fnmatch
        /// Over `/`-separated paths: `*`, `?` and classes never match `/`; `**` matches anything.
        case path
    }

    let tokens: [Token]
    let syntax: Syntax

    /// Whether `text` has a character that makes it a pattern rather than a plain name.
    public static func isPattern(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0 == "*" || $0 == "?" || $0 == "[" }
    }

    /// The directories a path pattern starts with, up to the first segment holding a wildcard (`data/raw/` of
    /// `data/raw/*.csv`, empty for `*.csv`): every key it matches starts with them.
    public static func literalDirectory(of pattern: String) -> String {
        var directory = ""
        var segment = ""
        for c in pattern.unicodeScalars {
            if c == "/" {
                if isPattern(segment) { break }
                directory += segment + "/"
                segment = ""
            } else {
                segment.unicodeScalars.append(c)
            }
        }
        return directory
    }

    public init(_ pattern: String, syntax: Syntax = .fnmatch) {
        self.syntax = syntax
        let scalars = Array(pattern.unicodeScalars)
        var tokens: [Token] = []
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            switch c {
            case "*" where syntax == .path:
                // As git's pathspecs: `**` is special only as a whole segment; other runs of stars are one `*`.
                let first = i - 1
                while i < scalars.count && scalars[i] == "*" { i += 1 }
                let wholeSegment = i - first >= 2 && (first == 0 || scalars[first - 1] == "/")
                    && (i == scalars.count || scalars[i] == "/")
                if !wholeSegment {
                    tokens.append(.anyInSegment)
                } else if i < scalars.count {
                    i += 1  // the `/`: `**/` is any number of whole directories, none included
                    tokens.append(.anyDirectories)
                } else {
                    tokens.append(.anySequence)  // a final `**`: everything below
                }
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
        if syntax == .path { return matchesPath(scalars) }
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

    /// Path syntax: with wildcards that stop at `/` the last-star backtracking above is not enough, so this is
    /// the plain table of which token suffixes match which text suffixes (keys are short: a few hundred cells).
    private func matchesPath(_ text: [Unicode.Scalar]) -> Bool {
        let slash: Unicode.Scalar = "/"
        let width = text.count + 1
        // matched[t * width + s]: tokens[t...] match text[s...].
        var matched = [Bool](repeating: false, count: (tokens.count + 1) * width)
        matched[tokens.count * width + text.count] = true
        for t in stride(from: tokens.count - 1, through: 0, by: -1) {
            for s in stride(from: text.count, through: 0, by: -1) {
                let here: Bool
                switch tokens[t] {
                case .anySequence:
                    here = matched[(t + 1) * width + s] || (s < text.count && matched[t * width + s + 1])
                case .anyInSegment:
                    here = matched[(t + 1) * width + s] || (s < text.count && text[s] != slash && matched[t * width + s + 1])
                case .anyDirectories:
                    // Nothing, or one more directory (up to the next `/`) and then again.
                    var found = matched[(t + 1) * width + s]
                    if !found, let slashAt = text[s...].firstIndex(of: slash) { found = matched[t * width + slashAt + 1] }
                    here = found
                case .any:
                    here = s < text.count && text[s] != slash && matched[(t + 1) * width + s + 1]
                case .literal(let c):
                    here = s < text.count && text[s] == c && matched[(t + 1) * width + s + 1]
                case .characterClass(let negated, let ranges):
                    here = s < text.count && text[s] != slash
                        && ranges.contains(where: { $0.contains(text[s].value) }) != negated
                        && matched[(t + 1) * width + s + 1]
                }
                matched[t * width + s] = here
            }
        }
        return matched[0]
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
