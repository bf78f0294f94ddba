"""The service people use: API with roles, live alerts, exports and the map dashboard.

``trucewatch.service.app.create_app(store, agreement, config)`` builds the FastAPI app
(``trucewatch.service.config.ServiceConfig`` its settings); ``trucewatch serve`` runs it.
This package module imports nothing, so the command line starts fast.
"""
