"""Loopback imitations of the Cekat and Convotic APIs for tests, demos and benchmarks."""

from imitations.base import RecordedRequest, Response
from imitations.cekat import CekatData
from imitations.convotic import ConvoticData
from imitations.server import ImitationServer

__all__ = ["CekatData", "ConvoticData", "ImitationServer", "RecordedRequest", "Response"]
