// Progress on a terminal: one line on stderr, redrawn in place.
import Foundation
import QuiltSupport
import QuiltRegistry

/// A progress line on stderr, redrawn at most ten times a second.
final class ProgressLine: Sendable {
    private let label: String
    private let start = Date()
    /// When the line was last drawn (seconds since `start`), and whether it ever was.
    private let state = Locked<(lastDraw: Double, drew: Bool)>((0, false))

    init(label: String) { self.label = label }

    func update(_ progress: QuiltRegistry.Progress) {
        state.withLock { state in
            let now = Date().timeIntervalSince(start)
            guard now - state.lastDraw >= 0.1 || progress.filesDone == progress.filesTotal else { return }
            state = (now, true)
            var text = "\r\(label): \(progress.filesDone)/\(progress.filesTotal) files, \(formatBytes(progress.bytesDone))"
            if progress.bytesTotal > 0 {
                text += " of \(formatBytes(progress.bytesTotal))"
                let rate = Double(progress.bytesDone) / max(now, 0.001)
                text += ", \(formatBytes(Int(rate)))/s"
                if rate > 0 && progress.bytesDone < progress.bytesTotal {
                    text += ", ETA \(Int(Double(progress.bytesTotal - progress.bytesDone) / rate))s"
                }
            }
            text += "\u{1B}[K"
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Ends the line (once), if anything was drawn.
    func finish() {
        state.withLock { state in
            if state.drew { _ = Foundation.write(2, "\n", 1) }
            state.drew = false
        }
    }

    var handler: ProgressHandler { { [self] in self.update($0) } }
}

/// Progress lines for an operation of several phases: each phase draws its own line, and a new phase ends the
/// line of the one before. Nothing is drawn when progress is not allowed (not a terminal, `--json`).
final class ProgressPhaseLines: Sendable {
    private let current = Locked<ProgressLine?>(nil)

    /// The phases handler for the core, or nil when progress is not shown.
    static func phases(_ io: IO, json: Bool) -> ProgressPhaseLines? {
        io.progressAllowed(json: json) ? ProgressPhaseLines() : nil
    }

    var handler: ProgressPhases {
        { [self] phase in
            let line = ProgressLine(label: phase)
            current.withLock { current in
                current?.finish()
                current = line
            }
            return line.handler
        }
    }

    func finish() {
        current.withLock { current in
            current?.finish()
            current = nil
        }
    }
}

func formatBytes(_ count: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(count)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(count) B" : "\((value * 10).rounded() / 10) \(units[unit])"
}
