import Foundation
import Registry
import Testing

/// Where logins come from, as skopeo and docker read them: the files in order, and within a file
/// credHelpers before credsStore before auths, namespaces before hosts. Tables, no I/O.
@Suite struct LoginPlanTests {
    static let home = "/home/u"

    struct FilesCase: Sendable, CustomTestStringConvertible {
        var name: String
        var authfile: String?
        var environment: [String: String]
        var expected: [String]
        var testDescription: String { name }
    }

    static let fileCases: [FilesCase] = [
        FilesCase(
            name: "defaults", authfile: nil, environment: [:],
            expected: ["/run/containers/1000/auth.json", "/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"]),
        FilesCase(
            name: "XDG_RUNTIME_DIR, XDG_CONFIG_HOME, DOCKER_CONFIG", authfile: nil,
            environment: ["XDG_RUNTIME_DIR": "/run/user/1000", "XDG_CONFIG_HOME": "/cfg", "DOCKER_CONFIG": "/dock"],
            expected: ["/run/user/1000/containers/auth.json", "/cfg/containers/auth.json", "/dock/config.json"]),
        FilesCase(
            name: "empty variables count as unset", authfile: nil, environment: ["XDG_RUNTIME_DIR": "", "DOCKER_CONFIG": "", "REGISTRY_AUTH_FILE": ""],
            expected: ["/run/containers/1000/auth.json", "/home/u/.config/containers/auth.json", "/home/u/.docker/config.json"]),
        FilesCase(
            name: "REGISTRY_AUTH_FILE alone", authfile: nil, environment: ["REGISTRY_AUTH_FILE": "/a.json", "XDG_RUNTIME_DIR": "/run/user/1000"],
            expected: ["/a.json"]),
        FilesCase(
            name: "--authfile beats REGISTRY_AUTH_FILE", authfile: "/flag.json", environment: ["REGISTRY_AUTH_FILE": "/a.json"],
            expected: ["/flag.json"]),
    ]

    @Test(arguments: fileCases)
    func filesAreReadInSkopeosOrder(_ test: FilesCase) {
        let files = LoginPlan.files(authfile: test.authfile, environment: test.environment, home: Self.home, uid: 1000)
        #expect(files.map(\.path) == test.expected)
        #expect(files.map(\.required) == test.expected.map { _ in test.authfile != nil })
        #expect(files.last?.kind == (test.expected.last?.hasSuffix("config.json") == true ? .docker : .containers))
    }

    static let alice = RegistryCredential(username: "alice", password: "a")
    static let bob = RegistryCredential(username: "bob", password: "b")
    static let carol = RegistryCredential(username: "carol", password: "c")

    struct StepCase: Sendable, CustomTestStringConvertible {
        var name: String
        var image: String
        var files: [AuthFile?]
        var expected: [LoginPlan.Step]
        var testDescription: String { name }
    }

    static let xdg = "/run/user/1/containers/auth.json"
    static let docker = "/home/u/.docker/config.json"

    static let stepCases: [StepCase] = [
        StepCase(
            name: "no files at all", image: "r.io/app",
            files: [nil, nil], expected: [.absent(path: xdg), .absent(path: docker)]),
        StepCase(
            name: "the first file with a login wins", image: "r.io/app",
            files: [AuthFile(path: xdg, kind: .containers, auths: ["r.io": alice]), AuthFile(path: docker, kind: .docker, auths: ["r.io": bob])],
            expected: [.use(alice, from: xdg)]),
        StepCase(
            name: "a file without an entry passes on", image: "r.io/app",
            files: [AuthFile(path: xdg, kind: .containers, auths: ["q.io": alice]), AuthFile(path: docker, kind: .docker, auths: ["r.io": bob])],
            expected: [.noEntry(path: xdg), .use(bob, from: docker)]),
        StepCase(
            name: "credHelpers before auths in the same file", image: "r.io/app",
            files: [AuthFile(path: docker, kind: .docker, auths: ["r.io": bob], credHelpers: ["r.io": "pass"])],
            expected: [.askHelper("pass", server: "r.io", source: "credHelpers in \(docker)")]),
        StepCase(
            name: "credHelpers before credsStore", image: "r.io/app",
            files: [AuthFile(path: docker, kind: .docker, credHelpers: ["r.io": "pass"], credsStore: "desktop")],
            expected: [.askHelper("pass", server: "r.io", source: "credHelpers in \(docker)")]),
        StepCase(
            name: "credsStore for a host without credHelpers, and auths unread (docker)", image: "q.io/app",
            files: [AuthFile(path: docker, kind: .docker, auths: ["q.io": bob], credHelpers: ["r.io": "pass"], credsStore: "desktop")],
            expected: [.askHelper("desktop", server: "q.io", source: "credsStore in \(docker)")]),
        StepCase(
            name: "a helper may have nothing: the next file is asked after it", image: "r.io/app",
            files: [AuthFile(path: xdg, kind: .containers, credHelpers: ["r.io": "secretservice"]), AuthFile(path: docker, kind: .docker, auths: ["r.io": bob])],
            expected: [.askHelper("secretservice", server: "r.io", source: "credHelpers in \(xdg)"), .use(bob, from: docker)]),
        StepCase(
            name: "the most specific namespace first", image: "r.io/team/app/web",
            files: [AuthFile(path: xdg, kind: .containers, auths: ["r.io": alice, "r.io/team": bob, "r.io/team/app": carol])],
            expected: [.use(carol, from: xdg)]),
        StepCase(
            name: "a namespace of another repository does not apply", image: "r.io/other/app",
            files: [AuthFile(path: xdg, kind: .containers, auths: ["r.io/team": bob]), AuthFile(path: docker, kind: .docker, auths: ["r.io": alice])],
            expected: [.noEntry(path: xdg), .use(alice, from: docker)]),
        StepCase(
            name: "Docker Hub: any alias; helpers are asked with docker's server name", image: "registry-1.docker.io/library/alpine",
            files: [AuthFile(path: docker, kind: .docker, credHelpers: ["registry-1.docker.io": "desktop"])],
            expected: [.askHelper("desktop", server: "https://index.docker.io/v1/", source: "credHelpers in \(docker)")]),
        StepCase(
            name: "a port is part of the host", image: "127.0.0.1:5000/app",
            files: [AuthFile(path: docker, kind: .docker, auths: ["127.0.0.1": alice, "127.0.0.1:5000": bob])],
            expected: [.use(bob, from: docker)]),
    ]

