import OCI

/// The names an output carries for an image, derived from `registry/repository:tag`.
///
/// Docker Hub images get the short names `docker save` writes (`hitch:latest`, `owner/name:tag`),
/// which `docker load` and `podman load` both expand back to `docker.io/...`; images from other
/// registries keep their full name (`127.0.0.1:5000/a/b:tag`). Without a tag nothing is named.
struct ImageNaming: Equatable {
    /// `RepoTags` entry in a docker-archive `manifest.json`.
    var repoTag: String?
    /// Repository key in a docker-archive `repositories` file.
    var repository: String?
    /// `org.opencontainers.image.ref.name`: the tag alone.
    var tag: String?
    /// `io.containerd.image.name`: the full name, Docker Hub as `docker.io/...`.
    var containerdName: String?

    init(_ name: String?) throws {
        guard let name, !name.isEmpty else { return }
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: name)
        } catch let error as OCIError {
            throw ArtifactsError(.invalidImage, "cannot name the output after \"\(name)\": \(error.message)")
        }
        let lastComponent = name.split(separator: "/").last ?? ""
        guard reference.digest == nil, lastComponent.contains(":"), let tag = reference.tag else { return }
        let isDockerHub = reference.registry == ImageReference.dockerHubRegistry
        let repository = isDockerHub ? reference.familiarName : reference.name
        self.repository = repository
        self.tag = tag
        repoTag = "\(repository):\(tag)"
        containerdName = isDockerHub ? "docker.io/\(reference.repository):\(tag)" : "\(reference.name):\(tag)"
    }
}
