import Foundation
import KernelCheckCore
import KernelCheckProblems
import Testing

/// Mutation fuzzing of the problem-string parser (the in-`swift test` companion of
/// tools/fuzz.sh): thousands of near-valid and random strings, each of which must either
/// parse — and then round-trip and describe itself without trapping — or throw
/// `ProblemError`. A trap would kill the test process, so "no crash" is checked simply by
/// the suite finishing; the per-class counters make sure every class was really exercised.
@Suite struct ProblemFuzzTests {
    /// Canonical strings of every op (ProblemStringTests') and, after the canonical pad
    /// projection A, its shorthand form: where the mutations start from.
    static let seeds: [String] = {
        var seeds = ProblemStringTests.canonical
        seeds.insert("padproj_a n=1 c=3 in=4x4 oc=16", at: seeds.firstIndex { $0.hasPrefix("padproj_a") }! + 1)
        return seeds
    }()

    /// Numbers that break arithmetic: zero, negatives, the field bound and just past it,
    /// 2³¹, 2⁶², Int.max/min, and text that is not an integer at all.
    static let nastyNumbers = [
        "0", "-1", "1", "2", "-0", "+3", "1073741824", "1073741825", "-1073741824", "2147483648",
        "4611686018427387904", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
        "99999999999999999999", "1e3", "0x10", "", "nan", "inf", "3.5", "same", "1x", "x1", "1xx1",
        "1:2:3", "1:", ":1", "1x1x1x1x1", "scalar", "1e-400", "-inf", "1e308",
    ]

    /// Outcome counts of one fuzz run.
    struct Tally: CustomStringConvertible {
        var parsed = 0, invalidField = 0, malformed = 0, overBudget = 0
        var total: Int { parsed + invalidField + malformed + overBudget }
        var description: String {
            "\(total) inputs: \(parsed) parsed, ProblemError.invalidField \(invalidField), .malformed \(malformed), .exceedsMemoryBudget \(overBudget)"
        }
    }

    /// Parses `text`; a success must round-trip and answer every CLI question.
    static func check(_ text: String, seed: UInt64, into tally: inout Tally) {
        do {
            let p = try Problem.parse(text)
            let again = try? Problem.parse(p.description)
            #expect(again == p, "seed \(seed): '\(text)' → '\(p.description)' does not round-trip")
            let d = p.descriptor
            for direction in d.directions {
                _ = d.inputs(for: direction)
                _ = d.output(for: direction)
                #expect(d.flops(for: direction) >= 0, "seed \(seed): '\(text)' \(direction) flops")
                #expect(d.accumulationLength(for: direction) >= 0, "seed \(seed): '\(text)' \(direction) K")
            }
            tally.parsed += 1
        } catch {
            switch error {
            case .invalidField: tally.invalidField += 1
            case .malformed: tally.malformed += 1
            case .exceedsMemoryBudget: tally.overBudget += 1
            }
            #expect(!error.description.isEmpty)
        }
    }

    /// One mutation of a token list: delete, duplicate, swap, replace a number, or cut a
    /// token in two.
    static func mutate(_ tokens: [String], _ rng: inout SeededRNG) -> [String] {
        var t = tokens
        guard !t.isEmpty else { return ["relu"] }
        let i = rng.nextInt(in: 0...(t.count - 1))
        switch rng.nextInt(in: 0...5) {
        case 0: t.remove(at: i)
        case 1: t.insert(t[i], at: i)
        case 2: t.swapAt(i, rng.nextInt(in: 0...(t.count - 1)))
        case 3, 4:
            // Replace one number inside key=value (or inside a dims list) with a nasty one.
            guard let eq = t[i].firstIndex(of: "=") else { break }
            let key = t[i][...eq]
            var parts = t[i][t[i].index(after: eq)...].split(separator: "x", omittingEmptySubsequences: false).map(
                String.init)
            guard !parts.isEmpty else { break }
            let j = rng.nextInt(in: 0...(parts.count - 1))
            parts[j] = nastyNumbers[rng.nextInt(in: 0...(nastyNumbers.count - 1))]
            t[i] = key + parts.joined(separator: "x")
        default:
            let chars = Array(t[i])
            let cut = rng.nextInt(in: 0...chars.count)
            t[i] = String(chars[..<cut])
            t.insert(String(chars[cut...]), at: i + 1)
        }
        return t
    }

