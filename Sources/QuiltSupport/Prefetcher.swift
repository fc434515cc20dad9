// Work made on another thread and handed over in order, at most a few batches ahead: what lets reading and
// parsing a manifest and using its entries share two cores.
import Dispatch

/// Batches made by a producer on another thread, handed to one consumer in order, at most `batchesAhead` waiting.
public final class Prefetcher<Batch>: @unchecked Sendable {
    // `state` is shared under its lock; the semaphores count batches waiting and room for more.
    private let state = Locked<(batches: [Batch], finished: Bool, failure: (any Error)?, cancelled: Bool)>(([], false, nil, false))
    private let filled = DispatchSemaphore(value: 0)
    private let free: DispatchSemaphore
    private let room: Int
    private var ended = false

    /// Starts `produce` on another thread; it hands each batch to the function it is given, which returns false
    /// when the reader has gone (then it should stop).
    public init(batchesAhead: Int = 4, produce: @escaping @Sendable (_ put: (Batch) -> Bool) throws -> Void) {
        room = batchesAhead
        free = DispatchSemaphore(value: batchesAhead)
        DispatchQueue.global().async { [self] in
            var failure: (any Error)?
            do { try produce(put) } catch { failure = error }
            state.withLock {
                $0.finished = true
                $0.failure = failure
            }
            filled.signal()
        }
    }

    private func put(_ batch: Batch) -> Bool {
        free.wait()
        let cancelled = state.withLock { state -> Bool in
            if !state.cancelled { state.batches.append(batch) }
            return state.cancelled
        }
        if !cancelled { filled.signal() }
        return !cancelled
    }

    /// The next batch; nil once the producer has finished (its error, if it failed, is thrown once).
    public func next() throws -> Batch? {
        guard !ended else { return nil }
        filled.wait()
        let taken = state.withLock { state -> (batch: Batch?, failure: (any Error)?) in
            if !state.batches.isEmpty { return (state.batches.removeFirst(), nil) }
            return (nil, state.failure)
        }
        guard let batch = taken.batch else {
            ended = true
            if let failure = taken.failure { throw failure }
            return nil
        }
        free.signal()
        return batch
    }

    /// Tells the producer to stop (the reader wants no more).
    public func cancel() {
        state.withLock { $0.cancelled = true }
        for _ in 0...room { free.signal() }
    }
}
