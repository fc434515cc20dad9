// The mounts this process sees, from /proc/self/mountinfo: which file system a mount point or a device holds.

/// One line of /proc/self/mountinfo.
public struct Mount: Sendable, Equatable {
    /// `major:minor` of the mounted device (st_dev of its files).
    public var device: String
    /// Where it is mounted, unescaped.
    public var mountPoint: String
    /// The file system type (`ext4`, `fuse.quilt`, ...).
    public var type: String

    /// The mounts in the table's order (a later mount on a point hides an earlier one); nil where there is no
    /// /proc (not Linux).
    public static func table() -> [Mount]? {
        guard let table = FileSystem.readToEnd("/proc/self/mountinfo") else { return nil }
        var mounts: [Mount] = []
        for line in String(decoding: table, as: UTF8.self).split(separator: "\n") {
            // id parent major:minor root mountpoint options [optional fields] - type source super-options
            let fields = line.split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count > 4, let dash = fields.firstIndex(of: "-"), dash + 1 < fields.count else { continue }
            mounts.append(Mount(device: String(fields[2]), mountPoint: unescape(fields[4]), type: String(fields[dash + 1])))
        }
        return mounts
    }

    /// `major:minor` of a device number, as the table writes it (glibc's `gnu_dev_major` and `gnu_dev_minor`).
    public static func deviceName(_ device: UInt64) -> String {
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff), minor = (device & 0xff) | ((device >> 12) & ~0xff)
        return "\(major):\(minor)"
    }

    /// mountinfo writes space, tab, newline and backslash in paths as octal escapes.
    private static func unescape(_ field: Substring) -> String {
        var out: [UInt8] = []
        let bytes = Array(field.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
               let value = UInt8(String(decoding: bytes[i + 1...i + 3], as: UTF8.self), radix: 8) {
                out.append(value)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
