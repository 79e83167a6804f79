"""The ``httpx.AsyncClient`` under :class:`~ecs_notebook.client.EcsClient`."""

from __future__ import annotations

from typing import Any

import httpx

from ..errors import ConfigurationError

NO_COOKIES = "the ECS client sends no cookies: the API authenticates each request by itself"


class _NoCookies(httpx.Cookies):
    """A cookie store that keeps nothing.

    :class:`~ecs_notebook.client.EcsClient` sends requests it built itself (never through
    ``build_request``, which is where httpx adds stored cookies), so no stored cookie would
    ever be sent: the API authenticates each request by signature or token. Storing them
    anyway cost a URL parse and a cookie-jar pass per answer (``bench_transport.py``).
    """

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ApiHttpClient(httpx.AsyncClient):
    """httpx's client, minus the cookie store that nothing here would read."""

    def __init__(self, **options: Any) -> None:
        if options.get("cookies"):
            raise ConfigurationError(NO_COOKIES)
        super().__init__(**options)
        self._kept_cookies: httpx.Cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._kept_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise ConfigurationError(NO_COOKIES)
