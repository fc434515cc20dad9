// Reading a secret (a sign-in code) from the terminal without echoing it, and opening a page in the desktop's
// browser.
import Foundation
import QuiltSupport

/// The terminal settings to put back if the user interrupts while echo is off.
nonisolated(unsafe) private var savedTerminal = termios()
nonisolated(unsafe) private var echoIsOff = false

enum Terminal {
    /// Prompts on standard error and reads one line from standard input (a terminal) with echo off; nil at end of
    /// input. Ctrl-C puts the echo back before the program ends.
    static func readSecretLine(prompt: String) -> String? {
        var original = termios()
        guard tcgetattr(0, &original) == 0 else { return readLine() }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        savedTerminal = original
        echoIsOff = true
        signal(SIGINT) { signalNumber in
            if echoIsOff { tcsetattr(0, TCSANOW, &savedTerminal) }
            signal(signalNumber, SIG_DFL)
            raise(signalNumber)
        }
        tcsetattr(0, TCSAFLUSH, &silent)
        FileHandle.standardError.write(Data(prompt.utf8))
        let line = readLine(strippingNewline: true)
        tcsetattr(0, TCSAFLUSH, &original)
        echoIsOff = false
        signal(SIGINT, SIG_DFL)
        // The Enter the user typed was not echoed either.
        FileHandle.standardError.write(Data("\n".utf8))
        return line
    }

    /// Opens `url` with `xdg-open` when there is a graphical session (`DISPLAY` or `WAYLAND_DISPLAY`) and the
    /// program exists; returns whether it was started. Nothing waits for the browser.
    static func openBrowser(_ url: String, environment: [String: String]) -> Bool {
        guard nonEmpty(environment["DISPLAY"]) != nil || nonEmpty(environment["WAYLAND_DISPLAY"]) != nil else { return false }
        guard let opener = FileSystem.executables(named: "xdg-open", searchPath: environment["PATH"] ?? "").first else {
            return false
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: opener)
        process.arguments = [url]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return (try? process.run()) != nil
    }
}
