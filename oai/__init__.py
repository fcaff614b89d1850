"""oaipress: an OAI-PMH 2.0 data provider for journal articles and their rights."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from oai.config import check_settings, load_settings
from oai.formats import formats
from oai.hosts import register as register_hosts
from oai.http_errors import register as register_http_errors
from oai.protocol.rendering import ProtocolRenderer, about_rights
from oai.protocol.tokens import TokenCodec
from oai.protocol.verbs import Repository
from oai.store import RENDER_SIGNATURE, Store


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Defaults, then OAIPRESS_CONFIG and the environment, then ``overrides`` (tests)."""
    app = Flask(__name__, static_folder=None)  # static files are the pages blueprint's
    settings = check_settings({**load_settings(), **(overrides or {})})
    app.config.update(settings)
    store = Store(
        settings["OAIPRESS_DATABASE_URL"], read_url=settings["OAIPRESS_READ_DATABASE_URL"]
    )
    renderer = ProtocolRenderer(
        settings["OAIPRESS_REPOSITORY_IDENTIFIER"], formats(settings["OAIPRESS_FORMATS"])
    )
    secret = settings["OAIPRESS_SECRET_KEY"] or store.shared_secret()
    app.extensions["oaipress.store"] = store
    app.extensions["oaipress.renderer"] = renderer
    app.extensions["oaipress.repository"] = Repository(
        name=settings["OAIPRESS_REPOSITORY_NAME"],
        base_url=settings["OAIPRESS_BASE_URL"] or "",
        admin_emails=tuple(
            e.strip() for e in str(settings["OAIPRESS_ADMIN_EMAIL"]).split(",") if e.strip()
        ),
        identifier=settings["OAIPRESS_REPOSITORY_IDENTIFIER"],
        metadata_license=settings["OAIPRESS_METADATA_LICENSE"],
        formats=renderer.formats,
        codec=TokenCodec(secret, settings["OAIPRESS_TOKEN_TTL"]),
        about=about_rights(settings["OAIPRESS_METADATA_LICENSE"]),
        records_page_size=settings["OAIPRESS_LIST_RECORDS_PAGE_SIZE"],
        identifiers_page_size=settings["OAIPRESS_LIST_IDENTIFIERS_PAGE_SIZE"],
        sets_page_size=settings["OAIPRESS_LIST_SETS_PAGE_SIZE"],
        list_clock=None if store.clock_is_local else store.list_clock,
        check_replayed=store.check_replayed if store.has_replica else None,
    )
    stored_signature = store.setting(RENDER_SIGNATURE)
    if stored_signature is None:
        store.set_setting(RENDER_SIGNATURE, renderer.signature())
    app.extensions["oaipress.stale"] = stored_signature not in (None, renderer.signature())
    register_http_errors(app)
    register_hosts(app)
    if settings["OAIPRESS_PROXY_COUNT"]:
        count = settings["OAIPRESS_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count, x_prefix=count
        )

    from oai.pages import register as register_pages
    from oai.protocol.views import bp

    app.register_blueprint(bp)
    register_pages(app)
    return app
