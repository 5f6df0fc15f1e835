"""The web UI: server-rendered pages under ``/webui/`` over the core services."""
