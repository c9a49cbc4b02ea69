"""``python -m services.matcher``: run the matcher service."""

from services.common.runner import serve
from services.matcher.app import create_app
from services.matcher.settings import MatcherSettings

if __name__ == "__main__":
    serve(create_app, default_port=8003, log_level=MatcherSettings().log_level)
