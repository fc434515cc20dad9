// Recognising data that is already compressed from its first bytes, so it is stored rather than deflated again
// (deflate gains nothing on it and would cost most of the time).

public enum CompressedData {
    /// The longest prefix any signature needs.
    public static let prefixLength = 16

    /// True when `prefix` (the first bytes of a file) starts like a compressed format: gzip, zip (and docx, xlsx,
    /// jar, npz), zstd, bzip2, xz, 7z, lz4, Snappy framing, PNG, JPEG, GIF, WebP, Parquet, ORC, MP4/MOV/HEIC,
    /// Matroska/WebM, Ogg, FLAC, MP3 with ID3.
    public static func isCompressed(_ prefix: UnsafeRawBufferPointer) -> Bool {
        func starts(_ signature: [UInt8], at offset: Int = 0) -> Bool {
            prefix.count >= offset + signature.count && zip(prefix[offset...], signature).allSatisfy { $0 == $1 }
        }
        func ascii(_ text: String, at offset: Int = 0) -> Bool { starts(Array(text.utf8), at: offset) }
        return starts([0x1F, 0x8B])                                  // gzip
            || starts([0x50, 0x4B, 0x03, 0x04]) || starts([0x50, 0x4B, 0x05, 0x06]) || starts([0x50, 0x4B, 0x07, 0x08]) // zip
            || starts([0x28, 0xB5, 0x2F, 0xFD])                      // zstd
            || ascii("BZh")                                          // bzip2
            || starts([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00])          // xz
            || starts([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C])          // 7z
            || starts([0x04, 0x22, 0x4D, 0x18])                      // lz4 frame
            || starts([0xFF, 0x06, 0x00, 0x00]) && ascii("sNaPpY", at: 4) // Snappy framing
            || starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) // PNG
            || starts([0xFF, 0xD8, 0xFF])                            // JPEG
            || ascii("GIF87a") || ascii("GIF89a")                    // GIF
            || ascii("RIFF") && ascii("WEBP", at: 8)                 // WebP
            || ascii("PAR1")                                         // Parquet
            || ascii("ORC")                                          // ORC
            || ascii("ftyp", at: 4)                                  // MP4, MOV, HEIC
            || starts([0x1A, 0x45, 0xDF, 0xA3])                      // Matroska, WebM
            || ascii("OggS") || ascii("fLaC") || ascii("ID3")        // Ogg, FLAC, MP3
    }
}
