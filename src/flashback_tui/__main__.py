"""Allow ``python -m flashback_tui``."""

from flashback_tui.cli import main

if __name__ == "__main__":
    main()
