// The directory walk on several cores, its files still handed over in tree order on the caller's thread: how a
// status of an unchanged directory (a stat per file, a record line beside each) uses both cores.
import Foundation
import QuiltSupport
import QuiltFormat

/// `DirectoryScanner.walk` with its directories listed and stat'ed on `workers` threads beside the caller's.
///
/// Each directory is a job (`Walker.entries`: list, sort, stat each name) whose result holds its files and its
/// subdirectories, new jobs. Pending jobs wait on one stack in tree order, the earliest on top, so the threads
/// work just ahead of where the caller reads. The caller consumes the jobs' results in tree order; a job it
/// needs that nobody has taken it does itself, and while one it needs is being done elsewhere it does the next
/// pending one instead of waiting, so both cores walk and a thread seldom blocks (a futex wait and wake cost tens
/// of µs in this VM). The lock is taken per directory, never per file. Workers stop taking jobs while the files of
/// finished, unread jobs exceed `heldLimit`, so a million-file tree is never held whole.
///
/// Not `walkAhead`'s `Prefetcher`: a walk on one other thread handing files over in batches leaves the caller's
/// core idle while it waits, and for a status (a record line beside each file) it was slower than walking on
/// the caller's thread alone.
final class ParallelWalk: @unchecked Sendable {
    // Unchecked: every field but the constants is touched with `condition` locked; a job's `listing` is written
    // once by the thread that did it, before it is marked done under the lock, and read after.
    private final class Job: @unchecked Sendable {
        enum State { case pending, taken, done }
        let directory: DirectoryScanner.Walker.Directory
        var state = State.pending
        var listing = DirectoryScanner.Walker.Listing()
        /// Jobs of the listing's subdirectories, in its order.
        var children: [Job] = []

        init(_ directory: DirectoryScanner.Walker.Directory) { self.directory = directory }
    }

    private let walker: DirectoryScanner.Walker
    private let workers: Int
    private let heldLimit: Int
    private let condition = NSCondition()
    /// Jobs to do, the earliest in tree order last; some may have been taken meanwhile (skipped when popped).
    private var pending: [Job] = []
    /// Files in jobs done and not yet read by the caller.
    private var held = 0
    private var stopped = false
    private var running = 0
    private var workersWaiting = 0
    private var callerWaiting = false

    /// About 1 MB of files: a few directories' worth ahead of the caller.
    static let defaultHeldLimit = 8192

    init(_ walker: DirectoryScanner.Walker, workers: Int, heldLimit: Int) {
        self.walker = walker
        self.workers = workers
        self.heldLimit = heldLimit
    }

    func walk(_ root: DirectoryScanner.Walker.Directory, undecodable: ([UInt8]) throws -> Void,
              visit: (DirectoryScanner.File) throws -> Void) throws {
        let top = Job(root)
        top.state = .taken
        condition.lock()
        running = workers
        condition.unlock()
        for _ in 0..<workers { Thread { [self] in work() }.start() }
        defer { stop() }
        run(top)
        try consume(top, undecodable: undecodable, visit: visit)
    }

    /// Reads `job`'s entries in order (waiting for it first), its subdirectories' where they fall.
    private func consume(_ job: Job, undecodable: ([UInt8]) throws -> Void, visit: (DirectoryScanner.File) throws -> Void) throws {
        let (listing, children) = awaitDone(job)
        var next = 0
        for entry in listing.entries {
            switch entry {
            case .file(let file): try visit(file)
            case .directory:
                try consume(children[next], undecodable: undecodable, visit: visit)
                next += 1
            case .undecodable(let path): try undecodable(path)
            }
        }
        if let failure = listing.failure { throw failure }
    }

    /// `job`'s result once done, taken out of it: done here if nobody has taken it, else other jobs done while
    /// waiting for it.
    private func awaitDone(_ job: Job) -> (DirectoryScanner.Walker.Listing, [Job]) {
        condition.lock()
        while true {
            switch job.state {
            case .done:
                let result = (job.listing, job.children)
                job.listing = DirectoryScanner.Walker.Listing()
                job.children = []
                let before = held
                held -= result.0.files
                // Workers stopped at the limit start again once half of it is read.
                if workersWaiting > 0 && before > heldLimit / 2 && held <= heldLimit / 2 { condition.broadcast() }
                condition.unlock()
                return result
            case .pending:
                job.state = .taken
                condition.unlock()
                run(job)
                condition.lock()
            case .taken:
                if let other = takePending() {
                    condition.unlock()
                    run(other)
                    condition.lock()
                } else {
                    callerWaiting = true
                    condition.wait()
                    callerWaiting = false
                }
            }
        }
    }

    /// The earliest pending job, marked taken; with the lock held.
    private func takePending() -> Job? {
        while let job = pending.popLast() {
            if job.state == .pending {
                job.state = .taken
                return job
            }
        }
        return nil
    }

    /// Lists the directory of `job` (taken by this thread), then publishes the result and its subdirectories' jobs.
    private func run(_ job: Job) {
        let listing = walker.entries(of: job.directory)
        var children: [Job] = []
        for entry in listing.entries {
            if case .directory(let below) = entry { children.append(Job(below)) }
        }
        condition.lock()
        job.listing = listing
        job.children = children
        job.state = .done
        held += listing.files
        pending.append(contentsOf: children.reversed())
        if callerWaiting || (workersWaiting > 0 && !children.isEmpty) { condition.broadcast() }
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while !stopped {
            if held < heldLimit, let job = takePending() {
                condition.unlock()
                run(job)
                condition.lock()
            } else {
                workersWaiting += 1
                condition.wait()
                workersWaiting -= 1
            }
        }
        running -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the workers (the walk is over, or the caller stopped it) and waits for them.
    private func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }
}
