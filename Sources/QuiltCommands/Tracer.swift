// QUILT_TRACE: requests and decisions traced to standard error or a file, as GIT_TRACE does for git.
import Foundation
import QuiltSupport

/// Where `QUILT_TRACE` sends trace lines: `1`, `2` or `true` for standard error, an absolute path for that file
/// (appended to, so several processes of one pipeline share it); unset, empty, `0` or `false` for nowhere.
final class Tracer: Sendable {
    /// The trace file; nil for standard error.
    private let file: AppendOnlyFile?

    private init(file: AppendOnlyFile?) { self.file = file }

    /// The tracer of this process, from its environment; nil when not tracing.
    static let process: Tracer? = Tracer.from(ProcessInfo.processInfo.environment["QUILT_TRACE"])

    /// A bad setting is a warning, never a failure: tracing must not change what a command does.
    static func from(_ setting: String?) -> Tracer? {
        guard let setting, !setting.isEmpty else { return nil }
        switch setting.lowercased() {
        case "0", "false", "no", "off": return nil
        case "1", "2", "true", "yes", "on": return Tracer(file: nil)
        default: break
        }
        guard setting.hasPrefix("/") else {
            warn("unknown QUILT_TRACE value \(quoted(setting)); use 1 for standard error or an absolute file path")
            return nil
        }
        do {
            // Mode 0666 less the umask, as a shell's `>>` would create it; the directory must exist already.
            return Tracer(file: try AppendOnlyFile(path: setting, permissions: 0o666, createDirectories: false))
        } catch {
            warn("cannot open \(quoted(setting)) for QUILT_TRACE: \(error.reason)")
            return nil
        }
    }

    /// Writes `HH:MM:SS.micro trace: <text>` as one write, so lines of concurrent threads and processes do not
    /// interleave.
    func line(_ text: String) {
        var now = timeval()
        gettimeofday(&now, nil)
        var parts = tm()
        var seconds = now.tv_sec
        localtime_r(&seconds, &parts)
        let stamp = String(format: "%02d:%02d:%02d.%06d", parts.tm_hour, parts.tm_min, parts.tm_sec, Int32(now.tv_usec))
        let bytes = Array("\(stamp) trace: \(text)\n".utf8)
        if let file {
            try? file.append(bytes)
        } else {
            bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    /// A closure for the core (`QuiltContext.trace`).
    var handler: @Sendable (String) -> Void { { [self] in self.line($0) } }

    private static func warn(_ text: String) {
        FileHandle.standardError.write(Data("warning: \(text)\n".utf8))
    }
}

/// An argument list as a shell would need it typed, for trace lines.
func shellQuoted(_ arguments: [String]) -> String {
    arguments.map { argument in
        let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_./=:@%+,".unicodeScalars.contains($0)
        }
        return plain ? argument : "'" + argument.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }.joined(separator: " ")
}
