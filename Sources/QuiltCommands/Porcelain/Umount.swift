// quilt umount: unmounts what quilt mount mounted (fusermount3 -u, or umount(2) as root); the server then ends.
import ArgumentParser
import Foundation
import QuiltSupport
import QuiltMount

struct Umount: QuiltCommand {
    static let configuration = CommandConfiguration(
        commandName: "umount",
        abstract: "Unmount a directory that quilt mount mounted; its server process ends.",
        discussion: """
        Unmounts DIR (as fusermount3 -u does), then waits until the file system has left it. A mount that \
        something still uses (an open file, a shell's current directory) is not unmounted (exit 1) unless \
        --lazy, which detaches it now and lets the server end when the last user lets go. Linux only.
        """)

    @Flag(name: .long, help: "Detach the mount even while it is in use; it goes once nothing uses it.")
    var lazy = false

    @Argument(help: ArgumentHelp("The directory a revision is mounted on.", valueName: "dir"), completion: .directory)
    var directory: String

    func execute(_ io: IO) throws {
        #if !os(Linux)
        throw MountError.unsupportedPlatform
        #else
        try Unmounter.unmount(directory, lazy: lazy)
        #endif
    }
}
