"""One exception hierarchy: messages say what was wrong and what to do."""


class EocatError(Exception):
    """Base of every error eocat raises on purpose; the CLI prints it without a traceback."""

    exit_code = 1


class InvalidQuery(EocatError):
    """A search parameter is malformed (bbox, datetime, CQL2, sortby, token …). HTTP 400."""

    exit_code = 2


class InvalidItem(EocatError):
    """A STAC item or collection document cannot be stored (missing id, geometry, datetime …)."""


class NotFound(EocatError):
    """A collection or item that does not exist. HTTP 404."""

    exit_code = 3


class StoreBusy(EocatError):
    """Another process held the catalogue's write lock for longer than the store waits."""


class NotACatalogue(NotFound):
    """``--db`` names a file that is not an eocat catalogue (not SQLite, or another program's database)."""
