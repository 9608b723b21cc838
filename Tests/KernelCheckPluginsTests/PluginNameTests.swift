import KernelCheckPlugins
import Testing

@Suite struct PluginNameTests {
    @Test func builtInNamesAreNotPlugins() throws {
        #expect(try Plugins.implementation(named: "tiled") == nil)
    }

    @Test(arguments: ["lib:", "exec:"])
    func emptyPluginNamesAreRefused(name: String) {
        #expect(throws: PluginError.emptyName(prefix: name)) { try Plugins.implementation(named: name) }
    }
}
