"""What the distributor's routes share: the running parts, and the admin-token check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request

from services.common.http import ApiError
from services.common.platform_keys import bearer_token
from services.distributor.operations import Distributor


def get_distributor(request: Request) -> Distributor:
    distributor: Distributor = request.app.state.distributor
    return distributor


DistributorDep = Annotated[Distributor, Depends(get_distributor)]


def is_admin(request: Request, distributor: Distributor) -> bool:
    token = bearer_token(request)
    expected = distributor.settings.admin_token.get_secret_value()
    return token is not None and hmac.compare_digest(token.encode(), expected.encode())


def require_admin(request: Request, distributor: DistributorDep) -> Distributor:
    """The distributor, if the request carries the admin token; else 401."""
    if not is_admin(request, distributor):
        raise ApiError(
            401,
            "unauthenticated",
            "this endpoint needs the admin token as 'Authorization: Bearer <token>'",
            ("Authorization", "missing or wrong admin token"),
            headers={"WWW-Authenticate": "Bearer"},
        )
    return distributor


AdminDep = Annotated[Distributor, Depends(require_admin)]
