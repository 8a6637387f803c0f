"""wechatpy's WeCom client, made safe for a server: one token per process, fetched under a lock
from the configured base URL with a timeout, and refreshed at most once per call.

wechatpy's stock client fetches ``gettoken`` from WeCom's own host whatever ``API_BASE_URL``
says, with no timeout, and replays a call after a token error for as long as the error lasts.
"""

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException

T = TypeVar("T")

# expired (42001), invalid (40014) or missing (41001) access token: fetch a new one, try again
TOKEN_ERRORS = frozenset({40014, 41001, 42001})


class WeComClient(WeChatClient):
    def __init__(self, corp_id: str, secret: str, *, api_base_url: str, timeout: float = 10.0):
        self.API_BASE_URL = api_base_url  # this client only: the class attribute is WeCom's host
        super().__init__(corp_id, secret, timeout=timeout, auto_retry=False)
        self._token_lock = threading.Lock()

    @property
    def access_token(self) -> str:
        """The cached token while it has over a minute left; else one fetch for all threads."""
        with self._token_lock:
            token = self.session.get(self.access_token_key)
            if token and (self.expires_at or 0) - time.time() > 60:
                return token
            self.fetch_access_token()
            return self.session.get(self.access_token_key)

    def fetch_access_token(self) -> dict:
        res = self._http.get(
            self.API_BASE_URL + "gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg"), client=self)
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    def forget_token(self, stale: str | None) -> None:
        """Drop the cached token if it is still ``stale`` (another thread may have renewed it)."""
        with self._token_lock:
            if self.session.get(self.access_token_key) == stale:
                self.session.delete(self.access_token_key)
                self.expires_at = None

    def calling(self, call: Callable[[], T]) -> T:
        """``call()``; after a token error, once more with a freshly fetched token."""
        used = self.access_token  # the token the call will use (fetched now if need be)
        try:
            return call()
        except WeChatClientException as err:
            if err.errcode not in TOKEN_ERRORS:
                raise
        self.forget_token(used)
        return call()
