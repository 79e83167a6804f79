"""Authentication: AK/SK request signing and IAM tokens, with credential loading."""

from .aksk import AkSkAuth
from .credentials import (
    AkSkCredentials,
    Credentials,
    IamPasswordCredentials,
    from_environment,
    from_file,
    load_credentials,
)
from .signing import SignedParts, canonical_query, canonical_request, sign
from .token import TokenAuth

__all__ = [
    "AkSkAuth",
    "AkSkCredentials",
    "Credentials",
    "IamPasswordCredentials",
    "SignedParts",
    "TokenAuth",
    "canonical_query",
    "canonical_request",
    "from_environment",
    "from_file",
    "load_credentials",
    "sign",
]
