"""Command-line faces of streamvoice; each subcommand lives in its own module."""
