// Names shown to people: control characters escaped, bytes that are not UTF-8 shown as escapes, never repaired.
import Testing
@testable import QuiltSupport

@Suite struct EscapingTests {
    @Test func controlCharactersAreEscapedForDisplay() {
        #expect(escapingControlCharacters("plain ünïcode, \u{A0}and emoji 🧵") == "plain ünïcode, \u{A0}and emoji 🧵")
        #expect(escapingControlCharacters("a\nb\tc\r\0") == "a\\nb\\tc\\r\\0")
        #expect(escapingControlCharacters("\u{1B}]0;title\u{07}") == "\\x1b]0;title\\x07")
        #expect(escapingControlCharacters("\u{7F}\u{80}\u{9B}\u{9F}") == "\\x7f\\xc2\\x80\\xc2\\x9b\\xc2\\x9f")
        #expect(escapingControlCharacters([0x61, 0xFF, 0xED, 0xA0, 0x80, 0x62]) == "a\\xff\\xed\\xa0\\x80b")
        #expect(quoted("x\u{1}") == "'x\\x01'")
        #expect(quoted(bytes: [0x62, 0xFF]) == "'b\\xff'")
    }
}