    @Test(arguments: stepCases)
    func stepsFollowTheFilesAndTheirEntries(_ test: StepCase) {
        let paths = [Self.xdg, Self.docker]
        let files = test.files.enumerated().map { index, file in
            (location: LoginPlan.FileLocation(path: file?.path ?? paths[index], kind: index == test.files.count - 1 ? .docker : .containers), file: file)
        }
        #expect(LoginPlan.steps(for: test.image, files: files) == test.expected)
    }

    @Test func authFileKeysAreNormalisedAndHelpersCountOnlyWhereDockerReadsThem() throws {
        let json = """
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "\(Data("alice:s3cr:et".utf8).base64EncodedString())"},
              "Quay.io/Team/": {"username": "bob", "password": "pw"},
              "127.0.0.1:5000": {}
            }, "credsStore": "desktop", "credHelpers": {"https://GHCR.io": "pass"}}
            """
        let docker = try AuthFile.parse(Data(json.utf8), path: "config.json", kind: .docker)
        #expect(docker.auths["registry-1.docker.io"] == RegistryCredential(username: "alice", password: "s3cr:et"))
        #expect(docker.auths["quay.io/Team"]?.username == "bob")
        #expect(docker.auths["127.0.0.1:5000"] == nil, "an empty entry is a helper's marker, not a login")
        #expect(docker.credHelpers == ["ghcr.io": "pass"])
        #expect(docker.credsStore == "desktop")
        let containers = try AuthFile.parse(Data(json.utf8), path: "auth.json", kind: .containers)
        #expect(containers.credsStore == nil, "containers/image does not read credsStore")
        #expect(!String(describing: docker.auths["quay.io/Team"]).contains("pw"))
    }

    @Test(arguments: ["{\"auths\": {\"r.io\": {\"auth\": \"!!!not base64\"}}}", "{\"auths\": {\"r.io\": {\"auth\": \"\(Data("nocolon".utf8).base64EncodedString())\"}}}", "not json"])
    func aBadFileIsAClearErrorNamingIt(_ text: String) {
        #expect {
            try AuthFile.parse(Data(text.utf8), path: "/home/u/.docker/config.json", kind: .docker)
        } throws: { error in
            (error as? RegistryError)?.message.contains("/home/u/.docker/config.json") == true
        }
    }

    @Test func adviceNamesTheSourcesNeverTheSecret() {
        let none = RegistryCredentials(tried: ["r.io": ["/x/auth.json (absent)", "docker-credential-pass (credsStore in /c.json): no login for r.io"]])
        let advice = none.loginAdvice(for: "r.io")
        #expect(advice.contains("/x/auth.json (absent)") && advice.contains("docker-credential-pass"), "\(advice)")
        let used = RegistryCredentials(["r.io": RegistryCredential(username: "erin", password: "hunter2")], sources: ["r.io": "--creds"])
        #expect(used.loginAdvice(for: "r.io").contains("erin from --creds"))
        #expect(!used.loginAdvice(for: "r.io").contains("hunter2"))
        #expect(used.credential(for: "other.io") == nil, "a login belongs to its registry")
        #expect(RegistryCredentials(anonymousReason: "--no-creds").loginAdvice(for: "r.io").contains("--no-creds"))
    }

    @Test func credsGoOnlyToTheRunsOneRegistry() throws {
        let one = try LoginResolver.resolve(.given(Self.alice), names: ["a.io/x", "a.io/y"], environment: [:])
        #expect(one.credential(for: "a.io") == Self.alice)
        #expect(one.credential(for: "b.io") == nil)
        #expect {
            try LoginResolver.resolve(.given(Self.alice), names: ["a.io/x", "b.io/y"], environment: [:])
        } throws: { error in
            (error as? RegistryError).map { $0.kind == .loginUnusable && $0.message.contains("a.io, b.io") } == true
        }
    }

    @Test func basicAuthorizationHeader() {
        #expect(RegistryCredential(username: "u", password: "p").basicAuthorization == "Basic dTpw")
    }
}
