"""``python -m photoguard``: the same command line as the ``photoguard`` script."""

from photoguard.cli.main import app

if __name__ == "__main__":
    app(prog_name="photoguard")
