"""The body we send is byte for byte what the official SDK sends; invalid input gives no body."""

from __future__ import annotations

import base64
import string

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from ecs_notebook.model import ReinstallRequest, UserData, ValidationError

pytestmark = pytest.mark.sdk

sdk_client = pytest.importorskip("huaweicloudsdkcore.client")
ecs_model = pytest.importorskip("huaweicloudsdkecs.v2.model")

PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!@$%^-_=+[{}]:,./?" + " #é"

passwords = st.one_of(
    st.none(),
    st.none(),
    st.text(alphabet=PASSWORD_ALPHABET, min_size=0, max_size=30),
    st.sampled_from(["Abcd@1234xyz", "abcd1234!", "ABCD-1234"]),
)
keynames = st.one_of(
    st.none(),
    st.none(),
    st.sampled_from(["KeyPair-demo", "k.1_x", "bad name"]),
    st.text(max_size=70),
)
userids = st.one_of(
    st.just("7e25b1da389f4697a79df3a0e5bfa2a8"),
    st.just("7e25b1da389f4697a79df3a0e5bfa2a8"),
    st.none(),
    st.text(max_size=40),
)
modes = st.one_of(
    st.none(), st.just("withStopServer"), st.just("withStopServer"), st.text(max_size=15)
)
user_data = st.one_of(
    st.none(),
    st.text(max_size=200).map(UserData.from_text),
    st.binary(max_size=200).map(UserData.from_bytes),
    st.integers(32 * 1024 - 2, 32 * 1024 + 2).map(lambda n: UserData.from_bytes(b"x" * n)),
)
byols = st.one_of(
    st.none(), st.none(), st.booleans(), st.sampled_from(["true", "false", "TRUE", ""])
)
encrypts = st.one_of(st.none(), st.booleans())
cmk_ids = st.one_of(
    st.none(), st.none(), st.none(), st.text(alphabet="0123456789abcdef-", min_size=30, max_size=40)
)

requests = st.builds(
    ReinstallRequest,
    adminpass=passwords,
    keyname=keynames,
    userid=userids,
    mode=modes,
    user_data=user_data,
    byol=byols,
    encrypt_system_disk=encrypts,
    cmk_id=cmk_ids,
)


def sdk_body(request: ReinstallRequest) -> bytes:
    """What the official SDK serialises for the same inputs (``Client._parse_body``)."""
    ud = request.user_data
    metadata = ecs_model.ReinstallSeverMetadata(
        system__encrypted=None
        if request.encrypt_system_disk is None
        else ("1" if request.encrypt_system_disk else "0"),
        system__cmkid=request.cmk_id,
        user_data=base64.b64encode(ud.raw).decode() if ud else None,
        byol="true" if request.byol in (True, "true") else None,
    )
    has_metadata = any(
        getattr(metadata, a) is not None
        for a in ("system__encrypted", "system__cmkid", "user_data", "byol")
    )
    option = ecs_model.ReinstallServerWithCloudInitOption(
        adminpass=request.adminpass.reveal() if request.adminpass else None,
        keyname=request.keyname,
        userid=request.userid,
        metadata=metadata if has_metadata else None,
        mode=request.mode,
    )
    body = ecs_model.ReinstallServerWithCloudInitRequestBody(os_reinstall=option)
    wire = sdk_client.Client._parse_body(body)
    assert isinstance(wire, str)
    return wire.encode("ascii")


@settings(max_examples=2000)
@given(requests)
def test_valid_bodies_match_the_sdk_and_invalid_ones_are_never_built(
    request: ReinstallRequest,
) -> None:
    problems = request.validate(region="tr-west-1")
    invalid = any(p.severity == "error" for p in problems)
    event("invalid" if invalid else "valid")
    if invalid:
        with pytest.raises(ValidationError) as caught:
            request.to_json()
        assert caught.value.problems
    else:
        assert request.to_json() == sdk_body(request)


@pytest.mark.parametrize(
    "request_",
    [
        ReinstallRequest(
            keyname="KeyPair-demo", userid="7e25b1da389f4697a79df3a0e5bfa2a8", mode="withStopServer"
        ),
        ReinstallRequest(adminpass="Abcd@1234xyz", mode="withStopServer", byol=True),
        ReinstallRequest(
            user_data=UserData.from_text("#!/bin/bash\necho hello"),
            encrypt_system_disk=True,
            cmk_id="0" * 36,
        ),
    ],
)
def test_documented_examples_match_the_sdk(request_: ReinstallRequest) -> None:
    assert request_.to_json() == sdk_body(request_)
