// Option values parsed by the commands themselves: out of range is a usage error (64), never a trap.
import Testing
@testable import QuiltSupport
@testable import QuiltCommands

@Suite struct OptionValueTests {
    /// Numbers near every limit a conversion has, and text that is no number; each alone and each pair joined.
    static let texts = ["0", "1", "-1", "1e15", "1e14", "1e300", "-1e300", "inf", "-inf", "nan", "9223372036854775807",
                        "9223372036854775808", "-9223372036854775808", "99999999999999999999", "0.5", "1K", "8E",
                        "99999999999T", "9007199254740993", "1_000", "+5", " 7 ", "", "abc", "0x10", "1/0", "-1/4",
                        "106751991167300", "106751991167301", "4294967296", "2147483648"]

    @Test func cachePruneLimitsAreValuesOrUsageErrors() {
        var values = 0, refused = 0
        for a in Self.texts {
            for b in [""] + Self.texts {
                let text = a + b
                do {
                    let (age, size) = try Cache.pruneLimits(olderThanDays: text, maxSize: text)
                    #expect(age.map { $0 >= 0 } ?? false)
                    #expect(size.map { $0 >= 0 } ?? false)
                    values += 1
                } catch let error as any QuiltError {
                    #expect(error.kind == .usage, "\(error.message) is not a usage error")
                    refused += 1
                } catch {
                    Issue.record("untyped error \(error)")
                }
            }
        }
        #expect(values > 0 && refused > 0)
    }

    @Test func anAgeOutOfRangeNamesTheRange() throws {
        let error = try #require(throws: Cache.CacheOptionError.self) {
            try Cache.pruneLimits(olderThanDays: "1e15", maxSize: nil)
        }
        #expect(error.message == "not a number of days from 0 to 10^14 '1e15'")
        #expect(try Cache.pruneLimits(olderThanDays: "1e14", maxSize: "1K").age == Int(1e14 * 86400))
    }
}
