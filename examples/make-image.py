#!/usr/bin/env python3
# Writes a synthetic container image as an OCI image layout: deterministic tar.gz layers,
# a config with correct diff_ids, a manifest (OCI or Docker schema2), optionally a multi-platform
# index with Docker-style attestation manifests. Reads a JSON spec on stdin, prints a JSON summary.
# Used by the tests (Tests/TestSupport), `make demo` and `make bench`.
import gzip, hashlib, json, os, random, sys, tarfile, tempfile

spec = json.loads(sys.stdin.read())
root = spec["dir"]
docker = spec["mediaTypes"] == "docker"
content = spec["content"]
seed = spec["seed"]
blobs = os.path.join(root, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)

if docker:
    MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
    INDEX = "application/vnd.docker.distribution.manifest.list.v2+json"
    CONFIG = "application/vnd.docker.container.image.v1+json"
    LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
else:
    MANIFEST = "application/vnd.oci.image.manifest.v1+json"
    INDEX = "application/vnd.oci.image.index.v1+json"
    CONFIG = "application/vnd.oci.image.config.v1+json"
    LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
INTOTO = "application/vnd.in-toto+json"
EPOCH = "1970-01-01T00:00:00Z"


def put_bytes(data, media_type):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(blobs, digest[7:])
    if not os.path.exists(path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def put_json(obj, media_type):
    # Docker-style 3-space indentation, keys in insertion order: bytes a client must not re-serialise.
    return put_bytes(json.dumps(obj, indent=3).encode() + b"\n", media_type)


class Tee:
    def __init__(self, target):
        self.target = target
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data):
        self.sha.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self):
        pass


class Content:
    # A readable stream of `size` seeded bytes: incompressible (random) or compressible (hex text).

    def __init__(self, rng, size, kind):
        self.rng, self.left, self.kind = rng, size, kind

    def read(self, n=-1):
        if n is None or n < 0 or n > self.left:
            n = self.left
        n = min(n, 1 << 20)
        self.left -= n
        if self.kind == "incompressible":
            return self.rng.randbytes(n)
        return self.rng.randbytes((n + 1) // 2).hex().encode()[:n]


def make_layer(platform_key, index, size):
    rng = random.Random(f"3tofu-{seed}-{platform_key}-{index}")
    fd, tmp = tempfile.mkstemp(dir=blobs, suffix=".layer")
    with os.fdopen(fd, "wb") as raw:
        compressed = Tee(raw)
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=spec["gzipLevel"])
        uncompressed = Tee(gz)
        tar = tarfile.open(fileobj=uncompressed, mode="w|", format=tarfile.USTAR_FORMAT)
        folder = tarfile.TarInfo(f"layer{index}")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, 0
        tar.addfile(folder)
        item = tarfile.TarInfo(f"layer{index}/data-{platform_key.replace('/', '-')}.bin")
        item.size, item.mode, item.mtime = size, 0o644, 0
        tar.addfile(item, Content(rng, size, content))
        tar.close()
        gz.close()
    digest = "sha256:" + compressed.sha.hexdigest()
    os.replace(tmp, os.path.join(blobs, digest[7:]))
    return (
        {"mediaType": LAYER, "digest": digest, "size": compressed.size},
        "sha256:" + uncompressed.sha.hexdigest(),
        uncompressed.size,
    )


def platform_key(p):
    return "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)


def make_image(p):
    key = platform_key(p)
    layers, diff_ids, sizes = [], [], []
    for i, size in enumerate(spec["layers"]):
        descriptor, diff_id, tar_size = make_layer(key, i, size)
        layers.append(descriptor)
        diff_ids.append(diff_id)
        sizes.append(tar_size)
    config = {"architecture": p["architecture"], "os": p["os"]}
    if p.get("variant"):
        config["variant"] = p["variant"]
    config.update({
        "created": EPOCH,
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": EPOCH, "created_by": f"3tofu test layer {i}"} for i in range(len(layers))],
    })
    config_descriptor = put_json(config, CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_descriptor, "layers": layers}
    manifest_descriptor = put_json(manifest, MANIFEST)
    return {
        "platform": key,
        "manifest": manifest_descriptor,
        "config": config_descriptor,
        "layers": [dict(l, diffID=d, uncompressedSize=s) for l, d, s in zip(layers, diff_ids, sizes)],
    }


def make_attestation(image):
    subject = image["manifest"]["digest"]
    statement = {
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": f"pkg:docker/3tofu-test@latest?platform={image['platform'].replace('/', '%2F')}",
                     "digest": {"sha256": subject[7:]}}],
        "predicate": {"builder": {"id": "3tofu-test-fixtures"}, "buildType": "https://mobyproject.org/buildkit@v1"},
    }
    layer = put_bytes(json.dumps(statement, indent=2).encode(), INTOTO)
    layer["annotations"] = {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}
    config = {"architecture": "unknown", "os": "unknown", "config": {},
              "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}
    config_descriptor = put_json(config, OCI_CONFIG)
    manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_descriptor, "layers": [layer]}
    descriptor = put_json(manifest, OCI_MANIFEST)
    return {"subject": subject, "manifest": descriptor}


images = [make_image(p) for p in spec["platforms"]]
attestations = []
if spec["index"]:
    entries = []
    for p, image in zip(spec["platforms"], images):
        platform = {"architecture": p["architecture"], "os": p["os"]}
        if p.get("variant"):
            platform["variant"] = p["variant"]
        entries.append(dict(image["manifest"], platform=platform))
    if spec["attestations"]:
        for image in images:
            attestation = make_attestation(image)
            attestations.append(attestation)
            entry = dict(attestation["manifest"])
            entry["annotations"] = {
                "vnd.docker.reference.digest": attestation["subject"],
                "vnd.docker.reference.type": "attestation-manifest",
            }
            entry["platform"] = {"architecture": "unknown", "os": "unknown"}
            entries.append(entry)
    top = put_json({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries}, INDEX)
else:
    top = images[0]["manifest"]

layout_entry = dict(top, annotations={"org.opencontainers.image.ref.name": spec["refName"]})
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [layout_entry]}, f, indent=2)
with open(os.path.join(root, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)

json.dump({"top": top, "images": images, "attestations": attestations}, sys.stdout, sort_keys=True)
