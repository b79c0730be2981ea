"""The GPU round trip's last step: an archive of weights is unpacked only if every sha256 matches."""

import io
import json
import shutil
import tarfile

import pytest

from utils.zoo import archive as zoo_archive
from utils.zoo import checkpoints


@pytest.fixture()
def small_zoo(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    entry = checkpoints.read_manifest()["patchnet"]
    shutil.copy(checkpoints.WEIGHTS_DIR / entry["file"], source / entry["file"])
    (source / "manifest.json").write_text(json.dumps({"models": {"patchnet": entry}}))
    return source


def test_pack_then_unpack_restores_the_same_bytes(small_zoo, tmp_path):
    archive = tmp_path / "zoo.tar.gz"
    assert zoo_archive.pack(archive, small_zoo) == ["manifest.json", "patchnet.safetensors"]
    target = tmp_path / "target"
    target.mkdir()
    manifest = zoo_archive.unpack(archive, target)
    assert list(manifest) == ["patchnet"]
    assert (target / "patchnet.safetensors").read_bytes() == (small_zoo / "patchnet.safetensors").read_bytes()


def test_a_corrupt_archive_changes_nothing(small_zoo, tmp_path, capsys):
    archive = tmp_path / "zoo.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(small_zoo / "manifest.json", arcname="weights/manifest.json")
        data = b"not the trained weights"
        info = tarfile.TarInfo("weights/patchnet.safetensors")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    target = tmp_path / "target"
    target.mkdir()
    with pytest.raises(SystemExit) as exit_info:
        zoo_archive.main(["unpack", str(archive), "--weights-dir", str(target)])
    assert exit_info.value.code == 2 and "does not match the manifest" in capsys.readouterr().err
    assert not any(target.iterdir())


def test_the_seed_records_travel_with_the_weights(small_zoo, tmp_path):
    seeds = tmp_path / "seeds.json"
    seeds.write_text(json.dumps({"patchnet": {"1": {"metrics": {"miou": 0.5}, "trained": {"device": "cuda: test"}}}}))
    archive, target = tmp_path / "zoo.tar.gz", tmp_path / "target"
    target.mkdir()
    zoo_archive.pack(archive, small_zoo, extra=(seeds,))
    zoo_archive.unpack(archive, target)
    assert (target / "seeds.json").read_text() == seeds.read_text()
    bare = tmp_path / "bare.tar.gz"
    zoo_archive.pack(bare, small_zoo)
    (target / "seeds.json").unlink()
    zoo_archive.unpack(bare, target)
    assert not (target / "seeds.json").exists(), "an archive without seed records leaves them alone"
