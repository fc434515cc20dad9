// The one retry loop: how many tries, which pauses, which failures and answers are worth another try, against a
// stub server on 127.0.0.1 that fails first and then answers.
import Testing
import QuiltTestSupport
@testable import QuiltSupport
@testable import QuiltHTTP

/// A policy that records its pauses instead of sleeping.
private func recording(_ maxAttempts: Int) -> (RetryPolicy, Locked<[Double]>) {
    let pauses = Locked<[Double]>([])
    return (RetryPolicy(maxAttempts: maxAttempts, pause: { seconds in pauses.withLock { $0.append(seconds) } }), pauses)
}

private struct Failure: Error, Equatable { let number: Int }

/// A server whose first `failures` answers are `failure` (0: the connection closed unanswered), then 200 "ok".
private func flakyServer(failures: Int, failure: Int) throws -> TinyHTTPServer {
    let seen = Locked(0)
    return try TinyHTTPServer { _, _, _ in
        let number = seen.withLock { count -> Int in count += 1; return count }
        return number <= failures ? (failure, "busy") : (200, "ok")
    }
}

@Suite struct RetryPolicyTests {
    @Test func triesUntilDoneWithBackoffBetweenTries() throws {
        let (policy, pauses) = recording(4)
        var tries: [Int] = []
        let result = try policy.run { number -> RetryPolicy.Outcome<String> in
            tries.append(number)
            return number < 3 ? .retry(failure: Failure(number: number)) : .done("third")
        }
        #expect(result == "third" && tries == [1, 2, 3])
        #expect(pauses.value.count == 2)
        #expect(pauses.value[0] >= 0 && pauses.value[0] <= 0.2 && pauses.value[1] <= 0.4)
    }

    @Test func theLastFailureIsThrownWhenTheTriesRunOut() {
        let (policy, pauses) = recording(3)
        var tries = 0
        #expect(throws: Failure(number: 3)) {
            try policy.run { number -> RetryPolicy.Outcome<Int> in
                tries += 1
                return .retry(failure: Failure(number: number))
            }
        }
        #expect(tries == 3 && pauses.value.count == 2)
    }

    @Test func againIsNeitherCountedNorPausedAndAThrowEndsTheLoop() {
        let (policy, pauses) = recording(2)
        var tries: [Int] = []
        #expect(throws: Failure(number: 2)) {
            try policy.run { number -> RetryPolicy.Outcome<Int> in
                tries.append(number)
                if tries.count == 1 { return .again }
                if number == 1 { return .retry(failure: Failure(number: 1)) }
                throw Failure(number: number)
            }
        }
        #expect(tries == [1, 1, 2] && pauses.value.count == 1)
        #expect(RetryPolicy(maxAttempts: 0).maxAttempts == 1)
    }

    @Test func backoffCapsDoubleUpToFiveSeconds() {
        for (number, cap) in [(1, 0.2), (2, 0.4), (5, 3.2), (6, 5.0), (30, 5.0)] {
            for _ in 0..<50 {
                let pause = RetryPolicy.backoff(afterTry: number)
                #expect(pause >= 0 && pause <= cap, "after try \(number): \(pause)")
            }
        }
        #expect(RetryPolicy.isTransient(status: 500) && RetryPolicy.isTransient(status: 503) && RetryPolicy.isTransient(status: 429))
        #expect(!RetryPolicy.isTransient(status: 501) && !RetryPolicy.isTransient(status: 404) && !RetryPolicy.isTransient(status: 200))
    }

    @Test(arguments: [503, 500, 429, 0])
    func aRequestThatFailsOnceIsAnsweredByTheSecondTry(failure: Int) throws {
        let server = try flakyServer(failures: 1, failure: failure)
        defer { server.stop() }
        let (policy, pauses) = recording(4)
        let response = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/x"), retry: policy)
        #expect(response.status == 200 && response.body == Array("ok".utf8))
        #expect(server.requests == ["GET /x", "GET /x"] && pauses.value.count == 1)
    }

    /// A transient answer is asked for again until the tries run out, then returned; one that cannot change is
    /// returned at once.
    @Test(arguments: [(503, 3), (404, 1)])
    func theLastAnswerIsReturned(status: Int, requests: Int) throws {
        let server = try flakyServer(failures: 10, failure: status)
        defer { server.stop() }
        let response = try HTTPClient().perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(server.port)/x"),
                                                retry: recording(3).0)
        #expect(response.status == status && server.requests.count == requests)
    }

    @Test func aRequestThatMustNotRunTwiceIsSentAgainOnlyIfItNeverLeft() throws {
        let server = try flakyServer(failures: 1, failure: 503)
        defer { server.stop() }
        let post = HTTPRequest(method: "POST", url: "http://127.0.0.1:\(server.port)/token", body: .bytes(Array("code=1".utf8)))
        #expect(try HTTPClient().perform(post, retry: recording(4).0, idempotent: false).status == 503)
        #expect(server.requests.count == 1)

        // Nothing listens on port 9 (discard): the connection is refused, so the request never left.
        let (policy, pauses) = recording(3)
        #expect(throws: HTTPError.self) {
            try HTTPClient().perform(HTTPRequest(method: "POST", url: "http://127.0.0.1:9/token"), retry: policy, idempotent: false)
        }
        #expect(pauses.value.count == 2)
    }
}