    @Test("near-valid problem strings: token deletions, duplications, number mutations")
    func nearValidStrings() {
        let seed: UInt64 = 0x5EED_F022
        var rng = SeededRNG(seed: seed)
        var tally = Tally()
        for _ in 0..<6000 {
            var tokens = Self.seeds[rng.nextInt(in: 0...(Self.seeds.count - 1))].split(separator: " ").map(String.init)
            for _ in 0...rng.nextInt(in: 0...3) { tokens = Self.mutate(tokens, &rng) }
            Self.check(tokens.joined(separator: " "), seed: seed, into: &tally)
        }
        print("ProblemFuzzTests.nearValidStrings (seed \(seed)): \(tally)")
        // Every outcome class must have been reached, or the mutations are too tame.
        #expect(tally.parsed > 100 && tally.invalidField > 100 && tally.malformed > 100, "\(tally)")
    }

    @Test("every integer field of every op at every nasty value")
    func everyFieldAtEveryNastyValue() {
        var tally = Tally()
        for text in Self.seeds {
            let tokens = text.split(separator: " ").map(String.init)
            for (i, token) in tokens.enumerated() {
                guard let eq = token.firstIndex(of: "=") else { continue }
                let key = token[...eq]
                let parts = token[token.index(after: eq)...].split(separator: "x", omittingEmptySubsequences: false)
                for j in parts.indices {
                    for number in Self.nastyNumbers {
                        var p = parts.map(String.init)
                        p[j] = number
                        var t = tokens
                        t[i] = key + p.joined(separator: "x")
                        Self.check(t.joined(separator: " "), seed: 0, into: &tally)
                        // The same value in every entry of a dims list.
                        t[i] = key + Array(repeating: number, count: parts.count).joined(separator: "x")
                        Self.check(t.joined(separator: " "), seed: 0, into: &tally)
                    }
                }
            }
        }
        print("ProblemFuzzTests.everyFieldAtEveryNastyValue: \(tally)")
        #expect(tally.total > 3000 && tally.invalidField > 0 && tally.malformed > 0)
    }

    @Test("random strings over the problem alphabet")
    func randomStrings() {
        let seed: UInt64 = 0xA1FA_BE7
        var rng = SeededRNG(seed: seed)
        let alphabet = Array("conv123dtmaulinrelsqpb_kgfwxy =:x0123456789-+.e\t")
        let words =
            Problem.opNames + [
                "n=", "ic=", "oc=", "g=", "in=", "k=", "s=", "d=", "p=", "op=", "bias=", "a=", "b=",
                "shape=", "x=", "out=", "c=", "before=", "after=", "eps=", "slope=", "same", "valid", " ",
            ]
        var tally = Tally()
        for _ in 0..<4000 {
            var text = ""
            for _ in 0..<rng.nextInt(in: 0...30) {
                if rng.nextInt(in: 0...2) == 0 {
                    text += words[rng.nextInt(in: 0...(words.count - 1))]
                } else {
                    text.append(alphabet[rng.nextInt(in: 0...(alphabet.count - 1))])
                }
            }
            Self.check(text, seed: seed, into: &tally)
        }
        print("ProblemFuzzTests.randomStrings (seed \(seed)): \(tally)")
        #expect(tally.total == 4000 && tally.malformed > 1000)
    }

    /// Inputs that trapped (arithmetic overflow, SIGILL) in `Problem.parse` or in the
    /// descriptor's K/FLOP arithmetic before the hardening fixes; each was replayed against
    /// the unfixed code and must now be a typed error.
    @Test(arguments: [
        "mse shape=4294967296x4294967296x4294967296",  // LossProblem.validate: ∏shape
        "conv1d n=1 ic=1 oc=1 in=9223372036854775807 k=2 p=1",  // in + pb + pe
        "conv1d n=1 ic=1 oc=1 in=3 k=4611686018427387904 d=4",  // d·(k−1)
        "conv1d n=1 ic=1 oc=1 in=9223372036854775000 k=1 s=1000 p=same",  // (⌈in/s⌉−1)·s …
        "convt1d n=1 ic=1 oc=1 in=4611686018427387904 k=1 s=4",  // (in−1)·s
        "padproj_a n=1 c=-9223372036854775807 in=4 oc=9223372036854775807",  // oc − c
        "padproj_a n=1 c=1 in=4 before=9223372036854775807 after=1",  // c + before + after
        "padproj_b n=1 ic=1 oc=1 in=9223372036854775807 s=2",  // in + s − 1
        // An empty problem (n=0, oc=0) with a 2⁹⁰-tap kernel: accumulationLength's ∏k.
        "conv3d n=0 ic=1 oc=0 in=1073741824x1073741824x1073741824 k=1073741824x1073741824x1073741824",
    ])
    func formerTraps(_ text: String) {
        var tally = Tally()
        Self.check(text, seed: 0, into: &tally)
        #expect(tally.parsed == 0, "'\(text)' should be rejected with a typed error")
    }
}
