import Testing
import EpsilonTransport

// Replaced by the first real integration suite.
@Suite struct IntegrationTargetBuilds {
    @Test func transportModuleLinks() { #expect(PollerBackend.epollLevelTriggered != PollerBackend.epollEdgeTriggered) }
}
