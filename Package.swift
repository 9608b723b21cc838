import Foundation
// swift-tools-version: 6.1
// KernelCheck: proves neural-network kernels compute the right numbers.
import PackageDescription

// The tiled kernels need CPU-specific code generation: without it `SIMD16.addingProduct`
// lowers to sixteen `fmaf` library calls instead of vector FMAs. We compile them for the
// host CPU by default (`-target-cpu native`), which is what `swift run -c release
// kernelcheck bench` wants on the machine that runs it. Set KERNELCHECK_PORTABLE=1 to build
// binaries that run on any x86-64 / arm64 CPU (correct, but the SIMD paths are slow).
let portable = ProcessInfo.processInfo.environment["KERNELCHECK_PORTABLE"] == "1"
let cpuFlags: [String] = portable ? [] : ["-target-cpu", "native"]

/// Kernels are array-heavy loops whose bounds checks block vectorization; the tiled module
/// validates every descriptor before entering its loops, so release builds drop the checks.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(cpuFlags),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "KernelCheck",
    products: [
        .library(
            name: "KernelCheck",
            targets: [
                "KernelCheckCore", "KernelCheckProblems", "KernelCheckReference", "KernelCheckTiled",
                "KernelCheckHDF5", "KernelCheckFixtures", "KernelCheckVerification", "KernelCheckReports",
            ]),
        .executable(name: "kernelcheck", targets: ["kernelcheck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),
        // Reads an untrusted HDF5 file in a forked child first, so a file that crashes or
        // hangs libhdf5 takes down the child, not the caller (HDF5ReadProbe.swift).
        .target(name: "CHDF5Probe", dependencies: ["CHDF5"]),
        .target(name: "KernelCheckCore"),
        // Prefetch hints and the AVX-512 A-panel transpose (static inline C, inlined into Swift callers).
        .target(name: "CKernelSupport"),
        .target(name: "KernelCheckProblems", dependencies: ["KernelCheckCore"]),
        .target(name: "KernelCheckReference", dependencies: ["KernelCheckCore", "KernelCheckProblems"]),
        .target(
            name: "KernelCheckTiled",
            dependencies: ["KernelCheckCore", "KernelCheckProblems", "CKernelSupport"],
            swiftSettings: kernelSettings
        ),
        .target(name: "KernelCheckHDF5", dependencies: ["CHDF5", "CHDF5Probe", "KernelCheckCore"]),
        .target(
            name: "KernelCheckFixtures",
            dependencies: ["KernelCheckCore", "KernelCheckProblems", "KernelCheckHDF5"]
        ),
        .target(
            name: "KernelCheckVerification",
            dependencies: [
                "KernelCheckCore", "KernelCheckProblems", "KernelCheckReference", "KernelCheckTiled",
                "KernelCheckFixtures",
            ]
        ),
        // Kernels outside the package: `lib:PATH` (C ABI, include/kernelcheck.h) and
        // `exec:COMMAND` (a worker process, docs/plugins.md).
        .target(
            name: "KernelCheckPlugins",
            dependencies: ["KernelCheckCore", "KernelCheckProblems", "KernelCheckVerification"]
        ),
        .target(
            name: "KernelCheckReports",
            dependencies: ["KernelCheckCore", "KernelCheckProblems", "KernelCheckFixtures", "KernelCheckVerification"]
        ),
        .executableTarget(
            name: "kernelcheck",
            dependencies: [
                "KernelCheckCore", "KernelCheckProblems", "KernelCheckReference", "KernelCheckTiled",
                "KernelCheckHDF5", "KernelCheckFixtures", "KernelCheckVerification", "KernelCheckReports",
                "KernelCheckPlugins", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // libFuzzer target over the problem-string and fixture-file parsers (tools/fuzz.sh);
        // a plain build makes it a replayer of saved inputs.
        .executableTarget(
            name: "kernelcheck-fuzz", dependencies: ["KernelCheckProblems", "KernelCheckFixtures", "KernelCheckHDF5"]),
        // Helpers the test targets share: tensors from literals and seeded fills, Float arrays
        // for raw-pointer kernels, finite differences, random (transposed) convolutions from the
        // product's generator, the repository root and scratch directories.
        .target(
            name: "KernelCheckTestSupport",
            dependencies: ["KernelCheckCore", "KernelCheckProblems", "KernelCheckVerification"],
            path: "Tests/KernelCheckTestSupport"
        ),
        .testTarget(name: "KernelCheckCoreTests", dependencies: ["KernelCheckCore"]),
        .testTarget(name: "KernelCheckProblemsTests", dependencies: ["KernelCheckProblems"]),
        .testTarget(
            name: "KernelCheckReferenceTests", dependencies: ["KernelCheckReference", "KernelCheckTestSupport"]),
        .testTarget(name: "KernelCheckTiledTests", dependencies: ["KernelCheckTiled", "KernelCheckTestSupport"]),
        .testTarget(name: "KernelCheckHDF5Tests", dependencies: ["KernelCheckHDF5", "KernelCheckTestSupport"]),
        .testTarget(
            name: "KernelCheckFixturesTests",
            dependencies: ["KernelCheckFixtures", "KernelCheckVerification", "KernelCheckTestSupport"]),
        .testTarget(
            name: "KernelCheckVerificationTests", dependencies: ["KernelCheckVerification", "KernelCheckTestSupport"]),
        .testTarget(
            name: "KernelCheckReportsTests",
            dependencies: [
                "KernelCheckReports", "KernelCheckProblems", "KernelCheckVerification", "KernelCheckTestSupport",
            ]
        ),
        .testTarget(
            name: "KernelCheckPluginsTests", dependencies: ["KernelCheckPlugins", "KernelCheckTestSupport"]),
        .testTarget(
            name: "kernelcheckTests", dependencies: ["kernelcheck", "KernelCheckFixtures", "KernelCheckTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
