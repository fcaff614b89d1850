"""What gunicorn or uwsgi import: ``gunicorn wsgi:app``."""

import sys

from oai import create_app
from oai.config import ConfigError

try:
    app = create_app()
except ConfigError as error:
    # One line instead of a traceback. Exit status 4 is gunicorn's "the application
    # cannot be loaded": its master stops at once instead of restarting the worker.
    print(f"oaipress: {error}", file=sys.stderr, flush=True)
    raise SystemExit(4) from None
