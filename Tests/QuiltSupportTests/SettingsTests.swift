// Settings from the environment, read strictly: what is refused as a usage error before any work.
import Testing
@testable import QuiltSupport

@Suite struct SettingsTests {
    @Test func integersParseStrictlyWithinTheirRange() throws {
        let settings = Settings(["A": "12", "B": "-5", "C": "abc", "D": "", "E": " 7 ", "F": "0"])
        #expect(try settings.integer("A", default: 1, in: 1...Int.max) == 12)
        #expect(try settings.integer("D", default: 3, in: 1...Int.max) == 3, "empty means unset")
        #expect(try settings.integer("missing", default: 3, in: 1...Int.max) == 3)
        #expect(try settings.integer("E", default: 1, in: 1...Int.max) == 7)
        #expect(throws: SettingError(name: "B", value: "-5", reason: "must be at least 1")) {
            try settings.integer("B", default: 1, in: 1...Int.max)
        }
        #expect(throws: SettingError(name: "C", value: "abc", reason: "not a whole number")) {
            try settings.integer("C", default: 1, in: 1...Int.max)
        }
        #expect(throws: SettingError.self) { try settings.integer("F", default: 1, in: 1...Int.max) }
        #expect(SettingError(name: "B", value: "-5", reason: "must be at least 1").message == "invalid B '-5': must be at least 1")
        #expect(SettingError(name: "B", value: "-5", reason: "r").kind == .usage)
    }

    @Test func secondsArePositiveAndFinite() throws {
        let settings = Settings(["A": "2.5", "B": "0", "C": "nan", "D": "inf", "E": "soon"])
        #expect(try settings.seconds("A") == 2.5)
        #expect(try settings.seconds("missing") == nil)
        for name in ["B", "C", "D", "E"] { #expect(throws: SettingError.self) { try settings.seconds(name) } }
    }

    @Test func byteSizesTakeBinaryUnitsAndARange() throws {
        let range = (5 << 20)...(5 << 30)
        let settings = Settings(["A": "64M", "B": "5MiB", "C": "1G", "D": "8388608", "E": "1K", "F": "6T", "G": "lots",
                                 "H": "99999999999999999999G"])
        #expect(try settings.byteSize("A", default: 0, in: range) == 64 << 20)
        #expect(try settings.byteSize("B", default: 0, in: range) == 5 << 20)
        #expect(try settings.byteSize("C", default: 0, in: range) == 1 << 30)
        #expect(try settings.byteSize("D", default: 0, in: range) == 8 << 20)
        #expect(throws: SettingError(name: "E", value: "1K", reason: "must be from 5M to 5G")) {
            try settings.byteSize("E", default: 0, in: range)
        }
        for name in ["F", "G", "H"] { #expect(throws: SettingError.self) { try settings.byteSize(name, default: 0, in: range) } }
    }

    @Test func choicesAreOneOfTheirNamesInAnyCase() throws {
        let settings = Settings(["A": "Ignore", "B": " use ", "C": "maybe", "D": ""])
        #expect(try settings.choice("A", default: "use", among: ["use", "ignore"]) == "ignore")
        #expect(try settings.choice("B", default: "ignore", among: ["use", "ignore"]) == "use")
        #expect(try settings.choice("D", default: "use", among: ["use", "ignore"]) == "use", "empty means unset")
        #expect(throws: SettingError(name: "C", value: "maybe", reason: "must be 'use' or 'ignore'")) {
            try settings.choice("C", default: "use", among: ["use", "ignore"])
        }
    }
}
