// How many cores the machine has online, for the work that sizes its threads by them.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Cores {
    /// The cores online (the machine's, not a setting): hashing while reading, and the walks of a status.
    public static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
