"""Operations endpoints and the JSON error handlers."""

from __future__ import annotations

from typing import Any

from connector.app import create_app
from connector.storage import tenants

from .conftest import Key, make_settings


def test_healthz_checks_the_database(client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_a_lost_database(tmp_path: Any) -> None:
    db_file = tmp_path / "gone.db"
    app = create_app(make_settings(f"sqlite:///{db_file}"))
    database = app.extensions["billrun_connector.runtime"].database
    database.dispose()
    db_file.unlink()
    db_file.mkdir()  # a folder where the file was: SQLite cannot open it
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}
    database.dispose()


def test_openapi_document_describes_the_rest_api(client: Any) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/hooks",
        "/api/v1/hooks/{subscription_id}",
        "/api/v1/hooks/{subscription_id}/rotate-secret",
        "/api/v1/events",
        "/api/v1/events/{event_type}",
        "/api/v1/events/{event_type}/samples",
        "/api/v1/me",
    ):
        assert path in spec["paths"], path
    create = spec["paths"]["/api/v1/hooks"]["post"]
    assert "201" in create["responses"]
    schemas = spec["components"]["schemas"]
    assert {"target_url", "events", "description", "metadata"} <= set(schemas["HookCreate"]["properties"])
    assert "secret" in schemas["HookWithSecret"]["properties"]
    assert "error" in schemas["Error"]["properties"]
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKeyHeader", "apiKeyQuery"}
    plugin = spec["paths"]["/plugins/webhooks/{action}/{webhook_id}"]
    assert {"get", "post"} <= set(plugin)
    assert {p["name"] for p in plugin["parameters"]} == {"action", "webhook_id"}
    assert "webhook_secret" in schemas["PluginWebhook"]["properties"]


def test_docs_page_is_served_with_its_own_assets(client: Any) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/openapi.json" in html
    assets = [part.split('"')[0] for part in html.split('="')[1:] if part.startswith("/docs/assets/")]
    assert len(assets) >= 3
    for asset in assets:
        with client.get(asset) as response:
            assert response.status_code == 200, asset
            assert len(response.data) > 1000
    assert "http://" not in html and "https://" not in html


def test_unknown_path_and_method_are_json(client: Any, key: Key) -> None:
    missing = client.get("/nothing/here")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/me", headers=key.headers)
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_oversized_body_is_413_json(db_url: str) -> None:
    app = create_app(make_settings(db_url, max_body_bytes=1000))
    try:
        with app.extensions["billrun_connector.runtime"].database.session() as session:
            _, plaintext = tenants.create_api_key(session, tenants.get_or_create_tenant(session, "acme"))
        response = app.test_client().post(
            "/api/v1/hooks", data="x" * 5000, headers={"Content-Type": "application/json", "X-API-Key": plaintext}
        )
        assert response.status_code == 413
        assert response.json["error"]["code"] == "payload_too_large"
        assert "limit of 1000 bytes" in response.json["error"]["message"]
    finally:
        app.extensions["billrun_connector.runtime"].database.dispose()


def test_unexpected_errors_are_json_500(app: Any) -> None:
    def explode() -> None:
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", explode)
    response = app.test_client().get("/explode")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "boom" not in response.get_data(as_text=True)
