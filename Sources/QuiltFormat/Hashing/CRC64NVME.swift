// CRC-64/NVME (S3's CRC64NVME checksum): reflected polynomial 0x9A6C9329AC4BC9B5, all-ones init and final xor,
// computed slice-by-8 so it is not the bottleneck of a verify.
import QuiltSupport

/// A running CRC-64/NVME.
public struct CRC64NVME: Sendable {
    private static let tables: [[UInt64]] = {
        let polynomial: UInt64 = 0x9A6C_9329_AC4B_C9B5
        var tables = [[UInt64]](repeating: [UInt64](repeating: 0, count: 256), count: 8)
        for i in 0..<256 {
            var crc = UInt64(i)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[0][i] = crc
        }
        for i in 0..<256 {
            for t in 1..<8 { tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][Int(tables[t - 1][i] & 0xFF)] }
        }
        return tables
    }()

    private var state: UInt64 = ~0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var crc = state
        var i = 0
        let count = bytes.count
        Self.tables.withUnsafeBufferPointer { t in
            let t0 = t[0], t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4], t5 = t[5], t6 = t[6], t7 = t[7]
            while i + 8 <= count {
                let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian ^ crc
                crc = t7[Int(word & 0xFF)] ^ t6[Int(word >> 8 & 0xFF)] ^ t5[Int(word >> 16 & 0xFF)]
                    ^ t4[Int(word >> 24 & 0xFF)] ^ t3[Int(word >> 32 & 0xFF)] ^ t2[Int(word >> 40 & 0xFF)]
                    ^ t1[Int(word >> 48 & 0xFF)] ^ t0[Int(word >> 56)]
                i += 8
            }
            while i < count {
                crc = t0[Int((crc ^ UInt64(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }

    /// The checksum so far.
    public var value: UInt64 { ~state }

    /// Base64 of the 8 big-endian bytes, the form S3 and quilt3 use.
    public var base64: String {
        let v = value
        return Base64.encode((0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) })
    }
}
