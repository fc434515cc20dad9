// What the file types share below their APIs: the system's text for an errno, writing a whole buffer to a
// descriptor, and reading at an offset.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's message for `code` (strerror), as error reasons carry it.
func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// Writes all of `bytes` to `descriptor`, going on after short writes and EINTR; false on an error, with errno set.
func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    var done = 0
    while done < bytes.count {
        let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
            if errno == EINTR { continue }
            return false
        }
        done += n
    }
    return true
}

/// Reads up to `buffer.count` bytes of `descriptor` at `offset` (`pread`), going on after EINTR; returns how many
/// (0 at the end), or -1 on an error, with errno set.
func readAt(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int) -> Int {
    while true {
        let n = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
        if n >= 0 || errno != EINTR { return n }
    }
}
