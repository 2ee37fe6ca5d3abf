from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from mexc_samples import load_sample

from cexarb.config import Secret
from cexarb.venues.mexc.auth import API_KEY_HEADER, MexcSigner, sign_payload


@dataclass
class FakeRequest:
    """The fields of transport.http.PreparedRequest the signer touches."""

    method: str
    path: str
    query: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def test_every_ccxt_vector_reproduces_url_and_header(vectors):
    spot = vectors["mexc_spot"]
    creds = spot["credentials"]
    signer = MexcSigner(Secret(creds["apiKey"]), Secret(creds["secret"]), creds["recvWindow"])
    assert len(spot["vectors"]) == 4
    for vec in spot["vectors"]:
        assert sign_payload(creds["secret"], vec["signed_payload"]) == vec["signature"]
        url = urlsplit(vec["request"]["url"])
        unsigned_query = vec["signed_payload"].removesuffix(
            f"&timestamp={creds['timestamp_ms']}&recvWindow=5000"
        )
        unsigned_query = "" if unsigned_query.startswith("timestamp=") else unsigned_query
        req = FakeRequest(vec["request"]["method"], url.path, unsigned_query)
        signer(req, creds["timestamp_ms"])
        assert req.query == url.query, vec["name"]
        assert req.headers[API_KEY_HEADER] == creds["apiKey"]


def test_official_doc_vectors(vectors):
    for vec in vectors["mexc_spot"]["official_doc_vectors"]:
        assert sign_payload(vec["secret"], vec["signed_payload"]) == vec["signature"]


def test_signing_samples_including_mixed_query_and_body():
    samples = [s for s in load_sample("mexc_signing.json") if "secret_key" in s["request"]]
    assert len(samples) == 2
    for s in samples:
        req = s["request"]
        assert sign_payload(req["secret_key"], req["totalParams"]) == s["response"]["signature"]
    # Mixed: the signer concatenates query and body without '&'.
    mixed = samples[1]["request"]
    body = mixed["body"].encode()
    req = FakeRequest("POST", "/api/v3/order", mixed["query_string"], body=body)
    signer = MexcSigner(Secret("k"), Secret(mixed["secret_key"]), 5000)
    signer(req, 1644489390087)
    sig = req.query.rpartition("signature=")[2]
    expected = sign_payload(
        mixed["secret_key"],
        mixed["query_string"] + "&timestamp=1644489390087&recvWindow=5000" + mixed["body"],
    )
    assert sig == expected
    assert req.body == body


def test_signer_repr_hides_secrets():
    signer = MexcSigner(Secret("visible-key"), Secret("top-secret"), 5000)
    assert "top-secret" not in repr(signer) and "visible-key" not in repr(signer)


@pytest.mark.parametrize("ts", [1, 1700000000000])
def test_signature_is_lowercase_hex_of_sha256(ts):
    req = FakeRequest("GET", "/api/v3/account", "")
    MexcSigner(Secret("k"), Secret("s"), 60000)(req, ts)
    sig = req.query.rpartition("signature=")[2]
    assert len(sig) == 64 and sig == sig.lower()
    assert req.query.startswith(f"timestamp={ts}&recvWindow=60000&signature=")
