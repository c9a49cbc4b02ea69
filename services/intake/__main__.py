"""``python -m services.intake``: run the intake service."""

from services.common.runner import serve
from services.intake.app import create_app
from services.intake.settings import IntakeSettings

if __name__ == "__main__":
    serve(create_app, default_port=8001, log_level=IntakeSettings().log_level)
