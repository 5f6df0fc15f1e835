"""``analyze_deferred_playlist_items``: analyse items' content now and record the findings.

Items imported from playlists are not analysed on import (that would fetch every URL of a
100,000-entry list); a client asks for the ones it is about to show. Each item is analysed
on its own, so one unreachable item does not fail the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tidecast.core.content import Analysis, ContentService
from tidecast.core.errors import InvalidInput, TidecastError
from tidecast.core.playback_links import reference_of
from tidecast.core.playlists import PlaylistService


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    item_id: int
    analysis: Analysis | None
    error: TidecastError | None


async def analyze_items(
    playlists: PlaylistService,
    content: ContentService,
    item_ids: Sequence[int],
    *,
    caller_is_local: bool,
) -> list[ItemAnalysis]:
    results: list[ItemAnalysis] = []
    for item_id in item_ids:
        try:
            item = await playlists.get_item(item_id)
            query = reference_of(item)
            if query is None:
                raise InvalidInput(f"item {item_id} has nothing to analyse")
            analysis = await content.analyze(query, caller_is_local=caller_is_local)
            await playlists.record_analysis(
                item_id,
                is_live=analysis.is_live,
                content_id=analysis.content_id,
                infohash=analysis.infohash,
            )
            results.append(ItemAnalysis(item_id, analysis, None))
        except TidecastError as exc:
            results.append(ItemAnalysis(item_id, None, exc))
    return results
