"""Serves the test frontend (../build) as a JupyterLab application on Debian's
jupyter_server 1.x + jupyterlab_server, the way the `jupyterlab` Python package
serves its own build.

jupyter_server 1.x lacks endpoints of jupyter_server 2 that JupyterLab 4 calls:
`/api/me` and the `/api/events/subscribe` websocket at start-up, and `/api/resolvePath`
when an output shows a file path (e.g. a stack trace). The small handlers below stand
in for them, so that the page runs without failed requests or console errors.
"""

import json
import os

from jupyter_server.base.handlers import APIHandler
from jupyterlab_server import LabServerApp
from tornado import web
from tornado.websocket import WebSocketHandler

HERE = os.path.dirname(os.path.abspath(__file__))
UI_TESTS = os.path.dirname(HERE)
BUILD = os.path.join(UI_TESTS, "build")
STATE = os.environ.get("VRE_UI_STATE_DIR", os.path.join(UI_TESTS, ".state"))


class MeHandler(APIHandler):
    """The current user, in the shape jupyter_server 2's `/api/me` returns."""

    @web.authenticated
    def get(self):
        identity = {
            "username": "tester",
            "name": "Tester",
            "display_name": "Tester",
            "initials": "T",
            "avatar_url": None,
            "color": None,
        }
        self.finish(json.dumps({"identity": identity, "permissions": {}}))


class EventsHandler(WebSocketHandler):
    """Accepts the event-bus websocket of jupyter_server 2; no events are sent."""

    def check_origin(self, origin):
        return True

    def on_message(self, message):
        pass


def _add_server_urls(handler, page_config):
    # The frontend derives every REST and websocket URL from `baseUrl`; the
    # `jupyterlab` package adds it to the page config, jupyterlab_server alone does not.
    page_config.setdefault("baseUrl", handler.base_url)
    page_config.setdefault("wsUrl", "")
    page_config.setdefault("token", "")
    return page_config


class ResolvePathHandler(APIHandler):
    """Tells the frontend whether a path shown in an output is a file it can open.

    Only the server scope is answered (paths inside the server's root folder); the
    kernel scope of jupyter_server 2 needs the kernel's working folder, which
    jupyter_server 1.x does not track, so such paths are reported unresolved.
    """

    @web.authenticated
    def get(self):
        path = self.get_argument("path", "")
        root = os.path.realpath(self.settings["server_root_dir"])
        candidate = os.path.realpath(path if os.path.isabs(path) else os.path.join(root, path))
        resolved, unresolved = [], []
        if (candidate == root or candidate.startswith(root + os.sep)) and os.path.exists(candidate):
            resolved.append({"scope": "server", "path": os.path.relpath(candidate, root)})
        else:
            unresolved.append({"scope": "server", "path": path})
        if self.get_argument("kernel", None):
            unresolved.append({"scope": "kernel", "path": path})
        self.finish(json.dumps({"resolved": resolved, "unresolved": unresolved}))


class VreTsLabApp(LabServerApp):
    name = "vre_ts_lab"
    app_name = "vre-ts test frontend"
    app_version = "4.6.3"
    extension_url = "/lab"
    default_url = "/lab"
    load_other_extensions = False

    app_dir = BUILD
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    app_settings_dir = os.path.join(STATE, "app-settings")
    user_settings_dir = os.path.join(STATE, "user-settings")
    workspaces_dir = os.path.join(STATE, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        self.settings["page_config_hook"] = _add_server_urls

    def initialize_handlers(self):
        super().initialize_handlers()
        self.handlers += [
            (r"/api/me", MeHandler),
            (r"/api/events/subscribe", EventsHandler),
            (r"/api/resolvePath", ResolvePathHandler),
        ]


def _jupyter_server_extension_points():
    # jupyter_server looks this up on the module to load the extension app.
    return [{"module": __name__, "app": VreTsLabApp}]


if __name__ == "__main__":
    VreTsLabApp.launch_instance()
