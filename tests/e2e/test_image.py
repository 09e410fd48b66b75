"""The OCI image (make image, scripts/oci-image): built twice from the same
inputs it has the same digest; its config runs /remediate as UID 65532
with the OCI annotations; its root file system holds no shell, and
`remediate version` and `check` run inside it (chroot) as that UID."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from conftest import ROOT, binary, unsanitized

OCI = os.path.join(ROOT, "scripts", "oci-image")
IS_ROOT = os.geteuid() == 0
VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()


def build(out, epoch="1764979200"):
    env = dict(os.environ, SOURCE_DATE_EPOCH=epoch,
               IMAGE_SOURCE="https://example.invalid/remediate")
    p = subprocess.run([OCI, binary(), str(out)], capture_output=True,
                       text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()[0]


def blob(layout, desc):
    path = os.path.join(layout, "blobs", "sha256",
                        desc["digest"].split(":", 1)[1])
    with open(path, "rb") as f:
        data = f.read()
    # content-addressed: the name is the digest of the bytes
    assert "sha256:" + hashlib.sha256(data).hexdigest() == desc["digest"]
    assert len(data) == desc["size"]
    return data


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    out = tmp_path_factory.mktemp("image")
    digest = build(out)
    layout = os.path.join(str(out), "layout")
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    man_desc = index["manifests"][0]
    manifest = json.loads(blob(layout, man_desc))
    config = json.loads(blob(layout, manifest["config"]))
    layer = gzip.decompress(blob(layout, manifest["layers"][0]))
    return {"out": out, "digest": digest, "index": index,
            "manifest": manifest, "config": config, "layer": layer}


def test_same_inputs_same_digest(image, tmp_path):
    again = build(tmp_path / "again")
    assert again == image["digest"]
    name = "remediate-%s.oci.tar" % VERSION
    with open(os.path.join(str(image["out"]), name), "rb") as a, \
            open(str(tmp_path / "again" / name), "rb") as b:
        assert a.read() == b.read()
    # another SOURCE_DATE_EPOCH is another image
    assert build(tmp_path / "other", epoch="1700000000") != again


def test_layout_and_config(image):
    with open(os.path.join(str(image["out"]), "layout",
                           "oci-layout")) as f:
        assert json.load(f) == {"imageLayoutVersion": "1.0.0"}
    assert image["index"]["manifests"][0]["digest"] == image["digest"]
    assert image["index"]["manifests"][0]["annotations"][
        "org.opencontainers.image.ref.name"] == VERSION
    m = image["manifest"]
    assert m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    a = m["annotations"]
    assert a["org.opencontainers.image.version"] == VERSION
    assert a["org.opencontainers.image.source"] == \
        "https://example.invalid/remediate"
    assert a["org.opencontainers.image.created"] == "2025-12-06T00:00:00Z"
    c = image["config"]
    assert (c["os"], c["architecture"]) == ("linux", "amd64")
    assert c["config"]["User"] == "65532:65532"
    assert c["config"]["Entrypoint"] == ["/remediate"]
    assert c["config"]["Labels"] == a
    assert c["rootfs"]["diff_ids"] == [
        "sha256:" + hashlib.sha256(image["layer"]).hexdigest()]


def test_only_the_binary_its_libraries_and_their_data(image):
    with tarfile.open(fileobj=io.BytesIO(image["layer"])) as t:
        members = t.getmembers()
    names = {m.name for m in members}
    assert "remediate" in names
    assert all(m.uid == 0 and m.gid == 0 and m.mtime == 1764979200
               for m in members)
    for m in members:
        top = m.name.split("/")[0]
        assert top in ("remediate", "lib", "lib64", "usr", "etc", "tmp"), \
            m.name
        assert not m.name.startswith(("bin", "sbin", "usr/bin",
                                      "usr/sbin")), m.name
        base = os.path.basename(m.name)
        assert base not in ("sh", "bash", "dash", "busybox", "apt",
                            "dpkg"), m.name
    libs = {os.path.basename(n) for n in names
            if n.startswith("usr/lib/x86_64-linux-gnu/")}
    ldd = subprocess.run(["ldd", binary()], capture_output=True,
                         text=True).stdout
    want = {line.split()[0] for line in ldd.splitlines()
            if "=>" in line and "/" in line.split("=>")[1]}
    want.add("ld-linux-x86-64.so.2")
    assert libs == want


@pytest.mark.skipif(not IS_ROOT, reason="chroot needs root")
@unsanitized("the image's root has no /proc, where a sanitizer reads its "
             "options (ASAN_OPTIONS) and threads: it starts LeakSanitizer "
             "and dies")
def test_runs_inside_as_its_uid(image, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    with tarfile.open(fileobj=io.BytesIO(image["layer"])) as t:
        t.extractall(str(root))
    shutil.copytree(os.path.join(ROOT, "examples", "seed", "manifests"),
                    str(root / "tmp" / "manifests"))
    os.chmod(str(root / "tmp"), 0o1777)
    user = "--userspec=65532:65532"

    def inside(*args):
        return subprocess.run(["chroot", user, str(root)] + list(args),
                              capture_output=True, text=True, timeout=60)
    p = inside("/remediate", "version")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("remediate %s " % VERSION)
    p = inside("/remediate", "check", "-c", "/tmp/manifests")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "4 manifests, 0 errors, 0 warnings"
    # as that user, not root: a root-only file is unreadable to it
    secret = root / "tmp" / "root-only.yaml"
    shutil.copy(os.path.join(ROOT, "examples", "seed", "manifests",
                             "config.yaml"), str(secret))
    os.chmod(str(secret), 0o600)
    p = inside("/remediate", "check", "-c", "/tmp/root-only.yaml")
    assert p.returncode == 1 and "Permission denied" in p.stderr, p.stderr
    assert subprocess.run(["chroot", str(root), "/remediate", "check", "-c",
                           "/tmp/root-only.yaml"],
                          capture_output=True).returncode == 0
    p = inside("/remediate", "rbac", "-c", "/tmp/manifests")
    assert p.returncode == 0 and "kind: ClusterRole" in p.stdout
    # no shell to run anything else with
    assert inside("/bin/sh", "-c", "true").returncode != 0


def test_dockerfile_makes_the_same_layout():
    with open(os.path.join(ROOT, "Dockerfile")) as f:
        text = f.read()
    final = text[text.rindex("FROM "):]
    assert final.startswith("FROM scratch")
    assert "scripts/image-rootfs build/remediate /rootfs" in text
    assert "COPY --from=build /rootfs/ /" in final
    assert "USER 65532:65532" in final
    assert 'ENTRYPOINT ["/remediate"]' in final
    assert "org.opencontainers.image.version" in final
