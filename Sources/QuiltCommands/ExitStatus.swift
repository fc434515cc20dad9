// The exit statuses of the contract (interface.md), and the failure kinds they stand for.
import QuiltSupport

/// Exit statuses of the contract.
public enum ExitStatus {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    public static let conflict: Int32 = 2
    public static let usage: Int32 = 64
    public static let badInput: Int32 = 65

    static func forKind(_ kind: FailureKind) -> Int32 {
        switch kind {
        case .operationFailed: return failure
        case .conflict: return conflict
        case .usage: return usage
        case .badInput: return badInput
        }
    }
}
