"""`python -m streamvoice` runs the CLI."""

from streamvoice.cli.main import main

raise SystemExit(main())
