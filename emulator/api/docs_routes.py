"""/_fcemu/docs: Swagger UI over /_fcemu/openapi.json, every file served by the emulator itself (see
emulator/api_docs), with the page headers of the emulator's own pages."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from emulator.api.page_headers import DOCS_CSP, DOCS_PATH, PageHeaders
from emulator.api_docs import STATIC_DIR, SWAGGER_UI_DIR


async def _docs_root() -> RedirectResponse:
    return RedirectResponse(f"{DOCS_PATH}/")


def install(app: FastAPI) -> None:
    app.add_api_route(DOCS_PATH, _docs_root, methods=["GET"], include_in_schema=False)
    # The longer prefix first: a mount takes every path below it.
    app.mount(f"{DOCS_PATH}/swagger-ui/", PageHeaders(StaticFiles(directory=SWAGGER_UI_DIR), DOCS_CSP),
              name="swagger-ui")
    app.mount(f"{DOCS_PATH}/", PageHeaders(StaticFiles(directory=STATIC_DIR, html=True), DOCS_CSP), name="docs")
