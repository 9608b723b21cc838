import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Progress of a long command (`check`, `nightly`, `fixtures regenerate`, `bench`).
///
/// - On a terminal: one line rewritten in place (`\r`), at most every `redrawInterval`:
///   `[=========           ] 123/500  00:12 elapsed, ~00:37 left  2 failures`.
/// - Elsewhere (a pipe, `| tee log`, a CI log): a plain line each time another 10 % is done
///   or 10 s have passed since the last line (`LineRate`), and one at the end; each line is
///   flushed as it is written, so a pipe shows it live.
/// - `message(_:)` prints a line of the command's own (a measurement, a phase) without
///   breaking the bar.
///
/// The ETA is `elapsed / done × (total − done)`, capped by the time left to `deadline` when
/// the work stops at a deadline (a nightly phase).
final class Progress {
    enum Style: Equatable { case terminal, lines, off }

    /// Where the progress goes: standard output (text runs) or standard error (runs whose
    /// standard output is JSON or a report).
    enum Stream {
        case standardOutput, standardError

        var descriptor: Int32 { self == .standardOutput ? 1 : 2 }
        var isTerminal: Bool { isatty(descriptor) != 0 }

        func write(_ text: String) {
            switch self {
            case .standardOutput:
                print(text, terminator: "")
                fflush(nil)
            case .standardError:
                FileHandleOutput.standardErrorText(text)
            }
        }
    }

    static let redrawInterval = 0.1

    let label: String
    let total: Int
    let style: Style
    let stream: Stream
    let clock: () -> Double
    let start: Double
    /// Seconds after `start` at which the work stops whatever is left (nil: none).
    let deadline: Double?
    private var rate = LineRate()
    private var lastDraw = -Double.infinity
    private var done = 0
    private var note = ""
    private var barShown = false

    /// `enabled: false` gives a silent progress (JSON on the same stream, a test).
    init(
        _ label: String, total: Int, stream: Stream, enabled: Bool = true, deadline: Double? = nil,
        clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate }
    ) {
        self.label = label
        self.total = total
        self.stream = stream
        self.style = !enabled || total <= 0 ? .off : stream.isTerminal ? .terminal : .lines
        self.deadline = deadline
        self.clock = clock
        start = clock()
    }

    var elapsed: Double { clock() - start }
    var isComplete: Bool { done >= total }

    /// Records `done` of `total` (and a short note: the current item, the failures so far).
    func update(_ done: Int, note: String = "") {
        self.done = done
        self.note = note
        let now = elapsed
        switch style {
        case .off: return
        case .terminal:
            guard now - lastDraw >= Self.redrawInterval || done >= total else { return }
            lastDraw = now
            draw()
        case .lines:
            guard rate.due(done: done, total: total, now: now) else { return }
            stream.write(text(now, bar: false) + "\n")
        }
    }

    /// A line of the command's own, printed above the bar (plain on other streams).
    func message(_ line: String) {
        switch style {
        case .terminal:
            stream.write("\r\u{1B}[K" + line + "\n")
            if barShown { draw() }
        case .lines, .off: stream.write(line + "\n")
        }
    }

    /// The last state, on a line of its own.
    func finish(note: String? = nil) {
        if let note { self.note = note }
        switch style {
        case .off: return
        case .terminal:
            draw()
            stream.write("\n")
        case .lines:
            if rate.lastDone != done { stream.write(text(elapsed, bar: false) + "\n") }
        }
        barShown = false
    }

    private func draw() {
        let columns = Self.columns(stream.descriptor)
        let line = text(elapsed, bar: true)
        stream.write("\r\u{1B}[K" + String(line.prefix(max(20, columns - 1))))
        barShown = true
    }

    private func text(_ now: Double, bar: Bool) -> String {
        ProgressText.line(
            label: label, done: done, total: total, elapsed: now,
            remaining: ProgressText.remaining(done: done, total: total, elapsed: now, deadline: deadline), note: note,
            bar: bar)
    }

    /// The terminal's width (80 when it cannot be read).
    static func columns(_ descriptor: Int32) -> Int {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// The text of a progress line (pure: unit-tested).
enum ProgressText {
    /// `mm:ss`, or `h:mm:ss` from an hour on; `--:--` for a negative or non-finite time.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let t = Int(seconds.rounded())
        let (h, m, s) = (t / 3600, t / 60 % 60, t % 60)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return h > 0 ? "\(h):\(two(m)):\(two(s))" : "\(two(m)):\(two(s))"
    }

    /// Seconds left at the rate so far, `elapsed / done × (total − done)`, capped by the time
    /// left to `deadline`; nil before anything is done.
    static func remaining(done: Int, total: Int, elapsed: Double, deadline: Double? = nil) -> Double? {
        guard done > 0, total > 0 else { return deadline.map { max(0, $0 - elapsed) } }
        let estimate = elapsed / Double(done) * Double(max(0, total - done))
        guard let deadline else { return estimate }
        return min(estimate, max(0, deadline - elapsed))
    }

    /// `[=====     ]`: `width` cells, `done / total` of them filled.
    static func bar(done: Int, total: Int, width: Int = 20) -> String {
        let filled = total > 0 ? min(width, max(0, width * done / total)) : 0
        return "[" + String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled) + "]"
    }

    /// `[====      ] 123/500  00:12 elapsed, ~00:37 left  note` (terminal), or
    /// `label: 123/500 (24%)  00:12 elapsed, ~00:37 left  note` (a plain line).
    static func line(
        label: String, done: Int, total: Int, elapsed: Double, remaining: Double?, note: String, bar: Bool
    ) -> String {
        let percent = total > 0 ? 100 * done / total : 0
        var s =
            bar ? "\(self.bar(done: done, total: total)) \(done)/\(total)" : "\(label): \(done)/\(total) (\(percent)%)"
        s += "  \(clock(elapsed)) elapsed"
        if done < total, let remaining { s += ", ~\(clock(remaining)) left" }
        if !note.isEmpty { s += "  \(note)" }
        return s
    }
}

/// When a non-terminal progress writes a line: each time another `fraction` of the total is
/// done, or `interval` seconds after the last line, whichever comes first, and when the work
/// is complete. Ten lines for a quick run; one every 10 s at most for a long one.
struct LineRate {
    var fraction = 0.1
    var interval = 10.0
    /// `done` and time of the last line written (nil: none yet).
    private(set) var lastDone: Int?
    private(set) var lastTime = 0.0

    mutating func due(done: Int, total: Int, now: Double) -> Bool {
        let step = max(1, Int((Double(total) * fraction).rounded(.up)))
        let previous = lastDone ?? 0
        let crossed = done / step > previous / step || (done >= total && previous < total)
        guard done != lastDone, crossed || now - lastTime >= interval else { return false }
        lastDone = done
        lastTime = now
        return true
    }
}

/// A run of several phases, each with its own progress (the nightly's fixtures, sweeps,
/// gradients and benchmarks): a new phase finishes the previous one's line.
final class PhasedProgress {
    let stream: Progress.Stream
    private var current: Progress?

    init(stream: Progress.Stream) { self.stream = stream }

    func update(phase: String, done: Int, total: Int, item: String, deadline: Date) {
        if current?.label != phase {
            current?.finish()
            current = Progress(phase, total: total, stream: stream, deadline: deadline.timeIntervalSinceNow)
        }
        current?.update(done, note: item)
    }

    /// A line of the command's own; a phase whose work is complete is finished first.
    func message(_ line: String) {
        if let c = current, c.isComplete { finish() }
        if let current { current.message(line) } else { stream.write(line + "\n") }
    }

    func finish() {
        current?.finish()
        current = nil
    }
}
