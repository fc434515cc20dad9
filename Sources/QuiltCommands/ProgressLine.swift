// Progress on a terminal: one line on stderr, redrawn in place; or, on a terminal that cannot redraw, plain lines.
import Foundation
import QuiltSupport
import QuiltRegistry

/// A progress line on stderr: redrawn in place at most ten times a second, or in the plain style one line at a
/// time, at most one a second, and the last one when everything is done.
final class ProgressLine: Sendable {
    enum Style: Sendable {
        /// `\r`, the text, ANSI erase-to-end-of-line.
        case redraw
        /// One whole line per update, nothing a dumb terminal would show as garbage.
        case plain
    }

    private let label: String
    private let style: Style
    private let start = Date()
    /// When the line was last drawn (seconds since `start`), whether it ever was, and whether the final state was.
    private let state = Locked<(lastDraw: Double, drew: Bool, drewDone: Bool)>((0, false, false))

    init(label: String, style: Style = .redraw) {
        self.label = label
        self.style = style
    }

    func update(_ progress: QuiltRegistry.Progress) {
        state.withLock { state in
            let now = Date().timeIntervalSince(start)
            let done = progress.filesDone == progress.filesTotal
            let interval = style == .plain ? 1.0 : 0.1
            guard now - state.lastDraw >= interval || (done && !(style == .plain && state.drewDone)) else { return }
            state = (now, true, state.drewDone || done)
            var text = (style == .redraw ? "\r" : "")
            text += "\(label): \(progress.filesDone)/\(progress.filesTotal) files, \(formatBytes(progress.bytesDone))"
            if progress.bytesTotal > 0 {
                text += " of \(formatBytes(progress.bytesTotal))"
                let rate = Double(progress.bytesDone) / max(now, 0.001)
                text += ", \(formatBytes(Int(min(rate, 1e18))))/s"
                if rate > 0 && progress.bytesDone < progress.bytesTotal {
                    text += ", ETA \(Int(min(Double(progress.bytesTotal - progress.bytesDone) / rate, 1e12)))s"
                }
            }
            text += style == .redraw ? "\u{1B}[K" : "\n"
            let bytes = Array(text.utf8)
            bytes.withUnsafeBytes { _ = Foundation.write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Ends the line (once), if anything was drawn in place.
    func finish() {
        state.withLock { state in
            if state.drew && style == .redraw { _ = Foundation.write(2, "\n", 1) }
            state.drew = false
        }
    }

    var handler: ProgressHandler { { [self] in self.update($0) } }
}

/// Progress lines for an operation of several phases: each phase draws its own line, and a new phase ends the
/// line of the one before. Nothing is drawn when progress is not allowed (not a terminal, `--json`).
final class ProgressPhaseLines: Sendable {
    private let current = Locked<ProgressLine?>(nil)
    private let style: ProgressLine.Style

    private init(style: ProgressLine.Style) { self.style = style }

    /// The phases handler for the core, or nil when progress is not shown.
    static func phases(_ io: IO, json: Bool) -> ProgressPhaseLines? {
        io.progressAllowed(json: json) ? ProgressPhaseLines(style: io.progressStyle) : nil
    }

    var handler: ProgressPhases {
        { [self] phase in
            let line = ProgressLine(label: phase, style: style)
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
