"""What gunicorn or uwsgi import: ``gunicorn wsgi:app``."""

from oai import create_app

app = create_app()
