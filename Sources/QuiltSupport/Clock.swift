// The wall clock, read in one place (timestamps of pointers, lock ages, request timing).
#if canImport(Glibc)
import Glibc
#endif

public enum WallClock {
    /// Seconds since the epoch, with nanoseconds.
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
