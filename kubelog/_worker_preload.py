"""Imported first by the worker processes' fork server (``workers.PRELOAD``): see
:mod:`kubelog._arrow_alone`."""
from ._arrow_alone import arrow_without_pandas

arrow_without_pandas()
