// Swagger UI over fcemu's OpenAPI description. A file, not an inline script, so that the page's CSP can forbid
// inline scripts; no validator badge (it would load an image from elsewhere).
"use strict";

window.ui = SwaggerUIBundle({
  url: "/_fcemu/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
