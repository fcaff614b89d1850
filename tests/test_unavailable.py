"""§3.1.2.2: when the database cannot answer, harvesters get 503 with Retry-After, not 500."""

from __future__ import annotations

from records.db import make_engine


def _use_engine(app, engine):
    app.extensions["oaipress.store"].read_engine = engine


def test_unreachable_database_answers_503_with_retry_after(make_app):
    app = make_app(OAIPRESS_RETRY_AFTER=120)
    engine = make_engine(
        "postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    _use_engine(app, engine)
    response = app.test_client().get("/oai?verb=Identify")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "120"
    assert b"unavailable" in response.get_data()
    engine.dispose()


def test_saturated_connection_pool_answers_503_instead_of_waiting(make_app, database_url):
    app = make_app()
    engine = make_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    _use_engine(app, engine)
    held = engine.connect()  # every connection of the pool is busy
    try:
        response = app.test_client().get("/oai?verb=Identify")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "60"
    finally:
        held.close()
    assert app.test_client().get("/oai?verb=Identify").status_code == 200
    engine.dispose()
