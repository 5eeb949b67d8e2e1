"""The page of /_fcemu/docs (Swagger UI over /_fcemu/openapi.json) and where Swagger UI's own files come from:
fastapi-offline's copy, installed with fcemu, so that the page works offline and loads nothing from elsewhere."""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
# swagger-ui-bundle.js and swagger-ui.css (Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes).
SWAGGER_UI_DIR = Path(str(files("fastapi_offline") / "static"))
