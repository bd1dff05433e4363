"""``python -m simpletrader``: the command line."""

from simpletrader.cli import main

# Guarded so process pools that spawn (macOS, Windows) do not start the CLI in every worker.
if __name__ == "__main__":
    main()
