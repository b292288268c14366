#!/usr/bin/env python3
"""Builds a Homebrew-shaped bottle image and its formula API document, for tests and demos.

    make-bottle-image.py --layout DIR --formula hello --version 1.2.3 \
        --tags arm64_sonoma,sonoma,x86_64_linux [--revision R] [--rebuild N] [--seed S] \
        [--bad-annotation TAG] [--api-dir DIR --root-url URL]

Writes an OCI image layout at DIR whose one image is an OCI index shaped like the ones
Homebrew pushes to ghcr.io (Library/Homebrew/github_packages.rb): one entry per bottle tag with
annotations org.opencontainers.image.ref.name = "PKGVERSION.TAG[.REBUILD]" and
sh.brew.bottle.digest = the bottle's sha256, a platform {architecture, os, os.version}, and a
manifest whose single layer is the bottle (a deterministic tar.gz). Push it with

    skopeo copy --all --preserve-digests oci:DIR:IMAGETAG docker://HOST/homebrew/core/hello:IMAGETAG

With --api-dir, also writes API_DIR/FORMULA.json as the formula API serves it
(versions.stable, revision, bottle.stable.rebuild, bottle.stable.files.TAG.{url, sha256}).
--bad-annotation TAG gives that entry an annotation that does not match its own layer.
Prints a JSON summary (image tag, index digest, per-tag digests) on stdout.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import tarfile

MACOS = {"tahoe": "26", "sequoia": "15", "sonoma": "14", "ventura": "13", "monterey": "12", "big_sur": "11"}


def platform_for(tag):
    if tag == "x86_64_linux":
        return {"architecture": "amd64", "os": "linux", "os.version": "Ubuntu 22.04"}
    if tag == "arm64_linux":
        return {"architecture": "arm64", "os": "linux", "os.version": "Ubuntu 22.04"}
    arch, name = ("arm64", tag[len("arm64_"):]) if tag.startswith("arm64_") else ("amd64", tag)
    if name not in MACOS:
        raise SystemExit(f"unknown bottle tag {tag}")
    return {"architecture": arch, "os": "darwin", "os.version": f"macOS {MACOS[name]}"}


class Layout:
    def __init__(self, root):
        self.root = root
        os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)

    def put(self, data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.root, "blobs", "sha256", digest), "wb") as handle:
            handle.write(data)
        return digest, len(data)

    def put_json(self, value):
        return self.put(json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


def bottle(formula, pkg_version, tag, seed):
    """A deterministic bottle: FORMULA/PKGVERSION/{bin/FORMULA,INSTALL_RECEIPT.json}."""
    rng = random.Random(f"{seed}-{formula}-{pkg_version}-{tag}")
    files = {
        f"{formula}/{pkg_version}/bin/{formula}": ("#!/bin/sh\necho %s %s %s\n" % (formula, pkg_version, tag)).encode()
        + bytes(rng.getrandbits(8) for _ in range(4096)),
        f"{formula}/{pkg_version}/INSTALL_RECEIPT.json": json.dumps({"homebrew_version": "4.4.0", "tag": tag}).encode(),
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o755 if "/bin/" in name else 0o644
            tar.addfile(info, io.BytesIO(data))
    tar_bytes = raw.getvalue()
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", mtime=0) as gz:
        gz.write(tar_bytes)
    return tar_bytes, compressed.getvalue()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", required=True)
    parser.add_argument("--formula", required=True)
    parser.add_argument("--version", required=True)
    parser.add_argument("--revision", type=int, default=0)
    parser.add_argument("--rebuild", type=int, default=0)
    parser.add_argument("--tags", default="arm64_sonoma,sonoma,x86_64_linux")
    parser.add_argument("--seed", default="1")
    parser.add_argument("--bad-annotation", default="")
    parser.add_argument("--api-dir", default="")
    parser.add_argument("--root-url", default="https://ghcr.io/v2/homebrew/core")
    args = parser.parse_args()

    pkg_version = args.version + (f"_{args.revision}" if args.revision > 0 else "")
    image_tag = pkg_version + (f"-{args.rebuild}" if args.rebuild > 0 else "")
    layout = Layout(args.layout)
    entries, summary_tags, api_files = [], {}, {}
    image_name = args.formula.replace("@", "/").replace("+", "x")
    for tag in [t for t in args.tags.split(",") if t]:
        platform = platform_for(tag)
        tar_bytes, gz_bytes = bottle(args.formula, pkg_version, tag, args.seed)
        layer_hex, layer_size = layout.put(gz_bytes)
        config = {
            "architecture": platform["architecture"], "os": platform["os"], "os.version": platform["os.version"],
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(tar_bytes).hexdigest()]},
        }
        config_hex, config_size = layout.put_json(config)
        ref_name = f"{pkg_version}.{tag}" + (f".{args.rebuild}" if args.rebuild > 0 else "")
        filename = f"{args.formula}--{pkg_version}.{tag}.bottle" + (f".{args.rebuild}" if args.rebuild > 0 else "") + ".tar.gz"
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + config_hex, "size": config_size},
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + layer_hex, "size": layer_size,
                "annotations": {"org.opencontainers.image.title": filename},
            }],
            "annotations": {"org.opencontainers.image.ref.name": ref_name, "sh.brew.bottle.digest": layer_hex},
        }
        manifest_hex, manifest_size = layout.put_json(manifest)
        annotation = layer_hex
        if tag == args.bad_annotation:
            annotation = hashlib.sha256(b"not the bottle " + layer_hex.encode()).hexdigest()
        entries.append({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + manifest_hex, "size": manifest_size,
            "platform": platform,
            "annotations": {
                "org.opencontainers.image.ref.name": ref_name, "sh.brew.bottle.digest": annotation,
                "sh.brew.bottle.size": str(layer_size),
            },
        })
        summary_tags[tag] = {"layer": "sha256:" + layer_hex, "size": layer_size, "manifest": "sha256:" + manifest_hex,
                             "refName": ref_name, "filename": filename, "annotation": "sha256:" + annotation}
        api_files[tag] = {"cellar": ":any_skip_relocation", "url": f"{args.root_url}/{image_name}/blobs/sha256:{layer_hex}", "sha256": layer_hex}
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
        "annotations": {"org.opencontainers.image.ref.name": image_tag, "org.opencontainers.image.title": args.formula,
                        "org.opencontainers.image.version": pkg_version},
    }
    index_hex, index_size = layout.put_json(index)
    with open(os.path.join(args.layout, "oci-layout"), "w") as handle:
        json.dump({"imageLayoutVersion": "1.0.0"}, handle)
    with open(os.path.join(args.layout, "index.json"), "w") as handle:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + index_hex, "size": index_size,
            "annotations": {"org.opencontainers.image.ref.name": image_tag}}]}, handle)
    if args.api_dir:
        os.makedirs(args.api_dir, exist_ok=True)
        document = {
            "name": args.formula, "full_name": args.formula, "tap": "homebrew/core",
            "versions": {"stable": args.version, "head": None, "bottle": True},
            "revision": args.revision,
            "bottle": {"stable": {"rebuild": args.rebuild, "root_url": args.root_url, "files": api_files}},
        }
        with open(os.path.join(args.api_dir, args.formula + ".json"), "w") as handle:
            json.dump(document, handle, indent=1)
    print(json.dumps({"imageTag": image_tag, "index": "sha256:" + index_hex, "repository": image_name, "tags": summary_tags}, sort_keys=True))


if __name__ == "__main__":
    main()
