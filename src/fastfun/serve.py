"""``fastfun serve``: the API under gunicorn, a production WSGI server (not Flask's own).

gunicorn logs every request to stderr and stops gracefully on SIGTERM and SIGINT.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from fastfun.app import create_app


class _Server(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve until SIGTERM or SIGINT."""
    _Server(
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "accesslog": "-",
            "errorlog": "-",
            "graceful_timeout": 5,
            "proc_name": "fastfun",
        }
    ).run()
