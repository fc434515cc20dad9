// Byte-range equality by memcmp: `Sequence.elementsEqual` on raw buffers is a generic element-by-element loop
// where it is not specialised (callgrind: a third of `quilt diff`'s instructions went to it).
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// Whether both hold the same bytes.
    @inlinable
    public func hasSameBytes(as other: UnsafeRawBufferPointer) -> Bool {
        count == other.count && (count == 0 || memcmp(baseAddress!, other.baseAddress!, count) == 0)
    }
}
