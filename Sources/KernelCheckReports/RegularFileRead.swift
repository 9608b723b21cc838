import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Why a file given to read could not be read: one phrase, shown after the file's name.
struct UnreadableFile: Error {
    var reason: String
}

/// The whole content of a regular file of at most `maximumBytes`: not a directory (`inside`
/// names the file to give instead), a device or a FIFO (a read of `/dev/zero` would never
/// end); `tooLarge` says, after the size, what the file would have to be to be that large.
func readRegularFile(
    _ path: String, maximumBytes: Int, inside: String, tooLarge: String
) -> Result<Data, UnreadableFile> {
    func failure(_ reason: String) -> Result<Data, UnreadableFile> { .failure(UnreadableFile(reason: reason)) }
    // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard descriptor >= 0 else { return failure(String(cString: strerror(errno))) }
    let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    var info = stat()
    guard fstat(descriptor, &info) == 0 else { return failure(String(cString: strerror(errno))) }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: return failure("is a directory (give the \(inside) inside it)")
    default: return failure("not a regular file")
    }
    guard Int(info.st_size) <= maximumBytes else { return failure("\(info.st_size) bytes: \(tooLarge)") }
    do { return .success(try handle.readToEnd() ?? Data()) } catch {
        return failure("read failed: \(NightlyReport.jsonProblem(error))")
    }
}
