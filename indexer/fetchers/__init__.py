"""Provider-specific fetch steps and authenticators, registered into :mod:`catalog.fetch` via entry points."""
