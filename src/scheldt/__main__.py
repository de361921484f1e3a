"""``python -m scheldt``: the ``scheldt`` command (:func:`scheldt.cli.main`), for a checkout or a
virtual environment whose scripts folder is not on PATH."""

from scheldt.cli import main

main()
