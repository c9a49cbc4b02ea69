"""Haven as a ThreatExchange / HMA exchange: a ``SignalExchangeAPI`` over the pull feed.

Meta's Hasher-Matcher-Actioner and the ``threatexchange`` CLI fetch hash lists through the
``threatexchange`` package's ``SignalExchangeAPI``. This module is a TX extension (it exports
``TX_MANIFEST``), so an operator adds Haven without writing code::

    pip install threatexchange            # plus this repository (or this one module)
    threatexchange config extensions add services.distributor.adapters.threatexchange
    echo "hvn_<your key>" > ~/.tx_haven_api_key      # or export TX_HAVEN_API_KEY=...
    threatexchange config collab edit haven "Haven" --create --url https://haven.example.org
    threatexchange fetch

Mapping: the checkpoint is our opaque feed cursor, so each fetch resumes exactly where the
last one ended. Every feed entry becomes an update keyed ``(signal type, value)``: an active
entry carries ``HavenSignalMetadata``; a withdrawn or quarantined one carries ``None``, which
TX treats as a deletion, so withdrawals remove the hash. Haven's ``pdq`` maps to TX's
``pdq``, ``md5`` to ``video_md5`` (TX's only MD5 signal type); ``vpdq`` entries are skipped
(TX's vPDQ extension uses a different value format). Only the standard library is used for
HTTP, so the module has no dependency beyond ``threatexchange``. (No ``from __future__ import
annotations`` here: the TX CLI reads the collab config's field types at runtime.)
"""

import json
import time
import typing as t
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from threatexchange.exchanges import auth
from threatexchange.exchanges import fetch_state as state
from threatexchange.exchanges.collab_config import CollaborationConfigWithDefaults
from threatexchange.exchanges.signal_exchange_api import SignalExchangeAPIWithSimpleUpdates
from threatexchange.extensions.manifest import ThreatExchangeExtensionManifest
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.signal_base import SignalType

API_NAME = "haven"
PAGE_LIMIT = 1000
TX_TYPE_OF_HAVEN_SIGNAL = {"pdq": PdqSignal.get_name(), "md5": VideoMD5Signal.get_name()}

Key = tuple[str, str]


@dataclass
class HavenCheckpoint(state.FetchCheckpointBase):
    """Where the next fetch resumes: Haven's opaque feed cursor."""

    cursor: str
    last_fetch_time: int

    def get_progress_timestamp(self) -> int | None:
        return self.last_fetch_time


@dataclass
class HavenSignalMetadata(state.FetchedSignalMetadata):
    """An active Haven entry: a fingerprint a young person asked platforms to block."""

    sequence: int
    status: str

    def get_as_opinions(self) -> t.Sequence[state.SignalOpinion]:
        return [state.SignalOpinion(False, state.SignalOpinionCategory.POSITIVE_CLASS, set())]


@dataclass
class HavenCollabConfig(CollaborationConfigWithDefaults):
    api: str = field(init=False, default=API_NAME)
    url: str = field(
        default="",
        metadata={"help": "the Haven distributor's base URL, e.g. https://haven.example"},
    )


@dataclass
class HavenCredentials(auth.CredentialHelper):
    ENV_VARIABLE: t.ClassVar[str] = "TX_HAVEN_API_KEY"
    FILE_NAME: t.ClassVar[str] = "~/.tx_haven_api_key"

    api_key: str = field(metadata={"help": "your platform's Haven API key (hvn_...)"})

    @classmethod
    def _from_str(cls, s: str) -> "HavenCredentials":
        return cls(s.strip())

    def _are_valid(self) -> bool:
        return self.api_key.startswith("hvn_")


class HavenSignalExchangeAPI(
    auth.SignalExchangeWithAuth[HavenCollabConfig, HavenCredentials],
    SignalExchangeAPIWithSimpleUpdates[HavenCollabConfig, HavenCheckpoint, HavenSignalMetadata],
):
    """Fetches a platform's Haven list through ``GET /v1/feed``."""

    def __init__(self, collab: HavenCollabConfig, api_key: str, page_limit: int = PAGE_LIMIT):
        super().__init__()
        if urllib.parse.urlsplit(collab.url).scheme not in ("https", "http"):
            raise ValueError(f"{collab.url!r}: the Haven collab needs --url https://...")
        self.collab = collab
        self.api_key = api_key
        self.page_limit = page_limit

    @classmethod
    def get_name(cls) -> str:
        return API_NAME

    @staticmethod
    def get_config_cls() -> type[HavenCollabConfig]:
        return HavenCollabConfig

    @staticmethod
    def get_checkpoint_cls() -> type[HavenCheckpoint]:
        return HavenCheckpoint

    @staticmethod
    def get_record_cls() -> type[HavenSignalMetadata]:
        return HavenSignalMetadata

    @staticmethod
    def get_credential_cls() -> type[HavenCredentials]:
        return HavenCredentials

    @classmethod
    def for_collab(
        cls, collab: HavenCollabConfig, credentials: HavenCredentials | None = None
    ) -> "HavenSignalExchangeAPI":
        credentials = credentials or HavenCredentials.get(cls)
        return cls(collab, credentials.api_key)

    def _page(self, cursor: str) -> dict[str, t.Any]:
        query = urllib.parse.urlencode({"cursor": cursor, "limit": self.page_limit})
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self.collab.url.rstrip('/')}/v1/feed?{query}",
            headers={"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            page: dict[str, t.Any] = json.loads(response.read())
        return page

    def fetch_iter(
        self,
        _supported_signal_types: t.Sequence[type[SignalType]],
        checkpoint: HavenCheckpoint | None,
    ) -> t.Iterator[state.FetchDelta[Key, HavenSignalMetadata, HavenCheckpoint]]:
        cursor = checkpoint.cursor if checkpoint is not None else ""
        while True:
            page = self._page(cursor)
            updates: dict[Key, HavenSignalMetadata | None] = {}
            for entry in page["entries"]:
                tx_type = TX_TYPE_OF_HAVEN_SIGNAL.get(entry["signal"])
                if tx_type is None:
                    continue
                active = entry["status"] == "active"
                updates[(tx_type, entry["value"])] = (
                    HavenSignalMetadata(entry["sequence"], entry["status"]) if active else None
                )
            cursor = page["next_cursor"]
            yield state.FetchDelta(updates, HavenCheckpoint(cursor, int(time.time())))
            if not page["has_more"]:
                return


TX_MANIFEST = ThreatExchangeExtensionManifest(apis=(HavenSignalExchangeAPI,))
