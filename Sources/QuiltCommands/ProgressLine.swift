// Progress on a terminal: one line on stderr, redrawn in place.
import Foundation
import QuiltSupport
import QuiltFormat
import QuiltRegistry

/// A progress line on stderr, redrawn at most ten times a second.
final class ProgressLine: @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = 0.0
    private let label: String
    private let start = Date()
    private var drew = false

    init(label: String) { self.label = label }

    func update(_ progress: QuiltRegistry.Progress) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date().timeIntervalSince(start)
        guard now - lastDraw >= 0.1 || progress.filesDone == progress.filesTotal else { return }
        lastDraw = now
        drew = true
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

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if drew { _ = Foundation.write(2, "\n", 1) }
    }

    var handler: ProgressHandler { { [self] in self.update($0) } }
}

/// Progress lines for an operation of several phases: each phase draws its own line, and a new phase ends the
/// line of the one before. Nothing is drawn when progress is not allowed (not a terminal, `--json`).
final class ProgressPhaseLines: @unchecked Sendable {
    // Unchecked: `current` is only touched under `lock`.
    private let lock = NSLock()
    private var current: ProgressLine?

    /// The phases handler for the core, or nil when progress is not shown.
    static func phases(_ io: IO, json: Bool) -> ProgressPhaseLines? {
        io.progressAllowed(json: json) ? ProgressPhaseLines() : nil
    }

    var handler: ProgressPhases {
        { [self] phase in
            let line = ProgressLine(label: phase)
            lock.lock()
            current?.finish()
            current = line
            lock.unlock()
            return line.handler
        }
    }

    func finish() {
        lock.lock()
        current?.finish()
        current = nil
        lock.unlock()
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
