"""Command-line entry points (`make provision`, `make forms`, `make reconcile`, `make replay`): thin,
like the functions beside them: read the settings, call the library, print in French, exit."""
