"""The web app: Twilio webhooks now, the dashboard later (:func:`create_app`)."""

from harness.web.app import create_app

__all__ = ["create_app"]
