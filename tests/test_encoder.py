"""The face encoder: dlib's ResNet converted to ONNX gives dlib's own descriptors, is cached
safely, and falls back to dlib only when the conversion fails."""

from __future__ import annotations

import json

import numpy as np
import pytest
import skimage.data
from conftest import CORPUS, unavailable
from PIL import Image

from photoguard.detect import dlib_faces, dlib_resnet, face_encoder
from photoguard.errors import DetectorError
from photoguard.types import Box

ASTRONAUT_HOG = Box(175, 76, 266, 167)


def _labelled_faces(count: int = 12) -> list[tuple[np.ndarray, Box]]:
    """Real faces from the corpus (dlib-style label squares of at least 60 px)."""
    if not (CORPUS / "labels.jsonl").exists():
        unavailable("the dev corpus (../shared/corpus) is not here")
    out = []
    for line in (CORPUS / "labels.jsonl").read_text().splitlines():
        record = json.loads(line)
        if not record["file"].endswith(".jpg"):
            continue
        big = [Box(*f) for f in record["faces"] if Box(*f).height >= 60][:2]
        if big:
            with Image.open(CORPUS / record["file"]) as im:
                rgb = np.ascontiguousarray(np.asarray(im.convert("RGB")))
            out += [(rgb, box) for box in big]
        if len(out) >= count:
            return out
    return out


def _dlib_descriptor(rgb: np.ndarray, box: Box) -> np.ndarray | None:
    """The reference: face_recognition's own call, dlib's network (no BLAS) on the same face."""

    api = dlib_faces._face_recognition_api()
    shape = dlib_faces._landmarks(rgb, box)
    if shape is None:
        return None
    return np.array(api.face_encoder.compute_face_descriptor(rgb, shape, 1))


def test_onnx_descriptors_equal_dlibs_on_real_faces():
    faces = [(skimage.data.astronaut(), ASTRONAUT_HOG), *_labelled_faces()]
    compared = 0
    for rgb, box in faces:
        [got] = dlib_faces.encode_faces(rgb, [box])
        want = _dlib_descriptor(rgb, box)
        assert (got is None) == (want is None)
        if want is not None:
            assert np.abs(got - want).max() <= 1e-4, box
            compared += 1
    assert compared >= 8
    assert dlib_faces.encoder_version().startswith("dlib-resnet-")
    assert "onnx" in dlib_faces.encoder_version()  # the fast path, not the fallback


def test_batched_faces_get_the_same_descriptors_as_one_at_a_time():
    faces = _labelled_faces(6)
    rgb = faces[0][0]
    boxes = [box for image, box in faces if image is rgb]
    together = dlib_faces.encode_faces(rgb, boxes)
    for box, enc in zip(boxes, together, strict=True):
        [alone] = dlib_faces.encode_faces(rgb, [box])
        np.testing.assert_allclose(enc, alone, atol=1e-5)


def test_conversion_is_cached_with_its_sha256_and_a_corrupt_copy_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOGUARD_CACHE_DIR", str(tmp_path))
    face_encoder.load.cache_clear()
    try:
        first = face_encoder.load()
        [model] = tmp_path.glob("*.onnx")
        assert model.read_bytes() == first.onnx
        assert not list(tmp_path.glob(".*.tmp"))  # written atomically: no leftovers
        model.write_bytes(first.onnx[:1000])  # a half-written or tampered file
        face_encoder.load.cache_clear()
        again = face_encoder.load()
        assert again.onnx == first.onnx
        assert model.read_bytes() == first.onnx
    finally:
        face_encoder.load.cache_clear()


def test_an_unexpected_network_layout_is_refused():
    layers = dlib_resnet.read_layers(face_encoder.dat_path().read_bytes())
    with pytest.raises(DetectorError):
        dlib_resnet.build_onnx(layers[:-3] + layers[-2:])  # a block cut short
    with pytest.raises(DetectorError):
        dlib_resnet.build_onnx([layers[0], *layers[2:]])  # no first convolution


def test_a_failed_conversion_falls_back_to_dlibs_network(monkeypatch):
    def broken(_data: bytes) -> list:
        raise DetectorError("dlib model: not the expected face-recognition ResNet layout")

    monkeypatch.setattr(face_encoder, "read_layers", broken)
    monkeypatch.setenv("PHOTOGUARD_CACHE_DIR", "/nonexistent/photoguard-cache")
    face_encoder.load.cache_clear()
    dlib_faces._onnx_encoder.cache_clear()
    try:
        with pytest.warns(UserWarning, match="dlib"):
            [enc] = dlib_faces.encode_faces(skimage.data.astronaut(), [ASTRONAUT_HOG])
        assert dlib_faces.encoder_version() == "dlib-resnet-v1"
        want = _dlib_descriptor(skimage.data.astronaut(), ASTRONAUT_HOG)
        np.testing.assert_array_equal(enc, want)
    finally:
        face_encoder.load.cache_clear()
        dlib_faces._onnx_encoder.cache_clear()


# -- the size rule, through the real pipeline ------------------------------------------------------


def _context(enrolled_from: np.ndarray):

    from photoguard.detect.registry import get
    from photoguard.pipeline import CheckContext
    from photoguard.settings import load_settings
    from photoguard.types import EnrolledPerson, MatchStatus

    [face] = get("faces").detect(enrolled_from)
    [encoding] = dlib_faces.encode_faces(enrolled_from, [face.box])
    person = EnrolledPerson("P1", encoding[None], False, MatchStatus.CONSENTED, "AUTH-000001")
    # Every stage runs: a file on which text or barcodes did not run can never pass.
    return CheckContext(settings=load_settings(None), enrolled=(person,))


def test_a_face_too_small_to_recognise_is_unconsented_by_rule_and_says_so(tmp_path):
    from photoguard.pipeline import check_file
    from photoguard.types import Verdict

    astronaut = skimage.data.astronaut()
    ctx = _context(astronaut)
    Image.fromarray(astronaut).save(tmp_path / "large.png")
    small = Image.fromarray(astronaut).resize((180, 180), Image.Resampling.LANCZOS)
    small.save(tmp_path / "small.png")  # the face is now ~32 px: found, but not recognisable

    large = check_file(tmp_path / "large.png", ctx)
    assert large.verdict is Verdict.PASS, large.reasons  # control: the same person, recognised
    result = check_file(tmp_path / "small.png", ctx)
    assert result.verdict is not Verdict.PASS
    assert any("too small to recognise" in r for r in result.reasons), result.reasons
    faces = [r for r in result.regions if r.kind.value == "face"]
    assert faces and all(r.authorization is None for r in faces)
