"""A page whose total is already known (P4: the inbox's tab counts hold it), so no second COUNT."""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator


class KnownCountPaginator(Paginator):
    """`Paginator` with the number of items given by the caller, who counted the very same
    rows in the same request (e.g. the 待办 total of the inbox counts): one COUNT fewer."""

    def __init__(self, object_list, per_page, *args, known_count: int, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self._known_count = known_count

    @cached_property
    def count(self) -> int:
        return self._known_count
