/// Text from the user's input (a problem string, a group name) quoted in a one-line error:
/// an over-long one is cut so that a 1 MB attribute does not become a 1 MB message.
public enum MessageText {
    /// `text` cut to its first `limit` characters, followed by its full size in bytes.
    public static func clip(_ text: some StringProtocol, limit: Int = 120) -> String {
        text.count <= limit ? String(text) : "\(text.prefix(limit))… (\(text.utf8.count) bytes)"
    }
}
