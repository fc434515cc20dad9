// What the file types share below their APIs: the system's text for an errno, and writing a whole buffer to a
// descriptor.
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
