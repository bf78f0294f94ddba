// Swagger UI start-up, kept out of the page so a strict Content-Security-Policy (no inline script) allows it.
window.ui = SwaggerUIBundle({
  url: document.body.dataset.openapi || "/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset].filter(Boolean),
  layout: "BaseLayout",
  deepLinking: true,
  persistAuthorization: true,
  showExtensions: true,
});
